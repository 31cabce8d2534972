"""Frame arrays as the interface carries them: padding, depth and conversions, as pure helpers."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F


def full_scale(dtype) -> float:
    """The integer that stands for 1.0 in frames of this dtype."""
    return 65535.0 if np.dtype(dtype) == np.uint16 else 255.0


def rgb8(frame: np.ndarray) -> np.ndarray:
    """The colour channels in 8 bits, whatever the frame's depth or alpha (for comparisons and motion)."""
    frame = frame[..., :3]
    return (frame >> 8).astype(np.uint8) if frame.dtype == np.uint16 else np.ascontiguousarray(frame)


def pad_frames(frames: np.ndarray, side: int) -> np.ndarray:
    """Edge-pad (B, H, W, C) frames at the bottom and right to at least side x side."""
    h, w = frames.shape[1:3]
    return np.pad(frames, ((0, 0), (0, max(0, side - h)), (0, max(0, side - w)), (0, 0)), mode="edge")


def pad_to_multiple(x: torch.Tensor, multiple: int) -> tuple[torch.Tensor, tuple[int, int]]:
    """Replicate-pad H and W up to a multiple (networks with strided stages need it)."""
    h, w = x.shape[-2:]
    ph, pw = (-h) % multiple, (-w) % multiple
    if ph or pw:
        x = F.pad(x, (0, pw, 0, ph), mode="replicate")
    return x, (h, w)


def unpad(x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    return x[..., : size[0], : size[1]]


def frames_to_tensor(frames: np.ndarray, device: torch.device | str = "cpu") -> torch.Tensor:
    """(B, H, W, C) uint8/uint16 -> (B, C, H, W) float32 in [0, 1] on `device`.

    8-bit frames travel to a GPU as bytes, from pinned memory, and become floats there (a
    quarter of the transfer); the values are the same either way."""
    scale = full_scale(frames.dtype)
    if frames.dtype == np.uint8 and torch.device(device).type == "cuda":
        raw = torch.from_numpy(np.ascontiguousarray(frames)).pin_memory().to(device, non_blocking=True)
        return raw.permute(0, 3, 1, 2).float().div_(scale)
    return torch.from_numpy(np.array(frames, dtype=np.float32)).to(device).permute(0, 3, 1, 2).div_(scale)


def tensor_to_frames(x: torch.Tensor, dtype) -> np.ndarray:
    """(B, T, C, H, W) float in [0, 1] -> (B, T, H, W, C) of `dtype`, rounded half to even.

    8-bit results leave a GPU as bytes: one copy per batch, a quarter of the size."""
    out = x.clamp(0, 1).mul_(full_scale(dtype)).round_()
    out = out.to(torch.uint8) if np.dtype(dtype) == np.uint8 else out.to(torch.int32)
    return out.permute(0, 1, 3, 4, 2).cpu().numpy().astype(dtype)


def tensor_to_uint8(x: torch.Tensor) -> np.ndarray:
    """(B, 3, H, W) float in [0, 1] -> (B, H, W, 3) uint8, rounded half up (what the motion seed is given)."""
    return (x.clamp(0, 1) * 255 + 0.5).to(torch.uint8).permute(0, 2, 3, 1).cpu().numpy()
