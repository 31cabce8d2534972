"""Training: samples from clips and synthetic motion, batches, losses, the trainer, and what `vfi train` does."""
