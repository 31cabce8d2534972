"""Small convolutional building blocks shared by the models."""

from __future__ import annotations

import torch
from torch import nn


def conv(cin: int, cout: int, stride: int = 1, act: bool = True) -> nn.Sequential:
    layers: list[nn.Module] = [nn.Conv2d(cin, cout, 3, stride, 1)]
    if act:
        layers.append(nn.LeakyReLU(0.1, inplace=True))
    return nn.Sequential(*layers)


class Encoder(nn.Module):
    """Shared feature pyramid: features at 1/2, 1/4 and 1/8 of the input size."""

    def __init__(self, widths: tuple[int, int, int] = (16, 24, 32)):
        super().__init__()
        self.stages = nn.ModuleList()
        cin = 3
        for w in widths:
            self.stages.append(nn.Sequential(conv(cin, w, stride=2), conv(w, w)))
            cin = w

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        feats = []
        for stage in self.stages:
            x = stage(x)
            feats.append(x)
        return feats


def upsample2(x: torch.Tensor, size: tuple[int, int] | None = None) -> torch.Tensor:
    return nn.functional.interpolate(x, size=size, scale_factor=None if size else 2.0, mode="bilinear",
                                     align_corners=False)
