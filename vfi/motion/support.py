"""Match support: how far the sparse feature matches near each pixel disagree with a candidate motion.

Where a motion misses a small fast object, both of its warps often fetch the same background,
so the warps agree and nothing in the pictures says the motion is wrong. The matches do: a
match that moved 30 px where the motion says 0 marks the place. Per pixel of frame 0, the
disagreement is the mean over nearby matches (normalised convolution, as `densify` does) of
each match's error against the motion, capped; the density says how many matches are near.
Both are zero where no match is near.
"""

from __future__ import annotations

import cv2
import numpy as np

from vfi.motion.candidates import Matches

CAP = 4.0  # working-size pixels: an error this large counts fully (a match far off says "wrong", not how wrong)
SPACING = 4  # the grid the matches are pooled on, in working-size pixels
SIGMA = 2.0  # the pooling's reach, in grid cells (8 working-size pixels)
NEAR = 0.05  # pooled match weight at which a place counts as half supported


def match_errors(matches: Matches, f01: np.ndarray) -> np.ndarray:
    """(n,) each match's distance from where the motion takes its first point, in [0, 1] of CAP."""
    if len(matches) == 0:
        return np.zeros(0, np.float32)
    at = cv2.remap(f01, matches.points0.reshape(-1, 1, 2), None, cv2.INTER_LINEAR,
                   borderMode=cv2.BORDER_REPLICATE).reshape(-1, 2)
    return np.minimum(np.linalg.norm(at - (matches.points1 - matches.points0), axis=1) / CAP, 1.0)


def match_support(matches: Matches, f01: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """((h, w) disagreement in [0, 1], (h, w) density in [0, 1]) of the motion f01 (frame 0's pixels)."""
    h, w = f01.shape[:2]
    gh, gw = max(1, -(-h // SPACING)), max(1, -(-w // SPACING))
    total = np.zeros((gh, gw), np.float32)
    count = np.zeros((gh, gw), np.float32)
    if len(matches):
        cells = np.clip((matches.points0 / SPACING).astype(int), 0, [gw - 1, gh - 1])
        np.add.at(total, (cells[:, 1], cells[:, 0]), match_errors(matches, f01))
        np.add.at(count, (cells[:, 1], cells[:, 0]), 1.0)
    blur = lambda a: cv2.GaussianBlur(a, (0, 0), SIGMA, borderType=cv2.BORDER_CONSTANT)
    pooled_total, pooled_count = blur(total), blur(count)
    disagreement = pooled_total / (pooled_count + NEAR)
    density = pooled_count / (pooled_count + NEAR)
    grow = lambda a: cv2.resize(a, (w, h), interpolation=cv2.INTER_LINEAR)
    return grow(disagreement), grow(density)
