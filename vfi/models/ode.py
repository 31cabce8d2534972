"""The continuous-time ODE interpolator.

Motion between two frames is split in two:
- where things end up: DIS flow seeds, refined by a small network (endpoint flows F01, F10);
- how they get there: the backward flows F_t0, F_t1 follow the linear-motion prior through
  those endpoints plus a learned deviation d(t) that is the solution of an ODE,
  dz/dt = f(z, t, context), integrated with torchdiffeq. One solve returns the state at
  every requested t, so 8x costs little more than 2x in the motion stage, and the motion may
  curve and accelerate. The deviation enters as d(t) - t d(1), so at t = 0 and t = 1 the
  flows are exactly those of the input frames.
Both frames are then warped to t and fused by a small U-Net that predicts an occlusion
mask and a residual, weighted so that t = 0 and t = 1 return the inputs exactly.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn
from torchdiffeq import odeint

from vfi.motion.occlusion import occlusion_from_disagreement
from vfi.motion.prior import intermediate_flows
from vfi.models.blocks import Encoder, conv, upsample2
from vfi.models.correlation import local_correlation
from vfi.models.warp import backward_warp, resize, resize_flow


@dataclass
class ODEConfig:
    hidden: int = 16
    ode_width: int = 32
    fuse_width: int = 24
    motion: str = "ode"  # "ode" or "linear": the same network without the learned trajectory
    method: str = "euler"
    steps: int = 4
    corr_radius: int = 0  # > 0: a second 1/8-scale flow correction that reads a local cost volume

    def to_dict(self) -> dict:
        return asdict(self)


class TrajectoryField(nn.Module):
    """d(state)/dt for the ODE: a small conv net conditioned on the pair's context and on t."""

    def __init__(self, state: int, width: int):
        super().__init__()
        self.inp = nn.Conv2d(state + 1, width, 3, 1, 1)
        self.mid = nn.Conv2d(width, width, 3, 1, 1)
        self.out = nn.Conv2d(width, state, 3, 1, 1)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)
        self.context: torch.Tensor | None = None
        self.evaluations = 0

    def forward(self, t: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        self.evaluations += 1
        tt = t.to(z.dtype).expand(z.shape[0], 1, z.shape[2], z.shape[3])
        x = F.leaky_relu(self.inp(torch.cat([z, tt], 1)) + self.context, 0.1)
        x = F.leaky_relu(self.mid(x), 0.1)
        return self.out(x).to(z.dtype)


class ODEInterpolatorNet(nn.Module):
    """frames (B, 3, H, W) + seed flows (B, 4, H, W) + times (B, T) -> (B, T, 3, H, W).

    H and W must be multiples of 8. The frames given are the model's working resolution;
    `full0`/`full1` (optional) are larger originals that only the final warp and blend touch.
    """

    def __init__(self, config: ODEConfig = ODEConfig()):
        super().__init__()
        self.config = config
        c = config
        self.encoder = Encoder((16, 24, 32))
        self.refine = nn.Sequential(conv(32 * 4 + 4, 48), conv(48, 48), nn.Conv2d(48, 4, 3, 1, 1))
        nn.init.zeros_(self.refine[-1].weight)
        nn.init.zeros_(self.refine[-1].bias)
        self.corr_head = None
        if c.corr_radius > 0:
            cost = 2 * (2 * c.corr_radius + 1) ** 2
            self.corr_head = nn.Sequential(conv(cost + 32 * 2 + 4, 48), conv(48, 48), nn.Conv2d(48, 4, 3, 1, 1))
            # zero output: a network grown from one without the head starts out identical to it
            nn.init.zeros_(self.corr_head[-1].weight)
            nn.init.zeros_(self.corr_head[-1].bias)
        state = 4 + c.hidden
        self.context = nn.Sequential(conv(32 * 2 + 4, c.ode_width), nn.Conv2d(c.ode_width, c.ode_width, 3, 1, 1))
        self.init_hidden = nn.Conv2d(32 * 2 + 4, c.hidden, 3, 1, 1)
        self.field = TrajectoryField(state, c.ode_width)
        fin = 6 + 4 + 1 + 24 * 2 + 3
        self.fuse_in = conv(fin, c.fuse_width)
        self.fuse_down = nn.Sequential(conv(c.fuse_width, 32, stride=2), conv(32, 32))
        self.fuse_up = conv(32 + c.fuse_width, c.fuse_width)
        self.fuse_out = nn.Conv2d(c.fuse_width, 4, 3, 1, 1)
        # starts as the classical occlusion-aware blend, with no residual; training learns the correction
        nn.init.zeros_(self.fuse_out.weight)
        nn.init.zeros_(self.fuse_out.bias)

    def endpoint_flows(self, feats0, feats1, seed: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Refine the seed flows at 1/8 scale; return F01, F10 at full working scale."""
        h, w = seed.shape[-2:]
        f0, f1 = feats0[2], feats1[2]
        small = resize_flow(seed[:, :2], f0.shape[-2:]), resize_flow(seed[:, 2:], f0.shape[-2:])
        warped1, warped0 = backward_warp(f1, small[0]), backward_warp(f0, small[1])
        delta = self.refine(torch.cat([f0, f1, warped1, warped0, *small], 1))
        if self.corr_head is not None:
            r = self.config.corr_radius
            cost = [local_correlation(f0, warped1, r), local_correlation(f1, warped0, r)]
            delta = delta + self.corr_head(torch.cat([*cost, f0, f1, small[0] / 8, small[1] / 8], 1))
        f01 = seed[:, :2] + resize_flow(delta[:, :2], (h, w))
        f10 = seed[:, 2:] + resize_flow(delta[:, 2:], (h, w))
        return f01, f10

    def trajectory(self, feats0, feats1, f01, f10, times: torch.Tensor) -> torch.Tensor:
        """Learned deviation from linear motion at each t: (B, T, 4, h/8, w/8), zero at t = 0 and 1."""
        b, n = times.shape
        f0, f1 = feats0[2], feats1[2]
        size = f0.shape[-2:]
        if self.config.motion == "linear":
            return torch.zeros(b, n, 4, *size, device=f0.device, dtype=f0.dtype)
        ctx_in = torch.cat([f0, f1, resize_flow(f01, size), resize_flow(f10, size)], 1)
        self.field.context = self.context(ctx_in)
        # the state and the time grid stay float32 under autocast: close times must not collide
        z0 = torch.cat([torch.zeros(b, 4, *size, device=f0.device), self.init_hidden(ctx_in).float()], 1)
        grid = torch.unique(torch.cat([times.flatten().float(), times.new_tensor([0.0, 1.0]).float()]))
        states = odeint(self.field, z0, grid, method=self.config.method,
                        options={"step_size": 1.0 / self.config.steps})
        self.field.context = None
        d = states[:, :, :4]  # (G, B, 4, h, w)
        index = torch.searchsorted(grid, times.float().contiguous())  # (B, T)
        picked = d.permute(1, 0, 2, 3, 4)[torch.arange(b, device=d.device)[:, None], index]  # (B, T, 4, h, w)
        d1 = d[-1].unsqueeze(1)
        return picked - times[:, :, None, None, None].to(d.dtype) * d1

    def plan(self, frame0: torch.Tensor, frame1: torch.Tensor, seed: torch.Tensor,
             times: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Everything at the working scale: flows F_t0, F_t1 (B*T, 2, h, w) and fusion logits (B*T, 4, h/4, w/4)."""
        b, _, h, w = frame0.shape
        n = times.shape[1]
        feats0, feats1 = self.encoder(frame0), self.encoder(frame1)
        f01, f10 = self.endpoint_flows(feats0, feats1, seed)
        # the linear prior at each t: (B, T, 2, h, w)
        ft0, ft1 = intermediate_flows(f01.unsqueeze(1), f10.unsqueeze(1), times[:, :, None, None, None])
        dev = self.trajectory(feats0, feats1, f01, f10, times)
        dev = resize_flow(dev.flatten(0, 1), (h, w)).view(b, n, 4, h, w)
        ft0 = (ft0 + dev[:, :, :2]).flatten(0, 1)
        ft1 = (ft1 + dev[:, :, 2:]).flatten(0, 1)

        # fusion at 1/4 of the working size, told where the flows disagree (occlusions)
        q = feats0[1].shape[-2:]
        rep = lambda x: repeat_per_time(x, n)
        occ0, occ1 = resize(fb_occlusion(f01, f10), q), resize(fb_occlusion(f10, f01), q)
        q0, q1 = resize(frame0, q), resize(frame1, q)
        qt0, qt1 = resize_flow(ft0, q), resize_flow(ft1, q)
        warped0, warped1 = backward_warp(rep(q0), qt0), backward_warp(rep(q1), qt1)
        gone_in_1, new_in_1 = backward_warp(rep(occ0), qt0), backward_warp(rep(occ1), qt1)
        tq = times.flatten()[:, None, None, None].to(frame0.dtype)
        x = torch.cat([warped0, warped1, qt0 / 8, qt1 / 8, tq.expand(-1, 1, *q),
                       backward_warp(rep(feats0[1]), qt0), backward_warp(rep(feats1[1]), qt1),
                       gone_in_1, new_in_1, (warped0 - warped1).abs().mean(1, keepdim=True)], 1)
        x1 = self.fuse_in(x)
        x2 = self.fuse_down(x1)
        y = self.fuse_out(self.fuse_up(torch.cat([x1, upsample2(x2, x1.shape[-2:])], 1)))
        return ft0, ft1, with_occlusion_prior(y, gone_in_1, new_in_1)

    def forward(self, frame0: torch.Tensor, frame1: torch.Tensor, seed: torch.Tensor, times: torch.Tensor,
                full0: torch.Tensor | None = None, full1: torch.Tensor | None = None) -> torch.Tensor:
        ft0, ft1, y = self.plan(frame0, frame1, seed, times)
        full0 = frame0 if full0 is None else full0
        full1 = frame1 if full1 is None else full1
        return compose(full0, full1, ft0, ft1, y, times)


def fb_occlusion(f01: torch.Tensor, f10: torch.Tensor) -> torch.Tensor:
    """Soft occlusion of frame-0 pixels in frame 1 (B, 1, h, w), from forward-backward flow disagreement.

    The same rule as the classical `flow` interpolator, so the fusion starts from its blend.
    """
    back = backward_warp(f10, f01)
    err = ((f01 + back) ** 2).sum(1, keepdim=True)
    mag = (f01 ** 2).sum(1, keepdim=True) + (back ** 2).sum(1, keepdim=True)
    return occlusion_from_disagreement(err, mag)


def with_occlusion_prior(y: torch.Tensor, gone_in_1: torch.Tensor, new_in_1: torch.Tensor) -> torch.Tensor:
    """Fusion logits with the occlusion rule added to the mask channel: where frame 0's pixels are
    hidden in frame 1 trust frame 1's warp, where frame 1's are new trust frame 0's, as `flow` does."""
    prior = torch.log(1.0 - new_in_1 + 1e-3) - torch.log(1.0 - gone_in_1 + 1e-3)
    return torch.cat([y[:, :1] + prior.to(y.dtype), y[:, 1:]], 1)


def repeat_per_time(x: torch.Tensor, n: int) -> torch.Tensor:
    """(B, ...) -> (B*n, ...), each sample repeated for its n times."""
    return x.unsqueeze(1).expand(-1, n, *x.shape[1:]).flatten(0, 1)


def blend_weights(y: torch.Tensor, t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Weight of the frame-0 warp and the residual from the fusion logits; t: (B*T, 1, 1, 1).

    Weights (1 - t) m and t (1 - m), normalised, and a residual scaled by 4 t (1 - t): at
    t = 0 and t = 1 the output is the warped input itself.
    """
    mask = torch.sigmoid(y[:, :1])
    a0, a1 = (1 - t) * mask, t * (1 - mask)
    return a0 / (a0 + a1 + 1e-6), 4 * t * (1 - t) * torch.tanh(y[:, 1:]) * 0.5


def compose(full0: torch.Tensor, full1: torch.Tensor, ft0: torch.Tensor, ft1: torch.Tensor, y: torch.Tensor,
            times: torch.Tensor) -> torch.Tensor:
    """Warp the full-size frames to each t and blend them: (B, T, 3, H, W).

    The tensor twin of `motion.compose.warp_and_mix`, for the GPU and for training."""
    b, n = times.shape
    size = full0.shape[-2:]
    t = times.flatten()[:, None, None, None].to(full0.dtype)
    ft0, ft1 = resize_flow(ft0, size), resize_flow(ft1, size)
    weight0, residual = blend_weights(F.interpolate(y, size=size, mode="bilinear", align_corners=False), t)
    w0 = backward_warp(repeat_per_time(full0, n), ft0)
    w1 = backward_warp(repeat_per_time(full1, n), ft1)
    out = w1 + weight0 * (w0 - w1) + residual
    return out.view(b, n, 3, *size)
