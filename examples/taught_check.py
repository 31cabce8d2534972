"""Score a taught-motion checkpoint on the held-out labelled windows (every 10th, as in training) beside
the classical path it starts from and the teacher's own motion (pooled to the grid, upsampled):
mean PSNR of each, where the teacher beats the classical path, and the student's gain per crop. With
--all, every window of a folder kept apart from training is scored: synthetic windows made with
another --seed, whose "teacher" is the exact motion.

    python examples/taught_check.py LABELS weights/taught.pt [--every 1] [--all]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from vfi.core.metrics import psnr
from vfi.models.checkpoint import load_network
from vfi.models.taught import GRID, TaughtConfig, TaughtMotionNet, render
from vfi.training.motion_labels import MotionCrops, window_paths
from vfi.training.taught_fit import WindowPool, classical_path, teacher_trust


def frames8(x: torch.Tensor) -> np.ndarray:
    return np.rint(x.clamp(0, 1).movedim(0, -1).numpy() * 255).astype(np.uint8)


def classical_offset(b) -> torch.Tensor:
    """(B, T, h/GRID, w/GRID): the larger of the two intermediate flows' distances (px) between the
    classical path and the teacher's motion, pooled to the grid."""
    prior = F.avg_pool2d(torch.cat(classical_path(b), 2).flatten(0, 1), GRID).view(*b.teacher.shape[:2], 2, 2,
                                                                                  *b.teacher.shape[-2:])
    return (prior - b.teacher[:, :, :4].unflatten(2, (2, 2))).norm(dim=3).amax(2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("labels", type=Path)
    parser.add_argument("checkpoint", type=Path)
    parser.add_argument("--every", type=int, default=1, help="Score every n-th held-out window only.")
    parser.add_argument("--all", action="store_true", help="Every window is held out (a folder not trained on).")
    args = parser.parse_args()
    held = [p for n, p in enumerate(window_paths(args.labels)) if args.all or n % 10 == 5][::args.every]
    pool = WindowPool([MotionCrops.load(p) for p in held])
    student, _ = load_network(args.checkpoint)
    classical = TaughtMotionNet(TaughtConfig(**student.config.to_dict()))
    classical.load_state_dict(student.state_dict())
    with torch.no_grad():
        classical.field.out.weight.zero_(), classical.field.out.bias.zero_()
        classical.mask[-1].weight.zero_(), classical.mask[-1].bias.zero_()  # its zero start: the classical path
    scores = {"classical": [], "student": [], "teacher": []}
    off = []  # how far the classical path is from the teacher's motion, in the cells where the teacher renders better
    for n, size in pool.sizes.items():
        for start in range(0, size, 16):
            b = pool.take(n, np.arange(start, min(size, start + 16)))
            off.append(classical_offset(b)[teacher_trust(b)[:, :, 0] > 0])
            h, w = b.frame0.shape[-2:]
            up = F.interpolate(b.teacher.flatten(0, 1), size=(h, w), mode="bilinear",
                               align_corners=False).view(*b.teacher.shape[:3], h, w)
            with torch.no_grad():
                outs = {"classical": render(b.frame0, b.frame1, *classical(b.frame0, b.frame1, b.seed, b.times)),
                        "student": render(b.frame0, b.frame1, *student(b.frame0, b.frame1, b.seed, b.times)),
                        "teacher": render(b.frame0, b.frame1, up[:, :, :2], up[:, :, 2:4], up[:, :, 4:5])}
            for name, out in outs.items():
                scores[name] += [psnr(frames8(p), frames8(t)) for p, t in zip(out.flatten(0, 1), b.truths.flatten(0, 1))]
    s = {k: np.array(v) for k, v in scores.items()}
    print(f"{len(held)} windows, {len(s['student'])} frames")
    for name, v in s.items():
        print(f"{name}: {v.mean():.2f} dB")
    teacher = s["teacher"] - s["classical"]
    print(f"teacher beats the classical path on {100 * (teacher > 0).mean():.0f}% of the frames "
          f"(by {teacher[teacher > 0].mean():.2f} dB there, {teacher[teacher < 0].mean():.2f} elsewhere)")
    off = torch.cat(off).numpy()
    print(f"where the teacher renders better, the classical path is off by a median {np.median(off):.2f} px, "
          f"by more than 8 px in {100 * (off > 8).mean():.0f}% of the grid cells")
    gain = s["student"] - s["classical"]
    print(f"student against the classical path: mean {gain.mean():+.2f}, median {np.median(gain):+.2f}, "
          f"better on {100 * (gain > 0).mean():.0f}%, worst {gain.min():+.2f} dB")


if __name__ == "__main__":
    main()
