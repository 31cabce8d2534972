"""Cheap scene-cut detection, so that no frame is ever morphed between two different shots.

A cut changes both the picture and its colour statistics; fast motion changes the first
but hardly the second. The score is the geometric mean of a thumbnail difference and a
colour-histogram distance, each in [0, 1].
"""

from __future__ import annotations

import cv2
import numpy as np

DEFAULT_THRESHOLD = 0.5
_THUMB = (64, 36)
_DIFF_SCALE = 0.25  # a mean thumbnail difference of 25% of full range counts as total change


def _thumb(frame: np.ndarray) -> np.ndarray:
    return cv2.resize(frame, _THUMB, interpolation=cv2.INTER_AREA).astype(np.float32)


def _histograms(frame: np.ndarray) -> np.ndarray:
    hists = [cv2.calcHist([frame], [c], None, [16], [0, 256]).ravel() for c in range(3)]
    return np.stack(hists) / (frame.shape[0] * frame.shape[1])


def scene_change_score(frame0: np.ndarray, frame1: np.ndarray) -> float:
    """0 for identical frames, near 1 for unrelated shots. Frames are (H, W, 3) uint8."""
    diff = float(np.abs(_thumb(frame0) - _thumb(frame1)).mean()) / 255.0
    hist = float(np.abs(_histograms(frame0) - _histograms(frame1)).sum(axis=1).mean()) / 2.0
    return float(np.sqrt(min(1.0, diff / _DIFF_SCALE) * min(1.0, hist)))


def is_scene_cut(frame0: np.ndarray, frame1: np.ndarray, threshold: float = DEFAULT_THRESHOLD) -> bool:
    """threshold 0 disables detection."""
    return threshold > 0 and scene_change_score(frame0, frame1) >= threshold
