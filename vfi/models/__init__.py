"""Learned interpolators: networks, their checkpoints, and the adapter to the common interface."""
