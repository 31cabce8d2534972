"""Choosing, per pixel, among candidate motions (`vfi.motion.candidates`): a small learned selector.

No candidate motion is right everywhere, and a hand-made rule (the motion whose two warps
agree best) fails where a wrong motion fetches the same background into both warps. So each
candidate is rendered the way `flow` renders its own motion, and a small network weighs the
renders per pixel from each candidate's evidence: its two warps, how far they differ, where
its flows disagree with themselves (occlusion), how far it moves, and t.

The network sees each candidate through the same weights, plus the strongest evidence among
all of them, so it takes any number of candidates in any order. It works at the motion's
working size; the weights it gives are applied to full-size renders by the caller.
"""

from __future__ import annotations

from typing import Optional

import cv2
import numpy as np
import torch
from torch import nn

from vfi.motion.compose import blend_maps
from vfi.motion.occlusion import fb_occlusion
from vfi.motion.resample import pixel_grid

EVIDENCE = 11  # channels per candidate: warp 0 and warp 1 (RGB), their difference, occlusions at t, speed, t


def candidate_evidence(img0: np.ndarray, img1: np.ndarray, f01: np.ndarray, f10: np.ndarray, t: float,
                       a0: Optional[np.ndarray] = None, a1: Optional[np.ndarray] = None,
                       occlusions: Optional[tuple[np.ndarray, np.ndarray]] = None) -> tuple[np.ndarray, np.ndarray]:
    """(evidence (EVIDENCE, h, w), render (3, h, w)) of one candidate at time t, float32.

    img0, img1: (h, w, 3) float32 frames in [0, 1] at the flows' size. The render is `flow`'s:
    both frames warped to t and blended with the occlusion rule; accelerations a0, a1 (a four-frame
    candidate) bend the paths; `occlusions`: the flows' forward-backward occlusions, where known."""
    grid = pixel_grid(*f01.shape[:2])
    occ0, occ1 = (fb_occlusion(f01, f10, grid), fb_occlusion(f10, f01, grid)) if occlusions is None else occlusions
    map0, map1, weight0 = blend_maps(f01, f10, t, occ0, occ1, a0, a1)
    return maps_evidence(img0, img1, map0, map1, weight0, occ0, occ1, t)


def maps_evidence(img0: np.ndarray, img1: np.ndarray, map0: np.ndarray, map1: np.ndarray, weight0: np.ndarray,
                  occ0: np.ndarray, occ1: np.ndarray, t: float) -> tuple[np.ndarray, np.ndarray]:
    """`candidate_evidence` of a motion given as its sampling maps and weight at t (the taught motion's),
    with the forward-backward occlusions of frames 0 and 1 it is judged by."""
    grid = pixel_grid(*map0.shape[:2])
    sample = lambda img, m: cv2.remap(img, m, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    warped0, warped1 = sample(img0, map0), sample(img1, map1)
    gone_in_1, new_in_1 = sample(occ0, map0), sample(occ1, map1)
    render = weight0[..., None] * warped0 + (1 - weight0[..., None]) * warped1
    difference = np.abs(warped0 - warped1).mean(axis=2)
    speed = np.sqrt(((map0 - grid) ** 2).sum(axis=2)) / 16.0
    planes = [*np.moveaxis(warped0, 2, 0), *np.moveaxis(warped1, 2, 0), difference, gone_in_1, new_in_1, speed,
              np.full_like(difference, t)]
    return np.stack(planes).astype(np.float32), np.ascontiguousarray(np.moveaxis(render, 2, 0), np.float32)


class CandidateSelector(nn.Module):
    """(B, K, EVIDENCE, h, w) evidence -> (B, K, h, w) weights that sum to 1 over the K candidates."""

    def __init__(self, width: int = 24):
        super().__init__()
        act = nn.GELU()
        self.encode = nn.Sequential(nn.Conv2d(EVIDENCE, width, 3, padding=1), act,
                                    nn.Conv2d(width, width, 3, padding=1), act)
        self.judge = nn.Sequential(nn.Conv2d(2 * width, width, 3, padding=2, dilation=2), act,
                                   nn.Conv2d(width, 1, 3, padding=1))

    def forward(self, evidence: torch.Tensor, log_counts: Optional[torch.Tensor] = None) -> torch.Tensor:
        """`log_counts` (K,): the log of how many candidates each one stands for (identical candidates
        weighed once give the weights they would get one by one, summed)."""
        b, k, _, h, w = evidence.shape
        own = self.encode(evidence.flatten(0, 1)).unflatten(0, (b, k))
        strongest = own.amax(dim=1, keepdim=True).expand_as(own)  # what the other candidates show
        logits = self.judge(torch.cat([own, strongest], 2).flatten(0, 1)).view(b, k, h, w).float()
        if log_counts is not None:
            logits = logits + log_counts.view(1, k, 1, 1)
        return logits.softmax(dim=1)  # weights in full precision, also under bf16 autocast


def selected(renders: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """(B, K, C, h, w) renders weighed per pixel by (B, K, h, w) weights: (B, C, h, w)."""
    return (renders * weights.unsqueeze(2)).sum(dim=1)
