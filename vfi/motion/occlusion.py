"""Forward-backward occlusion: a pixel whose flow there and back does not return is hidden on the other side.

The rule (`occlusion_from_disagreement`) is shared by the `flow` baseline, which resamples
with OpenCV (`fb_occlusion` here), and the learned models, which resample with torch.
"""

from __future__ import annotations

import cv2
import numpy as np
import torch


def occlusion_from_disagreement(err, mag):
    """Soft occlusion in [0, 1] from the squared round-trip error and the squared flow magnitudes."""
    exp = torch.exp if isinstance(err, torch.Tensor) else np.exp
    return 1.0 - exp(-err / (0.01 * mag + 0.5))


def fb_occlusion(f01: np.ndarray, f10: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """Soft occlusion of frame-0 pixels in frame 1, for (h, w, 2) float32 flows."""
    back = cv2.remap(f10, grid + f01, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    dx, dy = cv2.split(f01 + back)
    fx, fy = cv2.split(f01)
    bx, by = cv2.split(back)
    err = dx * dx + dy * dy
    mag = fx * fx + fy * fy + bx * bx + by * by
    return occlusion_from_disagreement(err, mag)
