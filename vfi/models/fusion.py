"""Blending the two warped frames at t: a small U-Net at half the working size.

It sees both warps, the flows that made them, t, where the two-way flows disagree
(occlusions, carried to t) and how far the warps differ, and predicts the occlusion mask
logit and a colour residual that `ode.compose` applies. Its output starts at zero, where
the blend is the occlusion rule of the classical `flow`.
"""

from __future__ import annotations

import torch
from torch import nn

from vfi.models.blocks import conv, upsample2
from vfi.models.ode import fb_occlusion, repeat_per_time, with_occlusion_prior
from vfi.models.warp import backward_warp, resize, resize_flow


class WarpFusion(nn.Module):
    def __init__(self, width: int = 24):
        super().__init__()
        self.inp = conv(3 * 2 + 2 * 2 + 4, width)
        self.down = nn.Sequential(conv(width, 32, stride=2), conv(32, 32))
        self.up = conv(32 + width, width)
        self.out = nn.Conv2d(width, 4, 3, 1, 1)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)

    def forward(self, frame0, frame1, f01, f10, ft0, ft1, times) -> torch.Tensor:
        """Fusion logits (B*T, 4, H/2, W/2); ft0, ft1: (B*T, 2, H, W) backward flows at each t."""
        n = times.shape[1]
        h, w = frame0.shape[-2:]
        q = (h // 2, w // 2)
        rep = lambda x: repeat_per_time(x, n)
        qt0, qt1 = resize_flow(ft0, q), resize_flow(ft1, q)
        w0, w1 = backward_warp(rep(resize(frame0, q)), qt0), backward_warp(rep(resize(frame1, q)), qt1)
        occ0, occ1 = resize(fb_occlusion(f01, f10), q), resize(fb_occlusion(f10, f01), q)
        gone_in_1, new_in_1 = backward_warp(rep(occ0), qt0), backward_warp(rep(occ1), qt1)
        tq = times.flatten()[:, None, None, None].to(w0.dtype).expand(-1, 1, *q)
        x = torch.cat([w0, w1, qt0 * 0.125, qt1 * 0.125, tq, gone_in_1, new_in_1,
                       (w0 - w1).abs().mean(1, keepdim=True)], 1)
        x1 = self.inp(x)
        y = self.out(self.up(torch.cat([x1, upsample2(self.down(x1), x1.shape[-2:])], 1)))
        return with_occlusion_prior(y, gone_in_1, new_in_1)
