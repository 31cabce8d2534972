"""When each output frame falls between which two input frames: pure timing arithmetic.

Output frame k is shown at time k / rate. It lies between the input frames shown at
a <= k / rate < b, at t = (k / rate - a) / (b - a). With a constant-rate input the
frames are at i / fps, and with r = output_fps / input_fps (an exact fraction) this is
t = k / r - i in input-frame units; `--factor N` is the special case r = N. Variable-rate
input and de-duplicated frames use their real times instead. Exact fractions keep
30000/1001 rates exact over hours of video.
"""

from __future__ import annotations

import math
from fractions import Fraction


def instants_between(start: Fraction, stop: Fraction, rate: Fraction) -> range:
    """Output frames k (shown at k / rate) with start <= k / rate < stop."""
    return range(math.ceil(start * rate), math.ceil(stop * rate))


def times_between(start: Fraction, stop: Fraction, rate: Fraction) -> list[Fraction]:
    """Exact t in [0, 1) of each output frame between input frames shown at `start` and `stop`."""
    span = stop - start
    return [(k / rate - start) / span for k in instants_between(start, stop, rate)]


def output_indices(pair_index: int, ratio: Fraction) -> range:
    """Output frames k whose time lies in [pair_index, pair_index + 1) input frames."""
    return instants_between(Fraction(pair_index), Fraction(pair_index + 1), ratio)


def times_for_pair(pair_index: int, ratio: Fraction) -> list[Fraction]:
    """Exact t in [0, 1) of each output frame between input frames pair_index and pair_index + 1."""
    return times_between(Fraction(pair_index), Fraction(pair_index + 1), ratio)


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
    if fps < input_fps:
        raise ValueError(f"--fps {float(fps):g} is below the input's {float(input_fps):g} fps")
    return fps / input_fps, fps
