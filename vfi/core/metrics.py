"""Quality metrics exactly as the field reports them.

PSNR on RGB with data range 1, the prediction rounded to 8 bits, per frame (then averaged
by the caller). SSIM through torchmetrics with an 11x11 Gaussian window, sigma 1.5, on
RGB in [0, 1]. Middlebury's IE: mean absolute difference of the 0-255 values.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torchmetrics.functional.image import structural_similarity_index_measure


def _as_float(frame: np.ndarray) -> np.ndarray:
    if frame.dtype != np.uint8:
        raise TypeError("metrics take 8-bit frames (H, W, 3) uint8: round predictions first")
    return frame.astype(np.float64) / 255.0


def psnr(pred: np.ndarray, target: np.ndarray) -> float:
    mse = float(np.mean((_as_float(pred) - _as_float(target)) ** 2))
    return 100.0 if mse == 0 else -10.0 * math.log10(mse)


def ssim(pred: np.ndarray, target: np.ndarray) -> float:
    to_t = lambda f: torch.from_numpy(np.array(f)).permute(2, 0, 1)[None].float().div_(255)  # float64 conv is ~50x slower
    value = structural_similarity_index_measure(to_t(pred), to_t(target), gaussian_kernel=True, sigma=1.5,
                                                kernel_size=11, data_range=1.0)
    return float(value)


def interpolation_error(pred: np.ndarray, target: np.ndarray) -> float:
    """Middlebury IE as published tables compute it: mean |pred - gt| over 0-255 values, all channels."""
    return float(np.mean(np.abs(pred.astype(np.float64) - target.astype(np.float64))))
