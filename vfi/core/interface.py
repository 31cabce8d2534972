"""The one interface every interpolator (learned model or classical baseline) presents.

`upsample`, `train` and `benchmark` only ever call `interpolate(frames0, frames1, times)`
on integer frames (with the frames around the pair, `Neighbours`, where they exist), so a
model, a baseline or a fine-tuned checkpoint are interchangeable everywhere. What an interpolator cannot take itself (alpha, 16 bits, tiny frames) it
declares in its `Capabilities`, and the interface adapts the frames for it.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass
from typing import Callable, Optional, Sequence, Union

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
    window: bool = False  # reads the frames before and after the pair (`Neighbours`): motion over four frames


@dataclass(frozen=True)
class Neighbours:
    """The frame before each pair's first and after its second, one interval away, for four-frame motion.

    A row whose neighbour does not exist (a clip's end, the far side of a scene cut) holds a
    copy of its own pair's frame there and is marked False in `has_before` / `has_after`.
    """

    before: np.ndarray  # (B, H, W, C), as frames0
    after: np.ndarray
    has_before: np.ndarray  # (B,) bool
    has_after: np.ndarray

    @staticmethod
    def of(frames0: np.ndarray, frames1: np.ndarray, before: Sequence[Optional[np.ndarray]],
           after: Sequence[Optional[np.ndarray]]) -> "Neighbours":
        """From per-row frames, None where a row has none."""
        pick = lambda frames, own: np.stack([o if f is None else f for f, o in zip(frames, own)])
        flags = lambda frames: np.array([f is not None for f in frames], bool)
        return Neighbours(pick(before, frames0), pick(after, frames1), flags(before), flags(after))

    @staticmethod
    def absent(frames0: np.ndarray, frames1: np.ndarray) -> "Neighbours":
        none = np.zeros(len(frames0), bool)
        return Neighbours(frames0, frames1, none, none.copy())

    def map(self, fn: Callable[[np.ndarray], np.ndarray]) -> "Neighbours":
        """The same neighbours with both frame batches passed through `fn` (padding, channels, depth)."""
        return Neighbours(fn(self.before), fn(self.after), self.has_before, self.has_after)


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

    def interpolate(self, frames0: np.ndarray, frames1: np.ndarray, times: Times,
                    neighbours: Optional[Neighbours] = None) -> np.ndarray:
        """`neighbours`: the frames around each pair, read only by interpolators with `window`
        (without them, such an interpolator treats every pair as a clip's only pair)."""
        if frames0.shape != frames1.shape or frames0.ndim != 4 or frames0.shape[-1] not in (3, 4):
            raise ValueError(f"expected two (B, H, W, 3 or 4) batches, got {frames0.shape} and {frames1.shape}")
        if frames0.dtype != frames1.dtype or frames0.dtype not in (np.uint8, np.uint16):
            raise ValueError(f"expected uint8 or uint16 frames, got {frames0.dtype} and {frames1.dtype}")
        t = normalize_times(times, frames0.shape[0])
        caps = self.capabilities
        if not caps.window:
            neighbours = None
        elif neighbours is None:
            neighbours = Neighbours.absent(frames0, frames1)
        elif neighbours.before.shape != frames0.shape or neighbours.after.shape != frames0.shape \
                or neighbours.before.dtype != frames0.dtype or neighbours.after.dtype != frames0.dtype:
            raise ValueError("the neighbouring frames must have the shape and dtype of the pair's frames")
        nb = lambda fn: None if neighbours is None else neighbours.map(fn)
        h, w = frames0.shape[1:3]
        if min(h, w) < caps.min_side:
            pad = lambda f: pad_frames(f, caps.min_side)
            out = self.interpolate(pad(frames0), pad(frames1), t, nb(pad))
            return out[:, :, :h, :w]
        if frames0.shape[-1] == 4 and not caps.alpha:
            colour = lambda f: f[..., :3]
            grey = lambda f: np.repeat(f[..., 3:], 3, axis=-1)
            rgb = self.interpolate(colour(frames0), colour(frames1), t, nb(colour))
            alpha = self.interpolate(grey(frames0), grey(frames1), t, nb(grey))
            return np.concatenate([rgb, alpha[..., :1]], axis=-1)
        if frames0.dtype == np.uint16 and not caps.deep:
            top8 = lambda f: np.right_shift(f, 8).astype(np.uint8)
            return self._call(top8(frames0), top8(frames1), t, nb(top8)).astype(np.uint16) * 257
        return self._call(frames0, frames1, t, neighbours)

    def _call(self, frames0, frames1, t, neighbours):
        if neighbours is None:
            return self._interpolate(frames0, frames1, t)
        return self._interpolate(frames0, frames1, t, neighbours)

    @abc.abstractmethod
    def _interpolate(self, frames0: np.ndarray, frames1: np.ndarray, times: torch.Tensor) -> np.ndarray:
        """Frames it can take (see `capabilities`), times as a (B, T) float32 tensor.

        Interpolators with `window` also take a fourth argument, the `Neighbours`."""

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
