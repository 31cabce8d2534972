"""The U-Net baseline: synthesises the frame at t from the two frames and a t channel, no motion model.

It predicts a correction to the cross-fade, scaled by 4t(1-t) so that t = 0 and t = 1 give
the inputs back exactly; the correction starts at zero, so training begins from `blend`.
The correction is also gated by how much the two frames differ nearby: where nothing
changed there is nothing to synthesise, and a free-form correction there only adds noise
(measured: it cost up to 9 dB on the still frames of flat cartoons). The benchmark shows
what explicit motion buys over this.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from vfi.models.blocks import conv, upsample2


@dataclass
class UNetConfig:
    widths: tuple[int, ...] = (24, 48, 64, 96)
    change_window: int = 9  # odd: the neighbourhood (pixels) in which the frames must differ
    change_levels: float = 4.0  # 8-bit difference at which the correction is fully open

    def to_dict(self) -> dict:
        return {"widths": list(self.widths), "change_window": self.change_window,
                "change_levels": self.change_levels}


def change_gate(frame0: torch.Tensor, frame1: torch.Tensor, window: int, levels: float) -> torch.Tensor:
    """0 where the two frames agree exactly within `window`, rising to 1 at a difference of `levels`/255."""
    diff = (frame0 - frame1).abs().amax(1, keepdim=True)
    pool = nn.functional.max_pool2d  # separable: a row pass then a column pass, 3x faster than window x window
    nearby = pool(pool(diff, (1, window), 1, (0, window // 2)), (window, 1), 1, (window // 2, 0))
    return (nearby * (255.0 / levels)).clamp(max=1.0)


class UNetInterpolatorNet(nn.Module):
    """frames (B, 3, H, W) + times (B, T) -> (B, T, 3, H, W); H, W multiples of 16."""

    def __init__(self, config: UNetConfig = UNetConfig()):
        super().__init__()
        self.config = config
        widths = tuple(config.widths)
        self.down = nn.ModuleList()
        cin = 7
        for w in widths:
            self.down.append(nn.Sequential(conv(cin, w, stride=2), conv(w, w)))
            cin = w
        self.up = nn.ModuleList()
        for w_skip, w in zip(reversed(widths[:-1]), reversed(widths[1:])):
            self.up.append(nn.Sequential(conv(w + w_skip, w_skip), conv(w_skip, w_skip)))
        self.head = nn.Sequential(conv(widths[0] + 7, 16), nn.Conv2d(16, 3, 3, 1, 1))
        # starts as the cross-fade exactly; training learns the correction
        nn.init.zeros_(self.head[-1].weight)
        nn.init.zeros_(self.head[-1].bias)

    def forward(self, frame0: torch.Tensor, frame1: torch.Tensor, seed=None, times: torch.Tensor = None,
                full0=None, full1=None) -> torch.Tensor:
        b, _, h, w = frame0.shape
        n = times.shape[1]
        rep = lambda x: x.unsqueeze(1).expand(-1, n, *x.shape[1:]).flatten(0, 1)
        t = times.flatten()[:, None, None, None].to(frame0.dtype)
        f0, f1 = rep(frame0), rep(frame1)
        x = torch.cat([f0, f1, t.expand(-1, 1, h, w)], 1)
        skips = []
        y = x
        for stage in self.down:
            y = stage(y)
            skips.append(y)
        for stage, skip in zip(self.up, reversed(skips[:-1])):
            y = stage(torch.cat([upsample2(y, skip.shape[-2:]), skip], 1))
        y = self.head(torch.cat([upsample2(y, (h, w)), x], 1))
        blend = (1 - t) * f0 + t * f1
        gate = rep(change_gate(frame0, frame1, self.config.change_window, self.config.change_levels))  # once per pair
        return (blend + 4 * t * (1 - t) * gate * y).view(b, n, 3, h, w)
