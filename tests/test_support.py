"""Match support marks where the feature matches say a candidate motion is wrong, and only there."""

from __future__ import annotations

import numpy as np

from vfi.motion.candidates import Matches
from vfi.motion.support import match_support


def grid_matches(h: int, w: int, motion) -> Matches:
    """Matches every 8 px over an (h, w) frame, each moved by motion(x, y)."""
    ys, xs = np.mgrid[4:h:8, 4:w:8]
    points0 = np.stack([xs.ravel(), ys.ravel()], axis=1).astype(np.float32)
    moved = np.array([motion(x, y) for x, y in points0], np.float32)
    return Matches(points0, points0 + moved)


def test_a_motion_every_match_agrees_with_has_no_disagreement():
    matches = grid_matches(64, 96, lambda x, y: (3.0, -1.0))
    flow = np.zeros((64, 96, 2), np.float32) + np.float32([3.0, -1.0])
    disagreement, density = match_support(matches, flow)
    assert np.abs(disagreement).max() < 1e-6
    assert density[8:-8, 8:-8].min() > 0.5  # matches everywhere


def test_disagreement_marks_the_object_the_motion_missed():
    """A 16x16 object moved 20 px right; the motion says nothing moved."""
    in_object = lambda x, y: 40 <= x < 56 and 24 <= y < 40
    matches = grid_matches(64, 96, lambda x, y: (20.0, 0.0) if in_object(x, y) else (0.0, 0.0))
    disagreement, _ = match_support(matches, np.zeros((64, 96, 2), np.float32))
    assert disagreement[32, 48] > 0.3
    assert disagreement[32, 8] < 0.01 and disagreement[8, 88] < 0.01  # far from the object


def test_no_matches_give_no_disagreement_and_no_density():
    empty = Matches(np.zeros((0, 2), np.float32), np.zeros((0, 2), np.float32))
    disagreement, density = match_support(empty, np.ones((40, 50, 2), np.float32))
    assert disagreement.shape == density.shape == (40, 50)
    assert not disagreement.any() and not density.any()
