"""Local cost volume: how well each pixel of one feature map matches its neighbours in another.

A flow refinement that only sees features can nudge a motion estimate; one that sees the
match quality at every nearby displacement can find the right one where the seed missed.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def local_correlation(a: torch.Tensor, b: torch.Tensor, radius: int) -> torch.Tensor:
    """(B, C, H, W) x2 -> (B, (2r+1)^2, H, W): mean over channels of a(x) * b(x + d), |d| <= r.

    Displacements run row by row, dy outer and dx inner; outside `b` counts as zero.
    """
    h, w = a.shape[-2:]
    padded = F.pad(b, (radius, radius, radius, radius))
    span = 2 * radius + 1
    return torch.stack([(a * padded[..., dy:dy + h, dx:dx + w]).mean(1)
                        for dy in range(span) for dx in range(span)], 1)
