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
from vfi.models.warp import backward_warp, resize, resize_flow

FLOW_INPUT_SCALE = 0.25  # flows enter a level in its own pixels, scaled to about unit size


class FlowLevel(nn.Module):
    """One scale: the pair and the flows so far in, a correction to both flows out."""

    def __init__(self, width: int, depth: int):
        super().__init__()
        self.head = nn.Sequential(conv(3 * 4 + 4, width // 2, stride=2), conv(width // 2, width, stride=2))
        self.body = nn.Sequential(*[conv(width, width) for _ in range(depth)])
        self.tail = nn.ConvTranspose2d(width, 4, 4, 2, 1)
        # small, not zero: a zero output layer passes no gradient back to the layers that must
        # learn to match the frames, and symmetric motion gives its bias none either
        with torch.no_grad():
            self.tail.weight.mul_(0.1)
            self.tail.bias.zero_()

    def forward(self, a: torch.Tensor, b: torch.Tensor, flows: torch.Tensor, scale: int) -> torch.Tensor:
        h, w = a.shape[-2:]
        size = (h // scale, w // scale)
        a_s, b_s = resize(a, size), resize(b, size)
        f = resize_flow(flows, size)
        x = torch.cat([a_s, b_s, backward_warp(b_s, f[:, :2]), backward_warp(a_s, f[:, 2:]),
                       f * FLOW_INPUT_SCALE], 1)
        y = self.head(x)
        y = y + self.body(y)
        return flows + resize_flow(self.tail(y).to(flows.dtype), (h, w))


class PairFlow(nn.Module):
    """(a, b) -> (B, 4, H, W): flows a->b and b->a in working pixels. H and W: multiples of `multiple`."""

    def __init__(self, widths: tuple[int, ...], scales: tuple[int, ...], depth: int):
        super().__init__()
        self.scales = tuple(scales)
        self.levels = nn.ModuleList(FlowLevel(w, depth) for w in widths)

    @property
    def multiple(self) -> int:
        return self.scales[0] * 4

    def forward(self, a: torch.Tensor, b: torch.Tensor, levels: int | None = None) -> torch.Tensor:
        """`levels`: stop after the first few (coarse) levels, for motion that only needs its broad shape."""
        flows = torch.zeros(a.shape[0], 4, *a.shape[-2:], device=a.device, dtype=a.dtype)
        for level, scale in list(zip(self.levels, self.scales))[:levels]:
            flows = level(a, b, flows, scale)
        return flows
