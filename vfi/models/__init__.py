"""Learned interpolators: architectures by name, each with its default config."""

from .ode import ODEConfig, ODEInterpolatorNet
from .unet import UNetConfig, UNetInterpolatorNet

ARCHITECTURES = {
    # name: (network class, config class, needs DIS seed flows, size multiple at working scale)
    "ode": (ODEInterpolatorNet, ODEConfig, True, 8),
    "unet": (UNetInterpolatorNet, UNetConfig, False, 16),
}


def build_network(arch: str, config: dict | None = None):
    net_cls, cfg_cls, _, _ = ARCHITECTURES[arch]
    cfg = cfg_cls(**(config or {}))
    return net_cls(cfg)
