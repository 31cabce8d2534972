"""Taught motion: the intermediate flows F_t->0, F_t->1 and the blend mask at any t, as a small network
trained on a teacher's dense motion corrects what the classical motion gives.

Where a pixel at time t comes from obeys an ODE, integrated with torchdiffeq:
    dF/dt = dP/dt + g(F - P, h, t, context),    F(0) = P(0) = (0, F01),
where P(t) is the classical linear-motion path through DIS's F01 and F10 (`motion.prior`), and g is the
learned correction of its velocity: it looks at both frames' features warped along the current flows
and at the pair's context, and keeps a few hidden channels of its own. With g = 0 (a new network: its
last layer is zero) the solution is P itself, which is `flow`'s motion, so training starts from `flow`'s
picture and learns only the correction. P is integrated exactly at the working size (its velocity is
linear in t and the midpoint rule is exact for it); the correction D = F - P is solved on a grid at
1/4 of the working size and upsampled. One solve gives every t a job asks for.

The frame at t is both frames warped backwards along the flows, mixed by a mask that starts as
`flow`'s occlusion rule and is corrected per region by a learned logit. Flows and mask are corrected
only near where the two frames differ: where nothing changed the classical path is kept, still
pictures stay exactly still (an ungated student lost up to 45 dB on repeated cartoon frames).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn
from torchdiffeq import odeint

from vfi.models.blocks import conv
from vfi.models.correlation import local_correlation
from vfi.models.unet import change_gate
from vfi.models.warp import backward_warp
from vfi.motion.occlusion import occlusion_from_disagreement
from vfi.motion.prior import intermediate_flows

GRID = 4  # the correction's grid: 1/4 of the working size
FLOW_UNIT = 8.0  # flows enter the networks divided by this many pixels


@dataclass
class TaughtConfig:
    features: int = 32  # the frames' feature channels at the grid
    width: int = 48  # the context's and the ODE field's channels
    hidden: int = 8  # the ODE state's own channels beside the flow correction
    steps: int = 4  # ODE steps between t = 0 and t = 1 (more where a job asks for more times)
    method: str = "midpoint"
    motion: str = "ode"  # "ode", or "direct": the correction at each t on its own (ablation)
    corr_radius: int = 2  # the field sees how the two warped features match within this many grid cells
    change_window: int = 33  # odd: corrections only within this many pixels of where the two frames differ
    change_levels: float = 4.0  # 8-bit difference at which the correction is fully open

    def to_dict(self) -> dict:
        return asdict(self)


def fb_occlusion(f01: torch.Tensor, f10: torch.Tensor) -> torch.Tensor:
    """Soft occlusion of frame-0 pixels in frame 1 (B, 1, h, w): `flow`'s forward-backward rule in torch."""
    back = backward_warp(f10, f01)
    err = ((f01 + back) ** 2).sum(1, keepdim=True)
    mag = (f01 ** 2).sum(1, keepdim=True) + (back ** 2).sum(1, keepdim=True)
    return occlusion_from_disagreement(err, mag)


def prior_weight(occ0: torch.Tensor, occ1: torch.Tensor, ft0: torch.Tensor, ft1: torch.Tensor,
                 t: torch.Tensor) -> torch.Tensor:
    """`flow`'s weight of frame 0's warp at t (`motion.compose.blend_maps`), along the given flows."""
    new_in_1, gone_in_1 = backward_warp(occ1, ft1), backward_warp(occ0, ft0)
    w0 = (1 - t) * (1.0 - new_in_1 + 1e-3)
    w1 = t * (1.0 - gone_in_1 + 1e-3)
    return w0 / (w0 + w1)


def pool_flow(flow: torch.Tensor) -> torch.Tensor:
    """Working-size flows averaged over each grid cell (still in working-size pixels)."""
    return F.avg_pool2d(flow, GRID)


