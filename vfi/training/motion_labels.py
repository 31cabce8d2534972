"""Training crops for the taught motion: real windows of large motion, the classical motion the student
starts from, the true frames between, and a teacher's intermediate flows and mask at those times.

A window is frames (s, s + k) of a training clip at `flow`'s working size, with k up to 16, so the
motion is large and the frames between are real: t = j / k has a true picture. The DIS flows are
computed on the whole working-size frames, as `flow` computes them, and the teacher labels the whole
pair at each t; then random crops are cut. The teacher's flows and mask are kept average-pooled to the
student's grid (1/4 of the working size: pooled that far they lose nothing, ../shared/notes).

Each window is one file, written whole or not at all, so labelling can stop and go on where it stopped.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional, Sequence

import cv2
import numpy as np

from vfi.models.seed import dis_flows
from vfi.models.taught import GRID
from vfi.motion.scale import FLOW_MAX_SIDE, working_size

CROP = 160  # side of a training crop at the working size


@dataclass
class MotionCrops:
    """N crops of one window, each with T times: frames (N, 2, h, w, 3) uint8, seed (N, 4, h, w) float16
    (DIS F01 then F10, working-size pixels), times (T,), truths (N, T, h, w, 3) uint8, teacher
    (N, T, 5, h/GRID, w/GRID) float16 (F_t->0, F_t->1 in working-size pixels, then the mask)."""

    frames: np.ndarray
    seed: np.ndarray
    times: np.ndarray
    truths: np.ndarray
    teacher: np.ndarray

    def save(self, path: Path) -> None:
        tmp = path.with_name(f".{path.name}.tmp.npz")
        np.savez(tmp, **{k: getattr(self, k) for k in ("frames", "seed", "times", "truths", "teacher")})
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> "MotionCrops":
        with np.load(path) as data:
            return cls(*(data[k] for k in ("frames", "seed", "times", "truths", "teacher")))


def pooled(planes: np.ndarray, grid: int = GRID) -> np.ndarray:
    """(C, H, W) -> (C, H/grid, W/grid), averaged over each cell (values kept in their own units)."""
    c, h, w = planes.shape
    return planes.reshape(c, h // grid, grid, w // grid, grid).mean(axis=(2, 4))


def shrink(frame: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    if frame.shape[:2] == size:
        return frame
    return cv2.resize(frame, (size[1], size[0]), interpolation=cv2.INTER_AREA)


def label_window(label: Callable, frames: Sequence[np.ndarray], start: int, step: int, times_j: Sequence[int],
                 crops: int, rng: np.random.Generator, crop: int = CROP) -> Optional[MotionCrops]:
    """Crops of window (start, start + step) with the truths and labels at t = j / step for j in `times_j`.
    `label(frame0, frame1, t)` is the teacher (`teacher.label_pair` with its network bound)."""
    h, w = frames[start].shape[:2]
    size = working_size(h, w, FLOW_MAX_SIDE)
    if min(size) < crop:
        return None
    f0, f1 = (shrink(frames[i][..., :3], size) for i in (start, start + step))
    seed = dis_flows(f0, f1, size)
    times = np.array([j / step for j in times_j], np.float32)
    truths = [shrink(frames[start + j][..., :3], size) for j in times_j]
    labels = []
    for t in times:
        got = label(f0, f1, float(t))
        labels.append(np.concatenate([got.flow_t0, got.flow_t1, got.mask[None]]))
    return random_crops(f0, f1, seed, times, truths, labels, crops, rng, crop)


def random_crops(f0: np.ndarray, f1: np.ndarray, seed: np.ndarray, times: np.ndarray, truths: Sequence[np.ndarray],
                 labels: Sequence[np.ndarray], crops: int, rng: np.random.Generator, crop: int = CROP) -> MotionCrops:
    """`crops` random crops, on the grid, of a whole working-size window: frames (h, w, 3), DIS seed
    (4, h, w), one truth (h, w, 3) and one label (5, h, w) per time; the labels are pooled to the grid."""
    h, w = f0.shape[:2]
    out = {k: [] for k in ("frames", "seed", "truths", "teacher")}
    for _ in range(crops):
        y = int(rng.integers(0, (h - crop) // GRID + 1)) * GRID
        x = int(rng.integers(0, (w - crop) // GRID + 1)) * GRID
        cut = np.s_[y:y + crop, x:x + crop]
        out["frames"].append(np.stack([f0[cut], f1[cut]]))
        out["seed"].append(seed[(slice(None), *cut)])
        out["truths"].append(np.stack([truth[cut] for truth in truths]))
        out["teacher"].append(np.stack([pooled(lab[(slice(None), *cut)]) for lab in labels]))
    return MotionCrops(np.stack(out["frames"]), np.stack(out["seed"]).astype(np.float16), times.astype(np.float32),
                       np.stack(out["truths"]), np.stack(out["teacher"]).astype(np.float16))


def window_plan(lengths: dict[str, int], steps: Sequence[int], per_step: int, rng: np.random.Generator,
                times_per_window: int = 3) -> list[tuple[str, int, int, tuple[int, ...]]]:
    """(clip, start, step, js) for up to `per_step` random windows of each clip and step; js: up to
    `times_per_window` of the frames between, always the middle one."""
    plan = []
    for clip, n in lengths.items():
        for step in steps:
            if n <= step:
                continue
            starts = rng.choice(n - step, size=min(per_step, n - step), replace=False)
            for start in sorted(int(s) for s in starts):
                inner = [j for j in range(1, step) if j != step // 2]
                extra = rng.choice(inner, size=min(len(inner), times_per_window - 1), replace=False) if inner else []
                plan.append((clip, start, step, tuple(sorted({step // 2, *map(int, extra)}))))
    return plan


def label_plan(plan, decode: Callable[[str], list], label: Callable, folder: Path, crops: int, seed: int = 0,
               log: Callable[[str], None] = print, crop: int = CROP) -> dict:
    """Label every window of `plan` not already in `folder`; prints labels/s as it goes."""
    folder.mkdir(parents=True, exist_ok=True)
    began, done, labels, frames, current = time.perf_counter(), 0, 0, None, None
    todo = [item for item in plan if not (folder / window_name(*item[:3])).is_file()]
    log(f"{len(plan) - len(todo)} windows already labelled, {len(todo)} to go")
    for n, (clip, start, step, js) in enumerate(todo, 1):
        if clip != current:
            frames, current = decode(clip), clip
        rng = np.random.default_rng([seed, start, step, sum(map(ord, clip))])
        got = label_window(label, frames, start, step, js, crops, rng, crop)
        if got is not None:
            got.save(folder / window_name(clip, start, step))
            labels += len(js)
        done += 1
        if n % 20 == 0 or n == len(todo):
            seconds = time.perf_counter() - began
            log(f"{n}/{len(todo)} windows, {labels} labels in {seconds:.0f} s: {labels / seconds:.2f} labels/s")
    return {"windows": done, "labels": labels, "seconds": round(time.perf_counter() - began)}


def window_name(clip: str, start: int, step: int) -> str:
    return f"{Path(clip).stem}_{step:02d}_{start:05d}.npz"


def window_paths(folder: Path) -> list[Path]:
    """Every labelled window's file in `folder`, in name order (unfinished writes left out)."""
    return sorted(p for p in Path(folder).glob("*.npz") if not p.name.startswith("."))


def load_folder(folder: Path) -> list[MotionCrops]:
    return [MotionCrops.load(p) for p in window_paths(folder)]
