"""Synthetic motion rendered in batches on the training device, exact at any t.

Photos (or procedural texture when there are none) are moved along smooth random paths
with velocity and acceleration, rotation and zoom, and sprites cut from other photos cross
them, occluding one another: discs, blobs and thin bars. Every frame is an affine warp of
its layers (`grid_sample`), so the frames at -1, 0, 1, 2 and at the target t are all exact;
a share of batches is rendered with motion blur (each frame the mean over an open shutter).
Displacements reach a quarter of the crop per frame interval, where interpolators fail.
The exact flows between frames 0 and 1 come along, to teach a motion network directly.
Everything stays on the device: no CPU worker, no copy per sample.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np
import torch
import torch.nn.functional as F

WINDOW_TIMES = (-1.0, 0.0, 1.0, 2.0)  # the frames before, the pair, the frame after; the target comes last


def photo_bank(photos: Sequence[np.ndarray], side: int, device) -> torch.Tensor:
    """(P, 3, side, side) uint8 on the device: each photo's centre square, resized once."""
    squares = []
    for photo in photos:
        h, w = photo.shape[:2]
        s = min(h, w)
        y, x = (h - s) // 2, (w - s) // 2
        square = torch.from_numpy(np.ascontiguousarray(photo[y:y + s, x:x + s])).permute(2, 0, 1)[None].float()
        squares.append(F.interpolate(square, size=(side, side), mode="area").round().clamp(0, 255).to(torch.uint8))
    return torch.cat(squares).to(device) if squares else torch.empty(0, 3, side, side, dtype=torch.uint8, device=device)


def procedural_bank(count: int, side: int, generator: torch.Generator, device) -> torch.Tensor:
    """Colourful multi-scale noise, for when no photos are given (tests, a bare machine)."""
    out = torch.zeros(count, 3, side, side, device=device)
    for cells, weight in ((4, 0.5), (16, 0.3), (64, 0.2)):
        noise = torch.rand(count, 3, cells, cells, generator=generator, device=device)
        out += weight * F.interpolate(noise, size=(side, side), mode="bicubic", align_corners=False)
    return (out.clamp(0, 1) * 255).round().to(torch.uint8)


def _rotation(angle: torch.Tensor) -> torch.Tensor:
    c, s = torch.cos(angle), torch.sin(angle)
    return torch.stack([torch.stack([c, -s], -1), torch.stack([s, c], -1)], -2)


