"""Benchmarks: datasets, scoring, the regression gate, and reports."""
