"""The one interface every interpolator (learned model or classical baseline) presents.

`upsample`, `train` and `benchmark` only ever call `interpolate(frames0, frames1, times)`
on integer frames, so a model, a baseline or a fine-tuned checkpoint are interchangeable
everywhere. What an interpolator cannot take itself (alpha, 16 bits, tiny frames) it
declares in its `Capabilities`, and the interface adapts the frames for it.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass
from typing import Sequence, Union

import numpy as np
import torch

from vfi.core.pixels import pad_frames

Times = Union[Sequence[float], Sequence[Sequence[float]], np.ndarray, torch.Tensor]


@dataclass(frozen=True)
class Capabilities:
    """What an interpolator takes itself, and how it wants to be driven."""

    alpha: bool = False  # takes (B, H, W, 4) frames: alpha moves with the colour (else it is done as a grey picture)
    deep: bool = True  # takes uint16 frames without losing precision (else it gets their top 8 bits)
    min_side: int = 0  # smaller frames are edge-padded to this size for it, and the result cropped back
    light_full_size: bool = False  # its full-size stage works in integers (OpenCV): no tiles needed for memory
    follows_motion: bool = False  # carries motion from pair to pair (`reset`): wants consecutive pairs in order


def normalize_times(times: Times, batch: int, device: torch.device | str = "cpu") -> torch.Tensor:
    """Accept a shared list of times or a per-sample (B, T) array; return (B, T) float32."""
    t = torch.as_tensor(times, dtype=torch.float32, device=device)
    if t.ndim == 1:
        t = t.unsqueeze(0).expand(batch, -1)
    if t.ndim != 2 or t.shape[0] != batch:
        raise ValueError(f"times must be a list or a (batch, T) array, got shape {tuple(t.shape)}")
    if t.numel() and (t.min() < 0 or t.max() > 1):
        raise ValueError("times must lie in [0, 1]")
    return t


class Interpolator(abc.ABC):
    """Synthesises frames between two frames at arbitrary times t in [0, 1].

    frames0, frames1: (B, H, W, C) uint8 or uint16, C = 3 (RGB) or 4 (RGBA).
    Returns (B, T, H, W, C) of the same dtype: the frame at each requested t.
    """

    name: str = "interpolator"
    description: str = ""
    capabilities: Capabilities = Capabilities()
    motion_scale: float | None = None  # a setting: the fraction of the frame size motion is estimated at (None: automatic)

    def interpolate(self, frames0: np.ndarray, frames1: np.ndarray, times: Times) -> np.ndarray:
        if frames0.shape != frames1.shape or frames0.ndim != 4 or frames0.shape[-1] not in (3, 4):
            raise ValueError(f"expected two (B, H, W, 3 or 4) batches, got {frames0.shape} and {frames1.shape}")
        if frames0.dtype != frames1.dtype or frames0.dtype not in (np.uint8, np.uint16):
            raise ValueError(f"expected uint8 or uint16 frames, got {frames0.dtype} and {frames1.dtype}")
        t = normalize_times(times, frames0.shape[0])
        caps = self.capabilities
        h, w = frames0.shape[1:3]
        if min(h, w) < caps.min_side:
            out = self.interpolate(pad_frames(frames0, caps.min_side), pad_frames(frames1, caps.min_side), t)
            return out[:, :, :h, :w]
        if frames0.shape[-1] == 4 and not caps.alpha:
            rgb = self.interpolate(frames0[..., :3], frames1[..., :3], t)
            grey = lambda f: np.repeat(f[..., 3:], 3, axis=-1)
            alpha = self.interpolate(grey(frames0), grey(frames1), t)
            return np.concatenate([rgb, alpha[..., :1]], axis=-1)
        if frames0.dtype == np.uint16 and not caps.deep:
            top8 = lambda f: np.right_shift(f, 8).astype(np.uint8)
            return self._interpolate(top8(frames0), top8(frames1), t).astype(np.uint16) * 257
        return self._interpolate(frames0, frames1, t)

    @abc.abstractmethod
    def _interpolate(self, frames0: np.ndarray, frames1: np.ndarray, times: torch.Tensor) -> np.ndarray:
        """Frames it can take (see `capabilities`), times as a (B, T) float32 tensor."""

    def reset(self) -> None:
        """Forget what earlier calls left behind (the motion the last pair ended with).

        Interpolators that follow motion from pair to pair keep it between calls; a new
        video, or a place a resumed run may start from, begins afresh. Stateless ones ignore it.
        """

    def to(self, device: torch.device | str) -> "Interpolator":
        """Classical interpolators run on the CPU whatever is asked; models override this."""
        return self

    @property
    def device(self) -> torch.device:
        return torch.device("cpu")

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}>"
