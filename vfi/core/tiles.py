"""Very large frames in overlapping tiles, blended with linear ramps so no seam shows.

`tile_starts` and `tile_weights` are pure helpers; `Tiled` wraps any interpolator.
"""

from __future__ import annotations

import numpy as np

from dataclasses import replace

from vfi.core.interface import Capabilities, Interpolator

AUTO_TILE = 2048
MIN_TILE = 128  # smaller tiles hold too little context for motion, and their count explodes
AUTO_ABOVE_PIXELS = 3840 * 2160  # frames up to 4K go whole; above it (6K, 8K) in tiles
OVERLAP_FRACTION = 0.25


def tile_starts(length: int, tile: int, overlap: int) -> list[int]:
    """Start offsets of tiles of size `tile` covering [0, length) with at least `overlap` shared pixels."""
    if length <= tile:
        return [0]
    step = max(1, tile - overlap)
    starts = list(range(0, length - tile, step))
    return starts + [length - tile]


def _ramp(size: int, start: int, length: int, overlap: int) -> np.ndarray:
    """1 inside, rising linearly over `overlap` pixels on edges that another tile shares."""
    ramp = np.ones(size, np.float32)
    n = min(overlap, size)
    rise = (np.arange(n, dtype=np.float32) + 0.5) / n
    if start > 0:
        ramp[:n] = np.minimum(ramp[:n], rise)
    if start + size < length:
        ramp[size - n:] = np.minimum(ramp[size - n:], rise[::-1])
    return ramp


def tile_weights(h: int, w: int, y: int, x: int, th: int, tw: int, overlap: int) -> np.ndarray:
    """(th, tw) blend weights of the tile at (y, x) in an (h, w) frame."""
    return np.outer(_ramp(th, y, h, overlap), _ramp(tw, x, w, overlap))


class Tiled(Interpolator):
    """Interpolates frames bigger than `tile` piece by piece; smaller frames go through whole.

    With tile=0 the size is automatic: tiles only for frames above 4K, and only for
    interpolators whose full-size stage runs in float tensors (the learned models on a GPU,
    the U-Net): the OpenCV paths estimate motion at a reduced scale and warp in integers,
    which costs little memory, and per-tile motion estimates would differ from whole-frame ones.
    """

    def __init__(self, inner: Interpolator, tile: int = 0):
        if tile and tile < MIN_TILE:
            raise ValueError(f"tile size {tile}: tiles are at least {MIN_TILE} pixels (0 chooses the size itself)")
        self.inner = inner
        self.tile = tile
        self.name = inner.name
        self.description = inner.description

    @property
    def capabilities(self) -> Capabilities:
        """The inner interpolator's, asked each time (they may depend on its device); each tile goes
        through the inner `interpolate`, which adapts alpha, depth and size itself."""
        return replace(self.inner.capabilities, alpha=True, deep=True, min_side=0)

    @property
    def device(self):
        return self.inner.device

    def to(self, device) -> "Tiled":
        self.inner.to(device)
        return self

    def reset(self) -> None:
        self.inner.reset()

    def tile_size(self, h: int, w: int) -> int:
        if self.tile:
            return self.tile
        return AUTO_TILE if h * w > AUTO_ABOVE_PIXELS and not self.inner.capabilities.light_full_size else 0

    def _interpolate(self, frames0, frames1, times, neighbours=None):
        b, h, w, c = frames0.shape
        tile = self.tile_size(h, w)
        if not tile or (h <= tile and w <= tile):
            return self.inner.interpolate(frames0, frames1, times, neighbours)
        overlap = max(8, int(tile * OVERLAP_FRACTION))
        total = np.zeros((b, times.shape[1], h, w, c), np.float32)
        weight = np.zeros((h, w), np.float32)
        for y in tile_starts(h, tile, overlap):
            for x in tile_starts(w, tile, overlap):
                th, tw = min(tile, h), min(tile, w)
                cut = lambda f: f[:, y:y + th, x:x + tw]
                part = self.inner.interpolate(cut(frames0), cut(frames1), times,
                                              None if neighbours is None else neighbours.map(cut))
                wt = tile_weights(h, w, y, x, th, tw, overlap)
                total[:, :, y:y + th, x:x + tw] += part * wt[..., None]
                weight[y:y + th, x:x + tw] += wt
        out = total / weight[..., None]
        return np.clip(np.rint(out), 0, np.iinfo(frames0.dtype).max).astype(frames0.dtype)
