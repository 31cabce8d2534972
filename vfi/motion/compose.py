"""The last stage on integer frames: warp both frames to t along working-size maps and blend them.

Only this touches full-resolution pixels, in OpenCV's integer routines, so it is fast on
the CPU and light on memory. The `flow` baseline and the learned models on the CPU both end
here; the models' tensor twin (for the GPU) is `models.ode.compose`.
"""

from __future__ import annotations

import cv2
import numpy as np

from vfi.core.pixels import full_scale
from vfi.motion.occlusion import fb_occlusion
from vfi.motion.prior import intermediate_flows, path_flows, quadratic_paths
from vfi.motion.resample import pixel_grid, upscale_map


def blend_maps(f01: np.ndarray, f10: np.ndarray, t: float, occ0: np.ndarray | None = None,
               occ1: np.ndarray | None = None, a0: np.ndarray | None = None, a1: np.ndarray | None = None
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`flow`'s rule at the working size: where each frame is sampled for time t, and the weight of
    frame 0's warp. A frame-1 sample that frame 0 never saw is newly revealed content: frame 1 is
    trusted there, and the other way round for content about to disappear.
    occ0, occ1: the flows' forward-backward occlusions, where the caller has them already;
    a0, a1: accelerations at frames 0 and 1 (`motion.acceleration`) bend the paths, else straight."""
    grid = pixel_grid(*f01.shape[:2])
    occ0 = fb_occlusion(f01, f10, grid) if occ0 is None else occ0
    occ1 = fb_occlusion(f10, f01, grid) if occ1 is None else occ1
    if a0 is None or a1 is None:
        ft0, ft1 = intermediate_flows(f01, f10, t)
    else:
        ft0, ft1 = path_flows(*quadratic_paths(f01, f10, a0, a1, t), f01, f10, t)
    map0, map1 = grid + ft0, grid + ft1
    new_in_1 = cv2.remap(occ1, map1, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    gone_in_1 = cv2.remap(occ0, map0, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    w0 = (1 - t) * (1.0 - new_in_1 + 1e-3)
    w1 = t * (1.0 - gone_in_1 + 1e-3)
    return map0, map1, w0 / (w0 + w1)


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
