"""Backward warping and flow resampling, as pure functions."""

from __future__ import annotations

import torch
import torch.nn.functional as F

_GRIDS: dict[tuple, torch.Tensor] = {}


def _base_grid(h: int, w: int, device, dtype) -> torch.Tensor:
    key = (h, w, str(device), dtype)
    if key not in _GRIDS:
        ys, xs = torch.meshgrid(torch.arange(h, device=device, dtype=dtype),
                                torch.arange(w, device=device, dtype=dtype), indexing="ij")
        _GRIDS[key] = torch.stack([xs, ys], dim=0)[None]
        if len(_GRIDS) > 32:
            _GRIDS.pop(next(iter(_GRIDS)))
    return _GRIDS[key]


def backward_warp(image: torch.Tensor, flow: torch.Tensor) -> torch.Tensor:
    """Sample `image` at x + flow(x). flow is (B, 2, H, W) in pixels (x, y); borders replicate."""
    b, _, h, w = flow.shape
    coords = _base_grid(h, w, flow.device, flow.dtype) + flow
    gx = coords[:, 0] * (2.0 / max(w - 1, 1)) - 1.0
    gy = coords[:, 1] * (2.0 / max(h - 1, 1)) - 1.0
    grid = torch.stack([gx, gy], dim=3).to(image.dtype)
    return F.grid_sample(image, grid, mode="bilinear", padding_mode="border", align_corners=True)


def resize_flow(flow: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Resize flow fields (channels in (x, y) pairs) and rescale the vectors to the new pixel units."""
    h, w = flow.shape[-2:]
    if (h, w) == tuple(size):
        return flow
    out = F.interpolate(flow, size=size, mode="bilinear", align_corners=False)
    pairs = flow.shape[1] // 2
    scale = torch.tensor([size[1] / w, size[0] / h] * pairs, device=flow.device, dtype=flow.dtype).view(1, -1, 1, 1)
    return out * scale


def resize(image: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    if tuple(image.shape[-2:]) == tuple(size):
        return image
    return F.interpolate(image, size=size, mode="bilinear", align_corners=False, antialias=True)
