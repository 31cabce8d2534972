"""The metrics agree with independent computations written here from their definitions."""

import cv2
import numpy as np

from vfi.core.metrics import interpolation_error, psnr, ssim


def numpy_psnr(pred, gt):
    mse = np.mean((pred / 255.0 - gt / 255.0) ** 2)
    return 10 * np.log10(1.0 / mse)


def numpy_ssim(pred, gt):
    """Gaussian SSIM (11x11, sigma 1.5, K1 0.01, K2 0.03, range 1) over the whole image, borders mirrored.

    That is what torchmetrics computes: it reflect-pads by 5 pixels and averages the whole SSIM map.
    """
    x, y = pred.astype(np.float64) / 255, gt.astype(np.float64) / 255
    g = cv2.getGaussianKernel(11, 1.5)
    win = g @ g.T
    f = lambda img: cv2.filter2D(img, -1, win, borderType=cv2.BORDER_REFLECT_101)
    c1, c2 = 0.01 ** 2, 0.03 ** 2
    vals = []
    for ch in range(3):
        a, b = x[..., ch], y[..., ch]
        mu_a, mu_b = f(a), f(b)
        saa, sbb, sab = f(a * a) - mu_a ** 2, f(b * b) - mu_b ** 2, f(a * b) - mu_a * mu_b
        vals.append(((2 * mu_a * mu_b + c1) * (2 * sab + c2)) / ((mu_a ** 2 + mu_b ** 2 + c1) * (saa + sbb + c2)))
    return float(np.mean(vals))


def noisy_pair(seed=0, shape=(48, 64, 3)):
    rng = np.random.default_rng(seed)
    gt = rng.integers(0, 256, shape).astype(np.uint8)
    gt = cv2.GaussianBlur(gt, (5, 5), 1.0)
    pred = np.clip(gt.astype(int) + rng.integers(-12, 13, shape), 0, 255).astype(np.uint8)
    return pred, gt


def test_psnr_matches_definition():
    pred, gt = noisy_pair()
    assert abs(psnr(pred, gt) - numpy_psnr(pred, gt)) < 1e-6
    assert psnr(gt, gt) == 100.0


def test_ssim_matches_definition():
    for seed in range(3):
        pred, gt = noisy_pair(seed)
        assert abs(ssim(pred, gt) - numpy_ssim(pred, gt)) < 1e-4
    assert abs(ssim(gt, gt) - 1.0) < 1e-6


def test_interpolation_error_is_mean_absolute_difference():
    pred, gt = noisy_pair()
    assert abs(interpolation_error(pred, gt) - np.abs(pred.astype(int) - gt.astype(int)).mean()) < 1e-9
