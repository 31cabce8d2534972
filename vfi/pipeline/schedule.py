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
from dataclasses import dataclass
from fractions import Fraction


def instants_between(start: Fraction, stop: Fraction, rate: Fraction) -> range:
    """Output frames k (shown at k / rate) with start <= k / rate < stop."""
    return range(math.ceil(start * rate), math.ceil(stop * rate))


def times_between(start: Fraction, stop: Fraction, rate: Fraction) -> list[Fraction]:
    """Exact t in [0, 1) of each output frame between input frames shown at `start` and `stop`."""
    span = stop - start
    return [(k / rate - start) / span for k in instants_between(start, stop, rate)]


def times_for_pair(pair_index: int, ratio: Fraction) -> list[Fraction]:
    """Exact t in [0, 1) of each output frame between input frames pair_index and pair_index + 1."""
    return times_between(Fraction(pair_index), Fraction(pair_index + 1), ratio)


def output_frame_count(input_frames: int, ratio: Fraction) -> int:
    """Frames that cover the input's duration (input_frames / input_fps) at the new rate."""
    return math.ceil(input_frames * ratio)


MAX_RATIO = 64  # output frames per input frame beyond which a rate is taken for a typo
MAX_FPS = 1000


@dataclass(frozen=True)
class Rates:
    """`stream`: output frames per second of source time (what is interpolated); `output`: the
    rate the file plays at. They differ only in slow motion, where the output lasts longer."""

    stream: Fraction
    output: Fraction


def check_rate_request(factor: int | None, fps: Fraction | None, slowmo: Fraction) -> None:
    """What can be refused before any input is looked at; raises ValueError with a user message."""
    if factor is not None and fps is not None:
        raise ValueError("give either --factor or --fps, not both")
    if factor is None and fps is None and slowmo == 1:
        raise ValueError("give --factor N (e.g. 2), --fps F (e.g. 60) or --slowmo S (e.g. 4)")
    if slowmo < 1:
        raise ValueError(f"--slowmo must be at least 1 (a speed-up is not interpolation), got {float(slowmo):g}")
    if factor is not None and factor < 2:
        raise ValueError(f"--factor must be an integer of at least 2, got {factor}")


def resolve_rates(input_fps: Fraction, factor: int | None = None, fps: Fraction | None = None,
                  slowmo: Fraction = Fraction(1), force: bool = False, fields: int = 1) -> Rates:
    """The rates from --factor, --fps and --slowmo; raises ValueError with a user message.

    --factor N multiplies the stream's own rate, --fps F sets the output's; --slowmo S makes the
    video S times longer at that output rate (the input's own rate when neither is given).
    `fields`: frames the reader makes of each stored frame (2 where each field of interlaced input
    became a frame), so 25i at --factor 2 is 50p, its fields and no new frame.
    Absurd rates (over MAX_RATIO frames per input frame, over MAX_FPS) are refused unless forced.
    """
    slowmo = Fraction(slowmo)
    check_rate_request(factor, fps, slowmo)
    if factor is not None:
        output = input_fps / fields * factor
    else:
        output = fps if fps is not None else input_fps
    if fps is not None and slowmo == 1 and fps < input_fps:
        raise ValueError(f"--fps {float(fps):g} is below the input's {float(input_fps):g} fps")
    stream = output * slowmo
    if stream < input_fps:
        raise ValueError(f"--slowmo {float(slowmo):g} at {float(output):g} fps would drop frames of the "
                         f"{float(input_fps):g} fps input")
    if not force:
        if stream / input_fps > MAX_RATIO:
            raise ValueError(f"{float(stream / input_fps):g} output frames per input frame is beyond the limit "
                             f"of {MAX_RATIO} (use --force if you mean it)")
        if output > MAX_FPS:
            raise ValueError(f"an output rate of {float(output):g} fps is beyond the limit of {MAX_FPS} fps "
                             "(use --force if you mean it)")
    return Rates(stream, output)
