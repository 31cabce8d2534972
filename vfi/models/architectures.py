"""The learned architectures by name, each with its network, its config and what it needs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional

from torch import nn

from vfi.models.ode import ODEConfig, ODEInterpolatorNet
from vfi.models.ode4 import ODE4Config, ODE4Net
from vfi.models.taught import GRID, TaughtConfig, TaughtMotionNet
from vfi.models.taught_interpolator import TaughtInterpolator
from vfi.models.select import SelectConfig, SelectInterpolator, SelectNet
from vfi.models.unet import UNetConfig, UNetInterpolatorNet


@dataclass(frozen=True)
class Architecture:
    name: str
    network: type[nn.Module]
    config: type
    motion_seed: bool  # takes DIS seed flows (so it follows motion from pair to pair)
    multiple: int  # height and width at the working scale must be multiples of this
    weights: str  # its pretrained weights, a file in weights/
    window: bool = False  # reads the frames before and after the pair (four-frame motion)
    reduced: bool = False  # plans large frames at a reduced working scale (a power-of-two shrink)
    plans: bool = False  # has `plan` (flows at t and fusion logits): the CPU can warp and blend in OpenCV
    interpolator: Optional[Callable] = None  # (network, name) -> Interpolator; None: the generic adapter
    fits_frames: bool = True  # trained by `vfi.training` on frame crops (the selector trains on cached candidates)


ARCHITECTURES: dict[str, Architecture] = {a.name: a for a in (
    Architecture("ode", ODEInterpolatorNet, ODEConfig, motion_seed=True, multiple=8, weights="ode.pt",
                 reduced=True, plans=True),
    Architecture("ode4", ODE4Net, ODE4Config, motion_seed=False, multiple=32, weights="ode4.pt",
                 window=True, reduced=True, plans=True),
    Architecture("unet", UNetInterpolatorNet, UNetConfig, motion_seed=False, multiple=16, weights="unet.pt"),
    Architecture("select", SelectNet, SelectConfig, motion_seed=True, multiple=1, weights="select.pt",
                 interpolator=SelectInterpolator, fits_frames=False),
    Architecture("taught", TaughtMotionNet, TaughtConfig, motion_seed=True, multiple=GRID, weights="taught.pt",
                 interpolator=TaughtInterpolator, fits_frames=False),
)}


def build_network(arch: str, config: dict | None = None) -> nn.Module:
    spec = ARCHITECTURES[arch]
    return spec.network(spec.config(**(config or {})))
