"""Classical DIS optical flow as the motion seed of the learned models (runs on the CPU)."""

from __future__ import annotations

import cv2
import numpy as np
import torch

from vfi.motion.dis import VideoFlow, shrink_gray, two_way_flow


def dis_flows(img0: np.ndarray, img1: np.ndarray, size: tuple[int, int], video: VideoFlow | None = None
              ) -> np.ndarray:
    """Flows 0->1 and 1->0 of two (H, W, 3) uint8 frames, computed and returned at `size` (h, w),
    the way `flow` computes them. `video`: the pairs are consecutive frames of one video, and
    each search starts from the motion the pair before ended with; None: a pair on its own.

    Returns (4, h, w) float32 in pixels of `size`.
    """
    g0 = cv2.cvtColor(img0, cv2.COLOR_RGB2GRAY)
    g1 = cv2.cvtColor(img1, cv2.COLOR_RGB2GRAY)
    if video is None:
        f01, f10 = two_way_flow(shrink_gray(g0, size), shrink_gray(g1, size))
    else:
        f01, f10 = video(g0, g1, size)
    return np.concatenate([f01, f10], axis=2).transpose(2, 0, 1).copy()


def seed_after(before: np.ndarray | None, img0: np.ndarray, img1: np.ndarray, size: tuple[int, int]
               ) -> np.ndarray:
    """`dis_flows` of (img0, img1) as a video gives them when `before` precedes img0 by as long as
    img1 follows it: the search starts from the motion of (before, img0). None: from rest."""
    if before is None:
        return dis_flows(img0, img1, size)
    video = VideoFlow()
    dis_flows(before, img0, size, video)
    return dis_flows(img0, img1, size, video)


def batch_seed(frames0: np.ndarray, frames1: np.ndarray, size: tuple[int, int], video: VideoFlow | None = None
               ) -> torch.Tensor:
    """(B, H, W, 3) uint8 pairs -> (B, 4, h, w) seed flows."""
    return torch.from_numpy(np.stack([dis_flows(a, b, size, video) for a, b in zip(frames0, frames1)]))
