"""Presents a network through the common Interpolator interface: devices, padding, scale, precision."""

from __future__ import annotations

import math

import numpy as np
import torch

from ..interpolator import Interpolator, pad_to_multiple, unpad
from . import ARCHITECTURES
from .seed import batch_seed
from .warp import resize


def working_downscale(h: int, w: int, max_side: int) -> int:
    """Smallest power of two that brings the long side to max_side or below (big frames: motion at a reduced scale)."""
    return 2 ** max(0, math.ceil(math.log2(max(h, w) / max_side))) if max(h, w) > max_side else 1


class ModelInterpolator(Interpolator):
    """A learned interpolator: half precision on CUDA, fp32 (or bf16 if asked) on the CPU."""

    def __init__(self, net: torch.nn.Module, arch: str, name: str, description: str = "",
                 max_work_side: int = 640, cpu_dtype: torch.dtype = torch.float32):
        self.net = net.eval()
        self.arch = arch
        self.name = name
        self.description = description
        self.max_work_side = max_work_side
        self.cpu_dtype = cpu_dtype
        _, _, self.uses_seed, self.multiple = ARCHITECTURES[arch]
        self._device = torch.device("cpu")

    @property
    def device(self) -> torch.device:
        return self._device

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
        ds = working_downscale(h, w, self.max_work_side) if self.uses_seed else 1
        p0, size = pad_to_multiple(x0, self.multiple * ds)
        p1, _ = pad_to_multiple(x1, self.multiple * ds)
        work = (p0.shape[-2] // ds, p0.shape[-1] // ds)
        w0, w1 = resize(p0, work), resize(p1, work)
        seed = None
        if self.uses_seed:
            to_u8 = lambda x: (x.clamp(0, 1) * 255 + 0.5).to(torch.uint8).permute(0, 2, 3, 1).cpu().numpy()
            seed = batch_seed(to_u8(w0), to_u8(w1), work).to(self._device)
        with self._autocast():
            out = self.net(w0, w1, seed, times, full0=p0 if ds > 1 else None, full1=p1 if ds > 1 else None)
        out = unpad(out.float(), size)
        # the ends are the inputs, exactly
        at0 = (times == 0)[:, :, None, None, None]
        at1 = (times == 1)[:, :, None, None, None]
        out = torch.where(at0, x0.unsqueeze(1), out)
        out = torch.where(at1, x1.unsqueeze(1), out)
        return out
