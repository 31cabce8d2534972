"""When each output frame falls between which two input frames: pure timing arithmetic.

With r = output_fps / input_fps (an exact fraction), output frame k shows time k / r in
input-frame units, so it lies between input frames i = floor(k / r) and i + 1 at
t = k / r - i. `--factor N` is the special case r = N. Exact fractions keep 30000/1001
rates exact over hours of video.
"""

from __future__ import annotations

import math
from fractions import Fraction


def output_indices(pair_index: int, ratio: Fraction) -> range:
    """Output frames k whose time lies in [pair_index, pair_index + 1) input frames."""
    start = math.ceil(pair_index * ratio)
    stop = math.ceil((pair_index + 1) * ratio)
    return range(start, stop)


def times_for_pair(pair_index: int, ratio: Fraction) -> list[Fraction]:
    """Exact t in [0, 1) of each output frame between input frames pair_index and pair_index + 1."""
    return [k / ratio - pair_index for k in output_indices(pair_index, ratio)]


def output_frame_count(input_frames: int, ratio: Fraction) -> int:
    """Frames that cover the input's duration (input_frames / input_fps) at the new rate."""
    return math.ceil(input_frames * ratio)


def resolve_ratio(input_fps: Fraction, factor: int | None, fps: Fraction | None) -> tuple[Fraction, Fraction]:
    """(ratio, output fps) from either --factor or --fps; raises ValueError with a user message."""
    if (factor is None) == (fps is None):
        raise ValueError("give exactly one of --factor or --fps")
    if factor is not None:
        if factor < 2:
            raise ValueError(f"--factor must be an integer of at least 2, got {factor}")
        return Fraction(factor), input_fps * factor
    if fps <= input_fps:
        raise ValueError(f"--fps {float(fps):g} is not above the input's {float(input_fps):g} fps")
    return fps / input_fps, fps
