"""Classical DIS optical flow as the motion seed of the learned models (runs on the CPU)."""

from __future__ import annotations

import threading

import cv2
import numpy as np
import torch

from ..stillness import keep_still

_PER_THREAD = threading.local()


def _dis(preset: int):
    """One DIS instance per preset and thread: an instance used by two threads at once crashes."""
    cache = _PER_THREAD.__dict__.setdefault("dis", {})
    if preset not in cache:
        cache[preset] = cv2.DISOpticalFlow_create(preset)
    return cache[preset]


def dis_flows(img0: np.ndarray, img1: np.ndarray, size: tuple[int, int],
              preset: int = cv2.DISOPTICAL_FLOW_PRESET_MEDIUM) -> np.ndarray:
    """Flows 0->1 and 1->0 of two (H, W, 3) uint8 frames, computed and returned at `size` (h, w),
    with the motion DIS drags into still surroundings removed, as `flow` does.

    Returns (4, h, w) float32 in pixels of `size`.
    """
    h, w = size
    g0 = cv2.cvtColor(img0, cv2.COLOR_RGB2GRAY)
    g1 = cv2.cvtColor(img1, cv2.COLOR_RGB2GRAY)
    if g0.shape != (h, w):
        g0 = cv2.resize(g0, (w, h), interpolation=cv2.INTER_AREA)
        g1 = cv2.resize(g1, (w, h), interpolation=cv2.INTER_AREA)
    dis = _dis(preset)
    f01, f10 = keep_still(g0, g1, dis.calc(g0, g1, None), dis.calc(g1, g0, None))
    return np.concatenate([f01, f10], axis=2).transpose(2, 0, 1).copy()


def batch_seed(frames0: np.ndarray, frames1: np.ndarray, size: tuple[int, int]) -> torch.Tensor:
    """(B, H, W, 3) uint8 pairs -> (B, 4, h, w) seed flows."""
    return torch.from_numpy(np.stack([dis_flows(a, b, size) for a, b in zip(frames0, frames1)]))
