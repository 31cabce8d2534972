"""Four-frame motion: how fast each pixel's motion changes, from the flows to the frames around a pair.

Where the frames before and after a pair are known, the motion out of frame 0 towards frame -1
and out of frame 1 towards frame 2 bend the straight path between the pair: with constant
acceleration, a0 = F01 + F0,-1 and a1 = F10 + F12 (central differences), zero for steady motion.
Each extra flow is one DIS search, started from the pair's own motion reversed. Where the pair
itself does not move (both flows under a quarter pixel), nothing bends: a still picture between
two frames stays exactly still, whatever moves before or after it.
"""

from __future__ import annotations

import cv2
import numpy as np

from vfi.motion.dis import PRESET

STILL = 0.25  # pixels: a pair that moves less than this both ways is not bent


def _search(gray_from: np.ndarray, gray_to: np.ndarray, start: np.ndarray) -> np.ndarray:
    return cv2.DISOpticalFlow_create(PRESET).calc(gray_from, gray_to, np.ascontiguousarray(start, np.float32))


def accelerations(before: np.ndarray, gray0: np.ndarray, gray1: np.ndarray, after: np.ndarray,
                  f01: np.ndarray, f10: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(a0, a1): the accelerations at frame 0's and frame 1's pixels, in working-size pixels per
    interval squared, from working-size grey frames -1, 0, 1, 2 and the pair's flows."""
    f0_before = _search(gray0, before, -f01)  # steady motion: the frame before lies the other way
    f1_after = _search(gray1, after, -f10)
    moving = ((np.abs(f01).max(axis=2) >= STILL) | (np.abs(f10).max(axis=2) >= STILL))[..., None]
    return (f01 + f0_before) * moving, (f10 + f1_after) * moving
