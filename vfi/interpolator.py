"""The one interface every interpolator (learned model or classical baseline) presents.

`upsample`, `train` and `benchmark` only ever call `interpolate(frame0, frame1, times)`, so
a model, a baseline or a fine-tuned checkpoint are interchangeable everywhere.
"""

from __future__ import annotations

import abc
from typing import Sequence, Union

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


def unpad(x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    return x[..., : size[0], : size[1]]


class Interpolator(abc.ABC):
    """Synthesises frames between two frames at arbitrary times t in [0, 1].

    frame0, frame1: (B, 3, H, W) float in [0, 1]. Returns (B, T, 3, H, W) float in [0, 1].
    """

    name: str = "interpolator"
    description: str = ""

    def interpolate(self, frame0: torch.Tensor, frame1: torch.Tensor, times: Times) -> torch.Tensor:
        if frame0.shape != frame1.shape or frame0.ndim != 4 or frame0.shape[1] != 3:
            raise ValueError(f"expected two (B, 3, H, W) batches, got {tuple(frame0.shape)} and {tuple(frame1.shape)}")
        t = normalize_times(times, frame0.shape[0])
        with torch.no_grad():
            out = self._interpolate(frame0, frame1, t)
        return out.clamp_(0, 1)

    def interpolate_frames(self, frames0: np.ndarray, frames1: np.ndarray, times: Times) -> np.ndarray:
        """The path `upsample` and `benchmark` use: (B, H, W, 3) uint8 in, (B, T, H, W, 3) uint8 out.

        Models convert on their own device; classical interpolators override this to stay in uint8.
        """
        device = self.device
        to_tensor = lambda a: torch.from_numpy(np.array(a)).to(device).permute(0, 3, 1, 2).float().div_(255)
        out = self.interpolate(to_tensor(frames0), to_tensor(frames1), times)
        return out.mul_(255).round_().to(torch.uint8).permute(0, 1, 3, 4, 2).cpu().numpy()

    @abc.abstractmethod
    def _interpolate(self, frame0: torch.Tensor, frame1: torch.Tensor, times: torch.Tensor) -> torch.Tensor:
        ...

    def to(self, device: torch.device | str) -> "Interpolator":
        """Classical interpolators run on the CPU whatever is asked; models override this."""
        return self

    @property
    def device(self) -> torch.device:
        return torch.device("cpu")

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}>"


def tensor_to_frames(x: torch.Tensor) -> np.ndarray:
    """(B, 3, H, W) float in [0, 1] -> (B, H, W, 3) uint8, rounded."""
    return (x.clamp(0, 1) * 255 + 0.5).to(torch.uint8).permute(0, 2, 3, 1).cpu().numpy()


class FrameInterpolator(Interpolator):
    """An interpolator that works natively on uint8 frames (OpenCV, ffmpeg); the tensor face converts."""

    def _interpolate(self, frame0, frame1, times):
        out = self.interpolate_frames(tensor_to_frames(frame0), tensor_to_frames(frame1), times)
        return torch.from_numpy(out).permute(0, 1, 4, 2, 3).float().div_(255)

    @abc.abstractmethod
    def interpolate_frames(self, frames0: np.ndarray, frames1: np.ndarray, times: Times) -> np.ndarray:
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
