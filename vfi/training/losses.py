"""Training losses: Charbonnier on RGB plus a census (ternary) term; a photometric term for learned flow;
L1 or log-MSE for the `select` network.

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


def photometric(frame0: torch.Tensor, frame1: torch.Tensor, flows: torch.Tensor) -> torch.Tensor:
    """How well each frame, warped along the learned two-way flows (B, 4, H, W), matches the other.

    Dense, direct feedback for the motion network from the first step on, where the loss on
    the frame at t reaches the flows only through the blend; census keeps it fair under
    lighting changes. Occluded pixels cannot match and only add a constant floor.
    """
    from vfi.models.warp import backward_warp

    w1 = backward_warp(frame1, flows[:, :2].float())
    w0 = backward_warp(frame0, flows[:, 2:].float())
    return 0.5 * (charbonnier(w1, frame0) + charbonnier(w0, frame1) + census(w1, frame0) + census(w0, frame1))


def flow_error(flows: torch.Tensor, truth: torch.Tensor, known: torch.Tensor) -> torch.Tensor:
    """Mean end-point error (pixels) of the learned flows on the rows whose exact flows are known."""
    epe = ((flows.float() - truth) ** 2).view(len(flows), 2, 2, *flows.shape[-2:]).sum(2).add(1e-6).sqrt()
    weight = known.float().view(-1, 1, 1, 1)
    return (epe * weight).sum() / (weight.sum() * epe[0].numel()).clamp(min=1.0)


def l1(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    return (pred - target).abs().mean()


def log_mse(pred: torch.Tensor, target: torch.Tensor, floor: float = 1e-5) -> torch.Tensor:
    """The mean over (B, C, H, W) crops of log(MSE): the benchmark's mean per-frame PSNR, up to sign and
    scale, so where a choice is uncertain it prefers the mix that scores best. `floor` caps a crop at 50 dB."""
    return torch.log(((pred - target) ** 2).mean(dim=(1, 2, 3)) + floor).mean()


SELECT_LOSSES = {"l1": l1, "log-mse": log_mse}  # what `select`'s training may lower, by name
