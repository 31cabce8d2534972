"""Training batches, drawn in the training process or in worker processes, reproducibly from a seed.

A GPU steps through a small network far faster than one CPU core can render synthetic
scenes and compute DIS seeds, so `vfi train --workers N` moves the drawing into N
processes. Each worker has its own generator, seeded by (seed, first step, worker), and
the loader takes batches from the workers in turn, so a run is repeatable for a given N.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator, Optional, Sequence

import numpy as np
import torch

from vfi.training.samples import ClipWindows, Sample, SyntheticMotion, augment, to_batch
from vfi.models.seed import seed_after


@dataclass
class Batch:
    frame0: torch.Tensor  # (B, 3, H, W) float in [0, 1]
    frame1: torch.Tensor
    target: torch.Tensor
    times: torch.Tensor  # (B, 1)
    seed: Optional[torch.Tensor]  # (B, 4, H, W) DIS flows for seeded models, else None


class SampleMix:
    """Real-clip and synthetic samples mixed in a fixed proportion, augmented, stacked into batches.

    A `chained` fraction of the pairs that have a pair before them are seeded as a video's
    pairs are, from that pair's motion; the rest from rest, as a video's first pair or a
    lone triplet is.
    """

    def __init__(self, clips: Sequence[ClipWindows], synthetic: Optional[SyntheticMotion],
                 synthetic_fraction: float, crop: int, motion_seed: bool, chained: float = 0.0):
        self.clips = list(clips)
        self.synthetic = synthetic
        self.synthetic_fraction = synthetic_fraction
        self.crop = crop
        self.motion_seed = motion_seed
        self.chained = chained

    def draw(self, rng: np.random.Generator) -> Sample:
        # without chaining no draw is spent on it (so runs made without it repeat exactly) and no
        # neighbour frame is cropped or rendered
        chains = self.motion_seed and self.chained > 0
        use_synth = self.synthetic is not None and (not self.clips or rng.random() < self.synthetic_fraction)
        if use_synth:
            s = self.synthetic.sample(rng, self.crop, neighbours=chains)
        else:
            s = self.clips[int(rng.integers(len(self.clips)))].sample(rng, self.crop, neighbours=chains)
        s = augment(s, rng)
        return s if chains and rng.random() < self.chained else s.alone()

    def collate(self, samples: Sequence[Sample]) -> Batch:
        f0, f1, target, times, u0, u1 = to_batch(samples)
        seed = None
        if self.motion_seed:
            size = tuple(f0.shape[-2:])
            seed = torch.from_numpy(np.stack([seed_after(s.before, a, b, size) for s, a, b in zip(samples, u0, u1)]))
        return Batch(f0, f1, target, times, seed)

    def batch(self, rng: np.random.Generator, size: int) -> Batch:
        return self.collate([self.draw(rng) for _ in range(size)])


class _WorkerStream(torch.utils.data.IterableDataset):
    """An endless stream of batches; each worker process draws from its own seeded generator."""

    def __init__(self, mix: SampleMix, batch_size: int, seed: int, first_step: int):
        self.mix, self.batch_size, self.seed, self.first_step = mix, batch_size, seed, first_step

    def __iter__(self) -> Iterator[Batch]:
        worker = torch.utils.data.get_worker_info()
        wid = worker.id if worker else 0
        # one thread each: the parallelism is the workers (OpenCV's thread count is left alone,
        # since changing it in a forked child can deadlock on the parent's OpenMP state)
        torch.set_num_threads(1)
        rng = np.random.default_rng([self.seed, self.first_step, wid])
        while True:
            yield self.mix.batch(rng, self.batch_size)


def worker_batches(mix: SampleMix, batch_size: int, workers: int, seed: int, first_step: int) -> Iterator[Batch]:
    """Batches from `workers` processes, taken in turn (so the sequence is fixed by the arguments)."""
    loader = torch.utils.data.DataLoader(_WorkerStream(mix, batch_size, seed, first_step), batch_size=None,
                                         num_workers=workers, prefetch_factor=4)
    return iter(loader)
