"""Learned two-way optical flow of a frame pair, coarse to fine: the motion needs no DIS seed.

Each level looks at both frames at 1/scale of the working size, each warped onto the other
by the flows found so far, and adds a correction. It thinks at a further quarter of its
input (two stride-2 convolutions: a wide reach for large motion at little cost) and answers
at half of it; the answer is upsampled to the working size. The coarsest level starts from
zero flow. The levels are the IFNet idea of RIFE, written for this project.
"""

from __future__ import annotations

import torch
from torch import nn

from vfi.models.blocks import conv
from vfi.models.correlation import local_correlation
from vfi.models.warp import backward_warp, resize, resize_flow

FLOW_INPUT_SCALE = 0.25  # flows enter a level in its own pixels, scaled to about unit size


class FlowLevel(nn.Module):
    """One scale: the pair and the flows so far in, a correction to both flows out.

    Besides the frames it reads a local cost volume: how well small learned features of
    each frame match those of the other frame (warped by the flows so far) at every shift of
    up to `radius` cells. Matching is then a look-up, not something the convolutions must
    discover from scratch (without it, a flow network trained from nothing stayed at zero flow
    for thousands of samples).
    """

    def __init__(self, width: int, depth: int, radius: int = 3):
        super().__init__()
        self.radius = radius
        self.features = nn.Sequential(conv(3, 24, stride=2), conv(24, 32, stride=2), nn.Conv2d(32, 32, 3, 1, 1))
        cost = 2 * (2 * radius + 1) ** 2 if radius else 0
        self.head = nn.Sequential(conv(3 * 4 + 4, width // 2, stride=2), conv(width // 2, width, stride=2))
        self.mix = conv(width + cost, width)
        self.body = nn.Sequential(*[conv(width, width) for _ in range(depth)])
        self.tail = nn.ConvTranspose2d(width, 4, 4, 2, 1)
        # small, not zero: a zero output layer passes no gradient back to the layers that must
        # learn to match the frames
        with torch.no_grad():
            self.tail.weight.mul_(0.1)
            self.tail.bias.zero_()

    def _match(self, a, b):
        fa, fb = self.features(a), self.features(b)
        unit = lambda f: nn.functional.normalize(f.float(), dim=1).to(f.dtype)
        return local_correlation(unit(fa), unit(fb), self.radius) * fa.shape[1]  # cosine similarity per shift

    def forward(self, a: torch.Tensor, b: torch.Tensor, flows: torch.Tensor, scale: int) -> torch.Tensor:
        h, w = a.shape[-2:]
        size = (h // scale, w // scale)
        a_s, b_s = resize(a, size), resize(b, size)
        f = resize_flow(flows, size)
        b_on_a, a_on_b = backward_warp(b_s, f[:, :2]), backward_warp(a_s, f[:, 2:])
        y = self.head(torch.cat([a_s, b_s, b_on_a, a_on_b, f * FLOW_INPUT_SCALE], 1))
        if self.radius:
            y = torch.cat([y, self._match(a_s, b_on_a), self._match(b_s, a_on_b)], 1)
        y = self.mix(y)
        y = y + self.body(y)
        return flows + resize_flow(self.tail(y).to(flows.dtype), (h, w))


class PairFlow(nn.Module):
    """(a, b) -> (B, 4, H, W): flows a->b and b->a in working pixels. H and W: multiples of `multiple`."""

    def __init__(self, widths: tuple[int, ...], scales: tuple[int, ...], depth: int, radius: int = 3):
        super().__init__()
        self.scales = tuple(scales)
        self.levels = nn.ModuleList(FlowLevel(w, depth, radius) for w in widths)

    @property
    def multiple(self) -> int:
        return self.scales[0] * 4

    def forward(self, a: torch.Tensor, b: torch.Tensor, levels: int | None = None) -> torch.Tensor:
        """`levels`: stop after the first few (coarse) levels, for motion that only needs its broad shape."""
        flows = torch.zeros(a.shape[0], 4, *a.shape[-2:], device=a.device, dtype=a.dtype)
        for level, scale in list(zip(self.levels, self.scales))[:levels]:
            flows = level(a, b, flows, scale)
        return flows
