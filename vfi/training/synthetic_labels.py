"""Labelled windows of synthetic motion for the taught motion's student: exact flows and visibility
where real windows have a teacher's guess.

The training clips move little, and where they move far the teacher is often wrong. Photos moved far
and along curved paths, with sprites crossing them (`DeviceScenes`), give the large, fast and
occluding motion the student must learn, with its truth at every t. Windows are written in the
teacher's format (`MotionCrops`), so that both train the student alike; one file per window, so a
run that stops goes on where it stopped.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F

from vfi.models.seed import dis_flows
from vfi.training.device_scenes import DeviceScenes
from vfi.training.motion_labels import CROP, MotionCrops, random_crops


def frame0_weight(paths: torch.Tensor, top: torch.Tensor, times: torch.Tensor) -> torch.Tensor:
    """(B, T, h, w): how much of frame 0's warp the picture at each t takes, from what is seen where:
    1 - t where a pixel's layer is seen in both frames, 1 where only in frame 0, 0 where only in frame 1.
    paths (B, 2 + T, 4, h, w) and top (B, 2 + T, h, w) as `DeviceScenes.render_paths` gives them."""
    b, n = times.shape
    h, w = top.shape[-2:]
    ys, xs = torch.meshgrid(torch.arange(h, dtype=torch.float32), torch.arange(w, dtype=torch.float32), indexing="ij")

    def seen_in(k: int, flow: torch.Tensor) -> torch.Tensor:
        x, y = xs + flow[:, :, 0], ys + flow[:, :, 1]  # (B, T, h, w) where each pixel lands in frame k
        grid = torch.stack([2 * x / (w - 1) - 1, 2 * y / (h - 1) - 1], -1).flatten(0, 1)
        there = top[:, k:k + 1].float().expand(-1, n, -1, -1).flatten(0, 1)[:, None]
        layer = F.grid_sample(there, grid, mode="nearest", padding_mode="border", align_corners=True)[:, 0].view(b, n, h, w)
        inside = (x >= 0) & (x <= w - 1) & (y >= 0) & (y <= h - 1)
        return (layer == top[:, 2:].float()) & inside

    in0, in1 = seen_in(0, paths[:, 2:, 0:2]), seen_in(1, paths[:, 2:, 2:4])
    t = times[:, :, None, None].float()
    both_or_neither = in0 == in1
    return torch.where(both_or_neither, 1 - t, in0.float())


def synthetic_windows(scenes: DeviceScenes, g: torch.Generator, count: int, side: int, times: torch.Tensor,
                      crops: int, rng: np.random.Generator, crop: int = CROP) -> list[MotionCrops]:
    """`count` scenes of `side` pixels at the working size, each a window with `crops` random crops;
    times (T,) shared by the scenes. DIS motion is computed on the whole frames, as `flow` does."""
    times_b = times.float().expand(count, -1)
    frames, paths, top = scenes.render_paths(g, count, side, times_b)
    weight0 = frame0_weight(paths, top, times_b)
    pictures = (frames * 255).round().clamp(0, 255).to(torch.uint8).permute(0, 1, 3, 4, 2).numpy()
    labels = torch.cat([paths[:, 2:], weight0[:, :, None]], 2).numpy()  # (B, T, 5, h, w)
    return [random_crops(pictures[s, 0], pictures[s, 1], dis_flows(pictures[s, 0], pictures[s, 1], (side, side)),
                         times.numpy(), pictures[s, 2:], labels[s], crops, rng, crop) for s in range(count)]


def random_times(rng: np.random.Generator, count: int = 3, denominator: int = 16) -> torch.Tensor:
    """`count` distinct times j / denominator in (0, 1), sorted, always with the middle."""
    others = rng.choice([j for j in range(1, denominator) if 2 * j != denominator], count - 1, replace=False)
    return torch.tensor(sorted([0.5, *(int(j) / denominator for j in others)]))


def synthesise(folder: Path, scenes: DeviceScenes, windows: int, side: int = 320, crops: int = 2, per_call: int = 8,
               seed: int = 0, log: Callable[[str], None] = print) -> dict:
    """Write windows `synthetic_00000.npz`... to `folder` until it holds `windows`; each call of the
    renderer makes `per_call` scenes from a generator seeded by its first index, so a run that stopped
    goes on with the same scenes it would have made."""
    folder.mkdir(parents=True, exist_ok=True)
    began, made = time.perf_counter(), 0
    for first in range(0, windows, per_call):
        names = [folder / f"synthetic_{i:05d}.npz" for i in range(first, min(windows, first + per_call))]
        if all(p.is_file() for p in names):
            continue
        g = torch.Generator().manual_seed(seed * 1_000_003 + first)
        rng = np.random.default_rng([seed, first])
        got = synthetic_windows(scenes, g, len(names), side, random_times(rng), crops, rng)
        for path, window in zip(names, got):
            window.save(path)
        made += len(names)
        log(f"{first + len(names)}/{windows} windows, {made / (time.perf_counter() - began):.1f} windows/s")
    return {"windows": made, "seconds": round(time.perf_counter() - began)}
