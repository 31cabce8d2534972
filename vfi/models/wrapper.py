"""Presents a network through the common Interpolator interface: devices, padding, scale, precision."""

from __future__ import annotations

import math

import cv2
import numpy as np
import torch

from ..dis import VideoFlow
from ..interpolator import Interpolator, mix, normalize_times, pad_to_multiple, tensor_to_frames, unpad
from ..scenes import rgb8
from ..resample import pixel_grid, upscale_map
from . import ARCHITECTURES
from .ode import blend_weights
from .seed import batch_seed
from .warp import resize

MAX_WORK_SIDE = 640  # seeded models estimate motion with the long side at most this (a power-of-two shrink)


def working_downscale(h: int, w: int, max_side: int, scale: float | None = None) -> int:
    """Smallest power of two that brings the long side to max_side or below (big frames: motion at a
    reduced scale); with an explicit `scale`, the power of two nearest 1 / scale."""
    if scale is not None:
        return 2 ** max(0, round(math.log2(1 / scale)))
    return 2 ** max(0, math.ceil(math.log2(max(h, w) / max_side))) if max(h, w) > max_side else 1


class ModelInterpolator(Interpolator):
    """A learned interpolator: half precision on CUDA, fp32 (or bf16 if asked) on the CPU."""

    min_side = 32  # the motion seed (DIS) needs a few patches per side

    def __init__(self, net: torch.nn.Module, arch: str, name: str, description: str = "",
                 max_work_side: int = MAX_WORK_SIDE, cpu_dtype: torch.dtype = torch.float32):
        self.net = net.eval()
        self.arch = arch
        self.name = name
        self.description = description
        self.max_work_side = max_work_side
        self.cpu_dtype = cpu_dtype
        _, _, self.uses_seed, self.multiple = ARCHITECTURES[arch]
        self._device = torch.device("cpu")
        self.motion = VideoFlow()

    @property
    def device(self) -> torch.device:
        return self._device

    def reset(self) -> None:
        self.motion.forget()

    def to(self, device) -> "ModelInterpolator":
        self._device = torch.device(device)
        self.net.to(self._device)
        return self

    def _autocast(self):
        if self._device.type == "cuda":
            return torch.autocast("cuda", dtype=torch.float16)
        if self.cpu_dtype != torch.float32:
            return torch.autocast("cpu", dtype=self.cpu_dtype)
        return torch.autocast("cpu", enabled=False)

    def _interpolate(self, frame0, frame1, times):
        x0, x1 = frame0.to(self._device).float(), frame1.to(self._device).float()
        times = times.to(self._device)
        h, w = x0.shape[-2:]
        ds = working_downscale(h, w, self.max_work_side, self.motion_scale) if self.uses_seed else 1
        p0, size = pad_to_multiple(x0, self.multiple * ds)
        p1, _ = pad_to_multiple(x1, self.multiple * ds)
        work = (p0.shape[-2] // ds, p0.shape[-1] // ds)
        w0, w1 = resize(p0, work), resize(p1, work)
        seed = None
        if self.uses_seed:
            seed = batch_seed(tensor_to_frames(w0), tensor_to_frames(w1), work, self.motion).to(self._device)
        with self._autocast():
            out = self.net(w0, w1, seed, times, full0=p0 if ds > 1 else None, full1=p1 if ds > 1 else None)
        out = unpad(out.float(), size)
        # the ends are the inputs, exactly
        at0 = (times == 0)[:, :, None, None, None]
        at1 = (times == 1)[:, :, None, None, None]
        out = torch.where(at0, x0.unsqueeze(1), out)
        out = torch.where(at1, x1.unsqueeze(1), out)
        return out

    @property
    def follows_motion(self) -> bool:
        return self.uses_seed

    @property
    def native_alpha(self) -> bool:
        return self._fast_path

    @property
    def light_full_size(self) -> bool:
        return self._fast_path

    @property
    def _fast_path(self) -> bool:
        return self.arch == "ode" and self._device.type == "cpu"

    def _frames(self, frames0, frames1, times):
        """On the CPU the ODE model's full-size warp and blend run in OpenCV on integer frames.

        The network works at the reduced working scale either way; only the last stage
        differs from the tensor path (by rounding), and it is several times faster. An alpha
        channel is warped and blended with the colour, along the same motion.
        """
        if not self._fast_path:
            return super()._frames(frames0, frames1, times)
        b, h, w, c = frames0.shape
        times = normalize_times(times, b)
        ds = working_downscale(h, w, self.max_work_side, self.motion_scale)
        m = self.multiple * ds
        ph, pw = (-h) % m, (-w) % m
        pad = lambda f: cv2.copyMakeBorder(f, 0, ph, 0, pw, cv2.BORDER_REPLICATE) if ph or pw else f
        full0 = np.stack([pad(f) for f in frames0])
        full1 = np.stack([pad(f) for f in frames1])
        H, W = h + ph, w + pw
        work = (H // ds, W // ds)
        # the working-scale copies are made in uint8 with OpenCV (area filter): much cheaper than in float
        shrink = lambda f: f if ds == 1 else cv2.resize(f, work[::-1], interpolation=cv2.INTER_AREA)
        small0 = np.stack([shrink(rgb8(f)) for f in full0])
        small1 = np.stack([shrink(rgb8(f)) for f in full1])
        to_float = lambda a: torch.from_numpy(a).permute(0, 3, 1, 2).float().div_(255)
        w0, w1 = to_float(small0), to_float(small1)
        seed = batch_seed(small0, small1, work, self.motion)
        with torch.no_grad(), self._autocast():
            ft0, ft1, y = self.net.plan(w0, w1, seed, times)
            weight0, residual = blend_weights(y.float(), times.flatten()[:, None, None, None])
        ft0 = ft0.float().permute(0, 2, 3, 1).numpy()
        ft1 = ft1.float().permute(0, 2, 3, 1).numpy()
        weight0 = weight0[:, 0].numpy()
        residual = residual.permute(0, 2, 3, 1).numpy()
        grid = pixel_grid(*work)
        out = np.empty((b, times.shape[1], h, w, c), frames0.dtype)
        for i in range(b):
            for j, t in enumerate(times[i].tolist()):
                k = i * times.shape[1] + j
                if t == 0 or t == 1:
                    out[i, j] = (frames0 if t == 0 else frames1)[i]
                    continue
                warped0 = cv2.remap(full0[i], upscale_map(grid + ft0[k], H, W), None, cv2.INTER_LINEAR,
                                    borderMode=cv2.BORDER_REPLICATE)
                warped1 = cv2.remap(full1[i], upscale_map(grid + ft1[k], H, W), None, cv2.INTER_LINEAR,
                                    borderMode=cv2.BORDER_REPLICATE)
                weight = cv2.resize(weight0[k], (W, H), interpolation=cv2.INTER_LINEAR)
                detail = cv2.resize(residual[k], (W, H), interpolation=cv2.INTER_LINEAR)
                out[i, j] = mix(warped0, warped1, weight, detail)[:h, :w]
        return out
