"""Training losses: Charbonnier on RGB plus a census (ternary) term.

No pretrained feature networks: nothing is downloaded, and no weights from elsewhere are used.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def charbonnier(pred: torch.Tensor, target: torch.Tensor, eps: float = 1e-3) -> torch.Tensor:
    return torch.sqrt((pred - target) ** 2 + eps * eps).mean()


_CENSUS_KERNEL: dict[str, torch.Tensor] = {}


def census(pred: torch.Tensor, target: torch.Tensor, patch: int = 7) -> torch.Tensor:
    """Soft Hamming distance between ternary census transforms: robust to brightness, sharp on structure."""
    key = str(pred.device)
    if key not in _CENSUS_KERNEL:
        eye = torch.eye(patch * patch, device=pred.device).view(patch * patch, 1, patch, patch)
        _CENSUS_KERNEL[key] = eye

    def transform(img):
        gray = (0.299 * img[:, 0] + 0.587 * img[:, 1] + 0.114 * img[:, 2]).unsqueeze(1) * 255
        patches = F.conv2d(gray, _CENSUS_KERNEL[key], padding=patch // 2)
        diff = patches - gray
        return diff / torch.sqrt(0.81 + diff * diff)

    d = (transform(pred) - transform(target)) ** 2
    dist = (d / (0.1 + d)).mean(1, keepdim=True)
    border = patch // 2
    return dist[..., border:-border, border:-border].mean()
