"""Sampling maps for OpenCV's remap: pixel grids and their change of scale, as pure helpers."""

from __future__ import annotations

from functools import lru_cache

import cv2
import numpy as np


@lru_cache(maxsize=16)
def pixel_grid(h: int, w: int) -> np.ndarray:
    """(h, w, 2) float32 (x, y) coordinates of every pixel; cached, so treat as read-only."""
    xs, ys = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    grid = np.stack([xs, ys], axis=2)
    grid.setflags(write=False)
    return grid


def upscale_map(small_map: np.ndarray, h: int, w: int) -> np.ndarray:
    """Resize a sampling map given in working-size pixels into full-size pixel coordinates.

    The affine change of units is applied before resizing (resizing is linear), on the small map.
    """
    sy, sx = h / small_map.shape[0], w / small_map.shape[1]
    in_full_units = small_map * np.float32([sx, sy]) + np.float32([0.5 * sx - 0.5, 0.5 * sy - 0.5])
    return cv2.resize(in_full_units, (w, h), interpolation=cv2.INTER_LINEAR)
