"""The one interface every interpolator (learned model or classical baseline) presents.

`upsample`, `train` and `benchmark` only ever call `interpolate(frame0, frame1, times)`, so
a model, a baseline or a fine-tuned checkpoint are interchangeable everywhere.
"""

from __future__ import annotations

import abc
from typing import Sequence, Union

import cv2
import numpy as np
import torch
import torch.nn.functional as F

Times = Union[Sequence[float], torch.Tensor]


def normalize_times(times: Times, batch: int, device: torch.device | str = "cpu") -> torch.Tensor:
    """Accept a shared list of times or a per-sample (B, T) tensor; return (B, T) float32."""
    t = torch.as_tensor(times, dtype=torch.float32, device=device)
    if t.ndim == 1:
        t = t.unsqueeze(0).expand(batch, -1)
    if t.ndim != 2 or t.shape[0] != batch:
        raise ValueError(f"times must be a list or a (batch, T) tensor, got shape {tuple(t.shape)}")
    if t.numel() and (t.min() < 0 or t.max() > 1):
        raise ValueError("times must lie in [0, 1]")
    return t


def pad_to_multiple(x: torch.Tensor, multiple: int) -> tuple[torch.Tensor, tuple[int, int]]:
    """Replicate-pad H and W up to a multiple (networks with strided stages need it)."""
    h, w = x.shape[-2:]
    ph, pw = (-h) % multiple, (-w) % multiple
    if ph or pw:
        x = F.pad(x, (0, pw, 0, ph), mode="replicate")
    return x, (h, w)


def pad_frames(frames: np.ndarray, side: int) -> np.ndarray:
    """Edge-pad (B, H, W, C) frames at the bottom and right to at least side x side."""
    h, w = frames.shape[1:3]
    return np.pad(frames, ((0, 0), (0, max(0, side - h)), (0, max(0, side - w)), (0, 0)), mode="edge")


def unpad(x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    return x[..., : size[0], : size[1]]


class Interpolator(abc.ABC):
    """Synthesises frames between two frames at arbitrary times t in [0, 1].

    frame0, frame1: (B, 3, H, W) float in [0, 1]. Returns (B, T, 3, H, W) float in [0, 1].
    """

    name: str = "interpolator"
    description: str = ""
    native_alpha: bool = False  # takes (B, H, W, 4) frames itself: alpha moves with the colour
    native_deep: bool = True  # takes uint16 frames without losing precision
    motion_scale: float | None = None  # fraction of the frame size motion is estimated at; None: automatic
    light_full_size: bool = False  # its full-size stage works in integers (OpenCV): no tiles needed for memory
    follows_motion: bool = False  # carries motion from pair to pair (`reset`): wants consecutive pairs in order
    min_side: int = 0  # smaller frames are edge-padded to this size for it, and the result cropped back

    def interpolate(self, frame0: torch.Tensor, frame1: torch.Tensor, times: Times) -> torch.Tensor:
        if frame0.shape != frame1.shape or frame0.ndim != 4 or frame0.shape[1] != 3:
            raise ValueError(f"expected two (B, 3, H, W) batches, got {tuple(frame0.shape)} and {tuple(frame1.shape)}")
        t = normalize_times(times, frame0.shape[0])
        with torch.no_grad():
            out = self._interpolate(frame0, frame1, t)
        return out.clamp_(0, 1)

    def interpolate_frames(self, frames0: np.ndarray, frames1: np.ndarray, times: Times) -> np.ndarray:
        """The path `upsample` and `benchmark` use: (B, H, W, C) in, (B, T, H, W, C) out, same dtype.

        C is 3 or 4 (RGBA), the dtype uint8 or uint16 (10/16-bit sources). An interpolator
        that cannot take alpha gets it as a second grey picture; one that works in 8 bits
        gets the top 8 bits (and says so in its description). Frames smaller than `min_side`
        (a 1x1 video) are padded for it and cropped back.
        """
        h, w = frames0.shape[1:3]
        if min(h, w) < self.min_side:
            out = self.interpolate_frames(pad_frames(frames0, self.min_side), pad_frames(frames1, self.min_side), times)
            return out[:, :, :h, :w]
        if frames0.shape[-1] == 4 and not self.native_alpha:
            rgb = self.interpolate_frames(frames0[..., :3], frames1[..., :3], times)
            grey = lambda f: np.repeat(f[..., 3:], 3, axis=-1)
            alpha = self.interpolate_frames(grey(frames0), grey(frames1), times)
            return np.concatenate([rgb, alpha[..., :1]], axis=-1)
        if frames0.dtype == np.uint16 and not self.native_deep:
            out = self._frames(np.right_shift(frames0, 8).astype(np.uint8), np.right_shift(frames1, 8).astype(np.uint8),
                               times)
            return out.astype(np.uint16) * 257
        return self._frames(frames0, frames1, times)

    def _frames(self, frames0: np.ndarray, frames1: np.ndarray, times: Times) -> np.ndarray:
        """Models convert on their own device; classical interpolators override this to stay in integers."""
        device = self.device
        scale = full_scale(frames0.dtype)
        to_tensor = lambda a: torch.from_numpy(np.array(a, dtype=np.float32)).to(device).permute(0, 3, 1, 2).div_(scale)
        out = self.interpolate(to_tensor(frames0), to_tensor(frames1), times)
        return out.mul_(scale).round_().to(torch.int32).permute(0, 1, 3, 4, 2).cpu().numpy().astype(frames0.dtype)

    @abc.abstractmethod
    def _interpolate(self, frame0: torch.Tensor, frame1: torch.Tensor, times: torch.Tensor) -> torch.Tensor:
        ...

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


def full_scale(dtype) -> float:
    """The integer that stands for 1.0 in frames of this dtype."""
    return 65535.0 if np.dtype(dtype) == np.uint16 else 255.0


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


def tensor_to_frames(x: torch.Tensor) -> np.ndarray:
    """(B, 3, H, W) float in [0, 1] -> (B, H, W, 3) uint8, rounded."""
    return (x.clamp(0, 1) * 255 + 0.5).to(torch.uint8).permute(0, 2, 3, 1).cpu().numpy()


class FrameInterpolator(Interpolator):
    """An interpolator that works natively on integer frames (OpenCV, ffmpeg); the tensor face converts."""

    def _interpolate(self, frame0, frame1, times):
        out = self.interpolate_frames(tensor_to_frames(frame0), tensor_to_frames(frame1), times)
        return torch.from_numpy(out).permute(0, 1, 4, 2, 3).float().div_(255)

    @abc.abstractmethod
    def _frames(self, frames0: np.ndarray, frames1: np.ndarray, times: Times) -> np.ndarray:
        ...


def resolve_device(name: str) -> str:
    """'auto' picks CUDA when present; asking for CUDA without one is a user error."""
    if name == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda" and not torch.cuda.is_available():
        raise ValueError("--device cuda: no CUDA GPU is available (use --device cpu or auto)")
    if name not in ("cpu", "cuda"):
        raise ValueError(f"unknown device '{name}': use auto, cpu or cuda")
    return name