class DeviceScenes:
    """Random scenes, batch at a time: `render(g, batch, crop, t)` -> frames (B, 5, 3, crop, crop) in [0, 1] and flows."""

    def __init__(self, textures: torch.Tensor, max_shift: float = 0.25, sprites: int = 3, blur_share: float = 0.2,
                 still_share: float = 0.03, view: int = 128):
        self.textures = textures  # (P, 3, S, S) uint8 on the device
        self.device = textures.device
        self.max_shift = max_shift  # the largest displacement per frame interval, as a fraction of the crop
        self.sprites = sprites
        self.blur_share = blur_share
        self.still_share = still_share
        self.view = view  # a crop of this side shows at most the whole photo; larger crops see it larger

    def _uniform(self, g, *shape, lo=0.0, hi=1.0):
        return lo + (hi - lo) * torch.rand(*shape, generator=g, device=self.device)

    def _normal(self, g, *shape, std=1.0):
        return std * torch.randn(*shape, generator=g, device=self.device)

    def _paths(self, g, b: int, speed_scale: torch.Tensor):
        """Per-scene position, velocity, acceleration (crop units: 2 = the crop's width), spin and zoom."""
        speed = 2 * self.max_shift * self._uniform(g, b) ** 1.5 * speed_scale
        angle = self._uniform(g, b, hi=2 * math.pi)
        v = torch.stack([torch.cos(angle), torch.sin(angle)], -1) * speed[:, None]
        curved = (self._uniform(g, b) < 0.6).float()[:, None]
        a = self._normal(g, b, 2, std=1.0) * (0.5 * speed + 0.02 * speed_scale)[:, None] * curved
        spin = self._normal(g, b, std=0.05) * (self._uniform(g, b) < 0.35).float()  # radians per interval
        spin_acc = self._normal(g, b, std=0.02) * (self._uniform(g, b) < 0.2).float()
        zoom = self._normal(g, b, std=0.05) * (self._uniform(g, b) < 0.35).float()  # log-scale per interval
        return v, a, spin, spin_acc, zoom

    def _layer(self, texture, centre, zoom0, v, a, spin, spin_acc, zoom, p0, times, crop, seen):
        """Sample one layer for every scene at every time: returns colours (B, T, 3, c, c) and local coords."""
        b, n = texture.shape[0], times.shape[1]
        t = times[:, :, None]
        pos = p0[:, None] + v[:, None] * t + 0.5 * a[:, None] * t * t  # (B, T, 2)
        angle = spin[:, None] * times + 0.5 * spin_acc[:, None] * times * times
        scale = torch.exp(zoom[:, None] * times)
        ys, xs = torch.meshgrid(torch.linspace(-1, 1, crop, device=self.device),
                                torch.linspace(-1, 1, crop, device=self.device), indexing="ij")
        u = torch.stack([xs, ys], -1).view(1, 1, crop * crop, 2)
        rot = _rotation(-angle)  # (B, T, 2, 2): frame -> layer
        local = torch.einsum("btij,btpj->btpi", rot, u - pos[:, :, None]) / scale[..., None, None]
        src = centre[:, None, None] + zoom0[:, None, None, None] * local
        grid = src.view(b * n, crop, crop, 2)
        tex = texture[:, None].expand(-1, n, -1, -1, -1).flatten(0, 1)
        colour = F.grid_sample(tex, grid, mode="bilinear", padding_mode="reflection", align_corners=False)
        # where each layer pixel seen at the times `seen` (indices) is in frames 0 and 1 (times[:, 1] and
        # times[:, 2], as in WINDOW_TIMES): the exact flows, in pixels
        at = lambda k: pos[:, None, k, None] + scale[:, None, k, None, None] * torch.einsum(
            "bij,btpj->btpi", _rotation(angle[:, k]), local[:, seen])
        to_pixels = (crop - 1) / 2
        paths = (torch.cat([at(1), at(2)], -1) - u.repeat(1, 1, 1, 2)) * to_pixels  # (B, S, P, 4)
        paths = paths.view(b, len(seen), crop, crop, 4).permute(0, 1, 4, 2, 3)
        return colour.view(b, n, 3, crop, crop), local.view(b, n, crop, crop, 2), paths

    def _textures(self, g, b: int) -> torch.Tensor:
        index = torch.randint(len(self.textures), (b,), generator=g, device=self.device)
        return self.textures[index].float().div_(255)

    def _scene(self, g, b: int, crop: int, times: torch.Tensor, seen: Sequence[int] = (1, 2)
               ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Frames (B, T, 3, c, c); at the times `seen` (S indices) only, the flows to frames 0 and 1 of what
        is seen there (B, S, 4, c, c: F_t->0 then F_t->1) and which layer is on top (B, S, c, c: 0 the
        background)."""
        seen = list(seen)
        still = (self._uniform(g, b) < self.still_share).float()
        speed_scale = 1 - still
        v, a, spin, spin_acc, zoom = self._paths(g, b, speed_scale)
        zoom0 = self._uniform(g, b, lo=0.4, hi=1.0) * crop / self.view  # how much of the photo the crop shows
        centre = self._uniform(g, b, 2, lo=-0.3, hi=0.3)
        frames, _, paths = self._layer(self._textures(g, b), centre, zoom0, v, a, spin * speed_scale,
                                spin_acc * speed_scale, zoom * speed_scale, torch.zeros(b, 2, device=self.device),
                                times, crop, seen)
        top = torch.zeros(paths.shape[:2] + paths.shape[3:], dtype=torch.uint8, device=self.device)
        for layer in range(1, self.sprites + 1):
            present = (self._uniform(g, b) < 0.6).float() * speed_scale
            sv, sa, sspin, sspin_acc, szoom = self._paths(g, b, speed_scale)
            p0 = self._uniform(g, b, 2, lo=-0.8, hi=0.8)
            radius = self._uniform(g, b, lo=0.15, hi=0.6)
            thin = (self._uniform(g, b) < 0.25).float()  # bars: thin structures
            aspect = thin * self._uniform(g, b, lo=0.03, hi=0.12) + (1 - thin) * self._uniform(g, b, lo=0.5, hi=1.0)
            colour, local, layer_paths = self._layer(self._textures(g, b), self._uniform(g, b, 2, lo=-0.5, hi=0.5),
                                        self._uniform(g, b, lo=0.3, hi=1.0), sv, sa, sspin, sspin_acc, szoom,
                                        p0, times, crop, seen)
            r = (local[..., 0] / radius[:, None, None, None]) ** 2 \
                + (local[..., 1] / (radius * aspect)[:, None, None, None]) ** 2
            edge = 2.0 / (crop * radius[:, None, None, None] * aspect[:, None, None, None])  # about a pixel, antialiased
            alpha = ((1 - r.sqrt()) / edge.clamp(min=1e-3)).clamp(0, 1) * present[:, None, None, None]
            frames = frames + alpha[:, :, None] * (colour - frames)
            paths = paths + alpha[:, seen, None] * (layer_paths - paths)  # what is on top; antialiased edges mixed
            top = torch.where(alpha[:, seen] > 0.5, torch.full_like(top, layer), top)
        return frames, paths, top

    @staticmethod
    def _pair_flows(paths: torch.Tensor) -> torch.Tensor:
        """F01 (from frame 0's pixels to frame 1) and F10, out of the paths seen at times 0 and 1."""
        return torch.cat([paths[:, 0, 2:4], paths[:, 1, 0:2]], 1)

    def render(self, g: torch.Generator, batch: int, crop: int, t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Frames at -1, 0, 1, 2 and at each scene's t (B,): (B, 5, 3, crop, crop) float32, and the
        exact flows 0 -> 1 and 1 -> 0 of what is seen in frames 0 and 1: (B, 4, crop, crop), in pixels."""
        times = torch.cat([torch.tensor(WINDOW_TIMES, device=self.device).expand(batch, -1), t[:, None]], 1)
        if float(self._uniform(g, 1)) >= self.blur_share:
            frames, paths, _ = self._scene(g, batch, crop, times)
            return frames, self._pair_flows(paths)
        # motion blur: the same scene (same random draws) seen over an open shutter; the flows are the shutter's middle
        state = g.get_state()
        shutter = float(self._uniform(g, 1, lo=0.2, hi=0.6))
        frames, flows = [], []
        for k in (-0.5, 0.0, 0.5):
            g.set_state(state)
            seen, paths, _ = self._scene(g, batch, crop, times + k * shutter)
            frames.append(seen)
            flows.append(self._pair_flows(paths))
        return torch.stack(frames).mean(0), flows[1]

    def render_paths(self, g: torch.Generator, batch: int, crop: int, times: torch.Tensor
                     ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Sharp frames at 0, 1 and each scene's times (B, T): (B, 2 + T, 3, crop, crop) in [0, 1], the
        exact flows from each of those frames' pixels to frames 0 and 1 (B, 2 + T, 4, crop, crop: F_t->0
        then F_t->1, in pixels) and the layer on top of each pixel (B, 2 + T, crop, crop), to label motion
        at any t with the truth."""
        window = torch.tensor(WINDOW_TIMES, device=self.device).expand(batch, -1)
        keep = [1, 2, *range(len(WINDOW_TIMES), len(WINDOW_TIMES) + times.shape[1])]
        frames, paths, top = self._scene(g, batch, crop, torch.cat([window, times.to(self.device).float()], 1), keep)
        return frames[:, keep], paths, top
