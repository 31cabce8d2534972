"""Four-frame motion: how fast each pixel's motion changes, from the flows to the frames around a pair.

Where the frames before and after a pair are known, the motion out of frame 0 towards frame -1
and out of frame 1 towards frame 2 bend the straight path between the pair: with constant
acceleration, a0 = F01 + F0,-1 and a1 = F10 + F12 (central differences), zero for steady motion.
Those two flows are the pairs around this one's own (a video's flows are computed once per pair).
Where the pair itself does not move (both flows under a quarter pixel), nothing bends: a still
picture between two frames stays exactly still, whatever moves before or after it.
"""

from __future__ import annotations

import numpy as np

STILL = 0.25  # pixels: a pair that moves less than this both ways is not bent


def accelerations(f01: np.ndarray, f10: np.ndarray, f0_before: np.ndarray, f1_after: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray]:
    """(a0, a1): the accelerations at frame 0's and frame 1's pixels, in working-size pixels per
    interval squared, from the pair's flows and the flows from frame 0 to frame -1 and from frame 1
    to frame 2."""
    largest = lambda f: np.maximum(np.abs(f[..., 0]), np.abs(f[..., 1]))
    moving = ((largest(f01) >= STILL) | (largest(f10) >= STILL))[..., None]
    return (f01 + f0_before) * moving, (f10 + f1_after) * moving
