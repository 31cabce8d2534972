"""The path pixels take between frames i and i+1: the solution of a learned second-order ODE.

The state is where frame 0's and frame 1's pixels are (d0, d1) and how fast they move
(v0, v1), plus a few hidden channels, at 1/8 of the working size:
    dd/dt = v,   dv/dt = a + g(state, t, context),
integrated with torchdiffeq from t = 0. The four-frame flows give it a start: the
accelerations a0 = F01 + F0,-1 and a1 = F10 + F12, each scaled by a learned confidence, and
the velocities that make the path end on F01 (and start on F10). With g = 0 the path is that
parabola exactly (the midpoint rule integrates it without error), and g is zero when the
network is new; training learns where real motion leaves it. Only the learned deviation
from the parabola comes from the coarse grid: the parabola itself is evaluated at full
working size, and the deviation is pinned to zero at t = 0 and t = 1 so the ends stay the
input frames' flows. One solve returns the state at every requested t.

A frame that is missing (a clip's end, a scene cut) is replaced by constant-velocity
extrapolation, F0,-1 = -F01 or F12 = -F10: its acceleration is then zero, and the context
is told which neighbours were there.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torchdiffeq import odeint

from vfi.motion.prior import quadratic_paths
from vfi.models.blocks import conv
from vfi.models.warp import resize, resize_flow

PATH_SCALE = 8  # the ODE runs at 1/8 of the working size


class PathField(nn.Module):
    """d(state)/dt; the context and the accelerations are set per solve."""

    def __init__(self, hidden: int, width: int):
        super().__init__()
        self.hidden = hidden
        self.inp = nn.Conv2d(8 + hidden + 1, width, 3, 1, 1)
        self.mid = nn.Conv2d(width, width, 3, 1, 1)
        self.out = nn.Conv2d(width, 4 + hidden, 3, 1, 1)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)
        self.context: torch.Tensor | None = None
        self.accel: torch.Tensor | None = None

    def forward(self, t: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        tt = t.to(z.dtype).expand(z.shape[0], 1, *z.shape[2:])
        x = F.leaky_relu(self.inp(torch.cat([z[:, :8] * 0.25, z[:, 8:], tt], 1)) + self.context, 0.1)
        g = self.out(F.leaky_relu(self.mid(x), 0.1)).to(z.dtype)
        return torch.cat([z[:, 4:8], self.accel + g[:, :4], g[:, 4:]], 1)


class MotionPath(nn.Module):
    def __init__(self, hidden: int = 8, width: int = 32, steps: int = 4, method: str = "midpoint",
                 learned: bool = True):
        super().__init__()
        self.steps, self.method, self.learned = steps, method, learned
        self.context = nn.Sequential(conv(3 * 2 + 2 * 4 + 2, width), nn.Conv2d(width, width, 3, 1, 1))
        self.init_hidden = nn.Conv2d(width, hidden, 3, 1, 1)
        self.gate = nn.Conv2d(width, 2, 3, 1, 1)
        nn.init.zeros_(self.gate.weight)
        nn.init.constant_(self.gate.bias, 2.0)  # start trusting the four-frame acceleration (sigmoid 0.88)
        self.field = PathField(hidden, width)

    def forward(self, frame0, frame1, f01, f10, f0p, f12, has_before, has_after, times):
        """Displacements d0(t), d1(t) of frame 0's and frame 1's pixels: (B, T, 2, H, W) each.

        f0p: flow 0 -> -1 (to the frame before), f12: flow 1 -> 2; has_before/has_after: (B,) bool.
        """
        b = times.shape[0]
        h, w = f01.shape[-2:]
        hb = has_before.view(b, 1, 1, 1).to(f01.dtype)
        ha = has_after.view(b, 1, 1, 1).to(f01.dtype)
        a0 = (f01 + f0p) * hb  # a missing neighbour: straight on at the same speed
        a1 = (f10 + f12) * ha
        small = (h // PATH_SCALE, w // PATH_SCALE)
        s = lambda f: resize_flow(f, small)
        ctx_in = torch.cat([resize(frame0, small), resize(frame1, small), s(f01) * 0.25, s(f10) * 0.25,
                            s(a0) * 0.25, s(a1) * 0.25, hb.expand(-1, 1, *small), ha.expand(-1, 1, *small)], 1)
        ctx = self.context(ctx_in)
        gate = torch.sigmoid(self.gate(ctx)).to(f01.dtype)  # (B, 2, h, w): trust in each frame's acceleration
        tt = times[:, :, None, None, None].to(f01.dtype)
        rep = lambda x: x.unsqueeze(1)
        g = F.interpolate(gate, size=(h, w), mode="bilinear", align_corners=False)
        d0, d1 = quadratic_paths(rep(f01), rep(f10), rep(g[:, :1] * a0), rep(g[:, 1:] * a1), tt)
        if not self.learned:
            return d0, d1
        return self._add_deviation(d0, d1, ctx, gate, s(f01), s(f10), s(a0), s(a1), times)

    def _add_deviation(self, d0, d1, ctx, gate, f01, f10, a0, a1, times):
        """Solve the ODE at 1/8 scale and add its deviation from the parabola, upsampled."""
        b, n = times.shape
        h, w = d0.shape[-2:]
        # the state and the time grid stay float32 under autocast: close times must not collide
        f01, f10, a0, a1, gate = (x.float() for x in (f01, f10, a0, a1, gate))
        a0, a1 = gate[:, :1] * a0, gate[:, 1:] * a1
        start = torch.cat([torch.zeros_like(f01), f10, f01 - a0 / 2, -f10 - a1 / 2,
                           self.init_hidden(ctx).float()], 1)
        grid = torch.unique(torch.cat([times.flatten().float(),
                                       torch.linspace(0, 1, self.steps + 1, device=times.device)]))
        self.field.context, self.field.accel = ctx, torch.cat([a0, a1], 1)
        try:
            states = odeint(self.field, start, grid, method=self.method)  # (G, B, C, h, w), a step per grid interval
        finally:
            self.field.context = self.field.accel = None
        index = torch.searchsorted(grid, times.float().contiguous())  # (B, T)
        picked = states.permute(1, 0, 2, 3, 4)[torch.arange(b, device=grid.device)[:, None], index][:, :, :4]
        tt = times.float()[:, :, None, None, None]
        exact0, exact1 = quadratic_paths(f01.unsqueeze(1), f10.unsqueeze(1), a0.unsqueeze(1), a1.unsqueeze(1), tt)
        dev = picked - torch.cat([exact0, exact1], 2)
        end = states[-1, :, :4].unsqueeze(1) - torch.cat(quadratic_paths(f01, f10, a0, a1, 1.0), 1).unsqueeze(1)
        dev = dev - tt * end  # zero at t = 0 (by the start) and at t = 1
        dev = resize_flow(dev.flatten(0, 1), (h, w)).view(b, n, 4, h, w).to(d0.dtype)
        return d0 + dev[:, :, :2], d1 + dev[:, :, 2:]
