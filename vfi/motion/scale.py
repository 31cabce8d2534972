"""The size motion is estimated at: large frames are shrunk first, which is faster and steadier.

Two rules, side by side on purpose. The `flow` baseline may shrink by any factor. The
learned networks shrink by a power of two, so their strided stages meet whole pixels of
the full frame and training crops (made at the same power of two) match what they see.
"""

from __future__ import annotations

import math

FLOW_MAX_SIDE = 480  # the flow baseline estimates motion with the long side at most this
NETWORK_MAX_SIDE = 640  # the networks work with the long side at most this (a power-of-two shrink)


def working_size(h: int, w: int, max_side: int, scale: float | None = None) -> tuple[int, int]:
    """Any-factor rule: the long side at most `max_side`, or `scale` times the frame."""
    s = min(1.0, max_side / max(h, w)) if scale is None else scale
    return max(8, round(h * s)), max(8, round(w * s))


def working_downscale(h: int, w: int, max_side: int, scale: float | None = None) -> int:
    """Power-of-two rule: the smallest power of two that brings the long side to max_side or below;
    with an explicit `scale`, the power of two nearest 1 / scale."""
    if scale is not None:
        return 2 ** max(0, round(math.log2(1 / scale)))
    return 2 ** max(0, math.ceil(math.log2(max(h, w) / max_side))) if max(h, w) > max_side else 1
