"""The four-frame continuous-time ODE interpolator: learned motion, no DIS.

To make frames between i and i+1 it reads frames i-1, i, i+1 and i+2:
- `pair_flow`: two-way flow of the pair, coarse to fine, and (coarse levels only) the flows
  from frame i back to i-1 and from i+1 on to i+2;
- `motion_path`: the path between i and i+1 as the solution of a learned ODE started from
  the velocities and accelerations those four frames give (a thrown ball's curve, a car
  braking), one solve for every t;
- `fusion`: both frames warped to t along the path and blended with a learned occlusion
  mask and residual, weighted so t = 0 and t = 1 return the inputs.
A missing neighbour (a clip's end, a scene cut) is marked, and the path there is straight.
Where the two frames agree exactly within a few pixels nothing moves and nothing is added
(the U-Net's change gate): a still picture comes back bit for bit, by design.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn

from vfi.motion.prior import path_flows
from vfi.models.fusion import WarpFusion
from vfi.models.motion_path import MotionPath
from vfi.models.ode import compose, repeat_per_time
from vfi.models.pair_flow import PairFlow
from vfi.models.unet import change_gate
from vfi.models.warp import resize


@dataclass
class ODE4Config:
    flow_widths: tuple = (128, 96, 64, 48)
    flow_scales: tuple = (8, 4, 2, 1)
    flow_depth: int = 4
    cost_radius: int = 3  # each flow level's cost volume reaches this many cells (of 4 level pixels) each way
    side_levels: int = 3  # levels run for the flows to the outer frames (their broad shape is enough)
    hidden: int = 8
    path_width: int = 32
    steps: int = 4
    method: str = "midpoint"
    motion: str = "ode"  # "ode"; "quadratic": the four-frame parabola without the learned ODE; "linear": two frames
    fuse_width: int = 24
    change_window: int = 9  # odd: the neighbourhood (pixels) in which the frames must differ for motion
    change_levels: float = 4.0  # 8-bit difference at which the motion is fully free

    def to_dict(self) -> dict:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}


class ODE4Net(nn.Module):
    """frames (B, 3, H, W) [+ the frames before and after] + times (B, T) -> (B, T, 3, H, W).

    H and W must be multiples of `multiple` (32). `seed` is accepted and ignored: the motion is
    the network's own. `has_before` / `has_after` (B,) say which rows' outer frames are real.
    """

    def __init__(self, config: ODE4Config = ODE4Config()):
        super().__init__()
        self.config = config
        c = config
        self.flow = PairFlow(tuple(c.flow_widths), tuple(c.flow_scales), c.flow_depth, c.cost_radius)
        self.path = MotionPath(c.hidden, c.path_width, c.steps, c.method, learned=c.motion == "ode")
        self.fusion = WarpFusion(c.fuse_width)

    @property
    def multiple(self) -> int:
        return self.flow.multiple

    def outer_flows(self, frame0, frame1, f01, f10, before, after, has_before, has_after):
        """Flows 0 -> -1 and 1 -> 2, both pairs in one batch; rows without the frame get the straight-on value."""
        f0p, f12 = -f01, -f10
        if before is not None and after is not None and bool((has_before | has_after).any()):
            side = self.flow(torch.cat([frame0, frame1]), torch.cat([before, after]), levels=self.config.side_levels)
            b = frame0.shape[0]
            f0p, f12 = side[:b, :2], side[b:, :2]
        return f0p, f12

    def plan(self, frame0, frame1, seed, times, before=None, after=None, has_before=None, has_after=None):
        """Backward flows F_t0, F_t1 (B*T, 2, H, W) and fusion logits (B*T, 4, H/2, W/2), at the working size."""
        return self._plan(frame0, frame1, times, before, after, has_before, has_after)[:3]

    def _plan(self, frame0, frame1, times, before, after, has_before, has_after):
        """`plan`'s three results and the pair's flows F01, F10 (B, 4, H, W), which training also scores."""
        b = frame0.shape[0]
        missing = torch.zeros(b, dtype=torch.bool, device=frame0.device)
        if self.config.motion == "linear" or before is None:
            has_before = has_after = missing
        has_before = missing if has_before is None else has_before.bool()
        has_after = missing if has_after is None else has_after.bool()
        flows = self.flow(frame0, frame1)
        f01, f10 = flows[:, :2], flows[:, 2:]
        f0p, f12 = self.outer_flows(frame0, frame1, f01, f10, before, after, has_before, has_after)
        d0, d1 = self.path(frame0, frame1, f01, f10, f0p, f12, has_before, has_after, times)
        tt = times[:, :, None, None, None].to(d0.dtype)
        ft0, ft1 = path_flows(d0, d1, f01.unsqueeze(1), f10.unsqueeze(1), tt)
        gate = change_gate(frame0, frame1, self.config.change_window, self.config.change_levels)
        gate = repeat_per_time(gate.to(ft0.dtype), times.shape[1])
        ft0, ft1 = ft0.flatten(0, 1) * gate, ft1.flatten(0, 1) * gate
        y = self.fusion(frame0, frame1, f01, f10, ft0, ft1, times)
        return ft0, ft1, torch.cat([y[:, :1], y[:, 1:] * resize(gate, y.shape[-2:]).to(y.dtype)], 1), flows

    def forward(self, frame0, frame1, seed, times, full0=None, full1=None, before=None, after=None,
                has_before=None, has_after=None, with_flows: bool = False):
        """`with_flows`: return (frames, the pair's flows F01 and F10 (B, 4, H, W)), for training."""
        ft0, ft1, y, flows = self._plan(frame0, frame1, times, before, after, has_before, has_after)
        out = compose(frame0 if full0 is None else full0, frame1 if full1 is None else full1, ft0, ft1, y, times)
        return (out, flows) if with_flows else out