def grid_up(x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    return F.interpolate(x, size=size, mode="bilinear", align_corners=False)


class CorrectionField(nn.Module):
    """g: the correction's velocity and the hidden channels' change; the pair's tensors are set per solve."""

    def __init__(self, config: TaughtConfig):
        super().__init__()
        c = config
        self.radius = c.corr_radius
        self.inp = nn.Conv2d(2 * c.features + (2 * c.corr_radius + 1) ** 2 + 2 + 1 + 4 + c.hidden + 1, c.width, 3, 1, 1)
        span = torch.arange(-c.corr_radius, c.corr_radius + 1, dtype=torch.float32)
        dy, dx = torch.meshgrid(span, span, indexing="ij")  # local_correlation's order: dy outer, dx inner
        self.register_buffer("offsets", torch.stack([dx.flatten(), dy.flatten()]), persistent=False)
        self.mid = nn.Conv2d(c.width, c.width, 3, 1, 1)
        self.out = nn.Conv2d(c.width, 4 + c.hidden, 3, 1, 1)
        nn.init.zeros_(self.out.weight)  # g = 0: the classical path exactly
        nn.init.zeros_(self.out.bias)
        self.pair: dict | None = None

    def look(self, t: torch.Tensor, correction: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Both frames' features warped along the flows at t, and how far they differ."""
        p = self.pair
        p0, p1 = intermediate_flows(p["f01"], p["f10"], t)
        w0 = backward_warp(p["feats0"], (p0 + correction[:, :2]) / GRID)
        w1 = backward_warp(p["feats1"], (p1 + correction[:, 2:4]) / GRID)
        return w0, w1, (w0 - w1).abs().mean(1, keepdim=True)

    def match(self, w0: torch.Tensor, w1: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """How well frame 1's warp matches frame 0's at each nearby offset (cosine), and the offset where it
        matches best (a soft argmax, in grid cells): the residual motion, handed to the field as it is."""
        cost = local_correlation(F.normalize(w0, dim=1), F.normalize(w1, dim=1), self.radius) * w0.shape[1]
        best = torch.einsum("bkhw,ck->bchw", torch.softmax(cost * 10, dim=1), self.offsets.to(cost.dtype))
        return cost, best

    def forward(self, t: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        correction = z[:, :4]
        w0, w1, differ = self.look(t, correction)
        tt = t.to(z.dtype).expand(z.shape[0], 1, *z.shape[2:])
        x = torch.cat([w0, w1, *self.match(w0, w1), differ, correction / FLOW_UNIT, z[:, 4:], tt], 1)
        x = F.leaky_relu(self.inp(x) + self.pair["context"], 0.1)
        g = self.out(F.leaky_relu(self.mid(x), 0.1)).float()
        return torch.cat([g[:, :4] * FLOW_UNIT, g[:, 4:]], 1)


class TaughtMotionNet(nn.Module):
    """frames (B, 3, H, W) in [0, 1] at the working size, DIS flows (B, 4, H, W) (F01, F10 in pixels) and
    times (B, T) -> flows F_t->0, F_t->1 (B, T, 2, H, W) and frame 0's weight (B, T, 1, H, W).
    H and W must be multiples of GRID."""

    def __init__(self, config: TaughtConfig = TaughtConfig()):
        super().__init__()
        self.config = config
        c = config
        self.encoder = nn.Sequential(conv(3, 16, stride=2), conv(16, 16), conv(16, c.features, stride=2),
                                     conv(c.features, c.features))
        self.context = nn.Sequential(conv(2 * c.features + 4 + 2, c.width), nn.Conv2d(c.width, c.width, 3, 1, 1))
        self.init_hidden = nn.Conv2d(c.width, c.hidden, 3, 1, 1)
        self.field = CorrectionField(c)
        self.mask = nn.Sequential(conv(c.hidden + c.width + 1, 32), nn.Conv2d(32, 1, 3, 1, 1))
        nn.init.zeros_(self.mask[-1].weight)  # starts as `flow`'s occlusion rule
        nn.init.zeros_(self.mask[-1].bias)

    def forward(self, frame0: torch.Tensor, frame1: torch.Tensor, seed: torch.Tensor, times: torch.Tensor
                ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        b, _, h, w = frame0.shape
        n = times.shape[1]
        f01, f10 = seed[:, :2].float(), seed[:, 2:].float()
        occ0, occ1 = fb_occlusion(f01, f10), fb_occlusion(f10, f01)
        feats = self.encoder(torch.cat([frame0, frame1]))
        feats0, feats1 = feats[:b].float(), feats[b:].float()  # warped in float32: bf16 coordinates are too coarse
        g01, g10 = pool_flow(f01), pool_flow(f10)
        context = self.context(torch.cat([feats0, feats1, g01 / FLOW_UNIT, g10 / FLOW_UNIT,
                                          F.avg_pool2d(occ0, GRID), F.avg_pool2d(occ1, GRID)], 1))
        start = torch.cat([torch.zeros_like(g01), torch.zeros_like(g10), self.init_hidden(context).float()], 1)
        self.field.pair = {"f01": g01, "f10": g10, "feats0": feats0, "feats1": feats1, "context": context}
        try:
            states = self._solve(start, times)  # (B, T, C, h/GRID, w/GRID)
            correction = states[:, :, :4].flatten(0, 1)
            rep = lambda x: x.unsqueeze(1).expand(-1, n, *x.shape[1:]).flatten(0, 1)
            self.field.pair = {k: rep(v) for k, v in self.field.pair.items()}
            tt = times.flatten()[:, None, None, None].float()
            differ = self.field.look(tt, correction)[2]
            logit = self.mask(torch.cat([states[:, :, 4:].flatten(0, 1), self.field.pair["context"], differ], 1))
        finally:
            self.field.pair = None
        p0, p1 = intermediate_flows(rep(f01), rep(f10), tt)
        gate = rep(change_gate(frame0.float(), frame1.float(), self.config.change_window, self.config.change_levels))
        up = grid_up(correction, (h, w)) * gate
        ft0, ft1 = p0 + up[:, :2], p1 + up[:, 2:]
        prior = prior_weight(rep(occ0), rep(occ1), ft0, ft1, tt).clamp(1e-4, 1 - 1e-4)
        weight0 = torch.sigmoid(torch.logit(prior) + grid_up(logit.float(), (h, w)) * gate)
        shape = lambda x: x.view(b, n, x.shape[1], h, w)
        return shape(ft0), shape(ft1), shape(weight0)

    def _solve(self, start: torch.Tensor, times: torch.Tensor) -> torch.Tensor:
        """The state at each requested t: (B, T, C, h, w). Times stay float32 under autocast, so close
        times do not collide."""
        b, n = times.shape
        if self.config.motion == "direct":
            out = []
            for j in range(n):
                t = times[:, j].float().view(b, 1, 1, 1)
                out.append(start + self.field(t, start))  # one look at the classical path, no trajectory
            return torch.stack(out, 1)
        steps = torch.linspace(0, 1, self.config.steps + 1, device=times.device)
        last = times.max().float()
        grid = torch.unique(torch.cat([times.flatten().float(), steps[steps <= last]]))  # no step past the last t
        states = odeint(self.field, start, grid, method=self.config.method)  # (G, B, C, h, w)
        index = torch.searchsorted(grid, times.float().contiguous())
        return states.permute(1, 0, 2, 3, 4)[torch.arange(b, device=grid.device)[:, None], index]


def render(frame0: torch.Tensor, frame1: torch.Tensor, ft0: torch.Tensor, ft1: torch.Tensor, weight0: torch.Tensor
           ) -> torch.Tensor:
    """The frames at t (B, T, 3, H, W) from frames (B, 3, H, W) and the net's (B, T, ...) flows and weights."""
    b, n = ft0.shape[:2]
    rep = lambda x: x.unsqueeze(1).expand(-1, n, *x.shape[1:]).flatten(0, 1)
    w0 = backward_warp(rep(frame0), ft0.flatten(0, 1))
    w1 = backward_warp(rep(frame1), ft1.flatten(0, 1))
    m = weight0.flatten(0, 1)
    return (w1 + m * (w0 - w1)).view(b, n, *frame0.shape[1:])
