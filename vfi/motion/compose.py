"""The last stage on integer frames: warp both frames to t along working-size maps and blend them.

Only this touches full-resolution pixels, in OpenCV's integer routines, so it is fast on
the CPU and light on memory. The `flow` baseline and the learned models on the CPU both end
here; the models' tensor twin (for the GPU) is `models.ode.compose`.
"""

from __future__ import annotations

import cv2
import numpy as np

from vfi.core.pixels import full_scale
from vfi.motion.resample import upscale_map


def mix(warped0: np.ndarray, warped1: np.ndarray, weight0: np.ndarray, detail: np.ndarray | None = None) -> np.ndarray:
    """weight0 * warped0 + (1 - weight0) * warped1 (+ detail, in [0, 1] units, on the colour channels).

    uint8 stays in OpenCV's fast integer routines; uint16 is mixed in float32 and rounded.
    """
    if warped0.dtype == np.uint8:
        out = cv2.blendLinear(warped0, warped1, weight0, 1.0 - weight0)
        if detail is not None:
            if out.shape[-1] == 4:
                detail = np.concatenate([detail, np.zeros_like(detail[..., :1])], axis=-1)
            out = cv2.add(out, detail * 255, dtype=cv2.CV_8U)
        return out
    scale = full_scale(warped0.dtype)
    w = weight0[..., None]
    out = warped1.astype(np.float32) + w * (warped0.astype(np.float32) - warped1)
    if detail is not None:
        out[..., :3] += detail * scale
    return np.clip(np.rint(out), 0, scale).astype(warped0.dtype)


def warp_and_mix(img0: np.ndarray, img1: np.ndarray, map0: np.ndarray, map1: np.ndarray, weight0: np.ndarray,
                 detail: np.ndarray | None = None) -> np.ndarray:
    """The frame at t from full-size images and working-size inputs.

    map0, map1: (h, w, 2) sampling maps into frames 0 and 1, in working-size pixels;
    weight0: (h, w) weight of the frame-0 warp; detail: optional (h, w, 3) residual.
    """
    h, w = img0.shape[:2]
    size = (w, h)
    warped0 = cv2.remap(img0, upscale_map(map0, h, w), None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    warped1 = cv2.remap(img1, upscale_map(map1, h, w), None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    weight = cv2.resize(weight0, size, interpolation=cv2.INTER_LINEAR)
    if detail is not None:
        detail = cv2.resize(detail, size, interpolation=cv2.INTER_LINEAR)
    return mix(warped0, warped1, weight, detail)
