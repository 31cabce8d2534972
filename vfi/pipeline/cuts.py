"""Cheap frame comparisons: scene cuts (never morph two shots) and repeated frames (--dedup).

A cut changes both the picture and its colour statistics; fast motion changes the first
but hardly the second. The score is the geometric mean of a thumbnail difference and a
colour-histogram distance, each in [0, 1]. A repeat (animation on twos, a stalled screen
recording) differs from its original by compression noise only, which averaging away at
a quarter of the size leaves far below the change of even a small moving object.
"""

from __future__ import annotations

import cv2
import numpy as np

from vfi.core.pixels import rgb8

DEFAULT_THRESHOLD = 0.5
_THUMB = (64, 36)
_DIFF_SCALE = 0.25  # a mean thumbnail difference of 25% of full range counts as total change


REPEAT_THRESHOLD = 6.0  # max level difference (of 255) between 1/4-size grey images


def _quarter_gray(frame: np.ndarray) -> np.ndarray:
    gray = cv2.cvtColor(np.ascontiguousarray(rgb8(frame)), cv2.COLOR_RGB2GRAY)
    h, w = gray.shape
    size = (max(1, w // 4), max(1, h // 4))
    return cv2.resize(gray, size, interpolation=cv2.INTER_AREA).astype(np.int16)


def is_repeat(frame0: np.ndarray, frame1: np.ndarray, threshold: float = REPEAT_THRESHOLD) -> bool:
    """Whether frame1 shows the same picture as frame0 (up to compression noise)."""
    return float(np.abs(_quarter_gray(frame0) - _quarter_gray(frame1)).max()) < threshold


def _thumb(frame: np.ndarray) -> np.ndarray:
    return cv2.resize(frame, _THUMB, interpolation=cv2.INTER_AREA).astype(np.float32)


def _histograms(frame: np.ndarray) -> np.ndarray:
    hists = [cv2.calcHist([frame], [c], None, [16], [0, 256]).ravel() for c in range(3)]
    return np.stack(hists) / (frame.shape[0] * frame.shape[1])


def scene_change_score(frame0: np.ndarray, frame1: np.ndarray) -> float:
    """0 for identical frames, near 1 for unrelated shots."""
    frame0, frame1 = rgb8(frame0), rgb8(frame1)
    diff = float(np.abs(_thumb(frame0) - _thumb(frame1)).mean()) / 255.0
    hist = float(np.abs(_histograms(frame0) - _histograms(frame1)).sum(axis=1).mean()) / 2.0
    return float(np.sqrt(min(1.0, diff / _DIFF_SCALE) * min(1.0, hist)))


def is_scene_cut(frame0: np.ndarray, frame1: np.ndarray, threshold: float = DEFAULT_THRESHOLD) -> bool:
    """threshold 0 disables detection."""
    return threshold > 0 and scene_change_score(frame0, frame1) >= threshold
