"""The streaming heart of upsample: input frames in, output frames out, in order, batch by batch.

Pairs of input frames are grouped into batches for the interpolator; scene cuts and held
pictures are passed through instead of morphed; output frame k shows the input at k / rate.
Each pair also knows the frames one interval before and after it, within its shot, for
interpolators that read motion over four frames.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Iterable, Iterator, Optional

import numpy as np

from vfi.core.interface import Interpolator, Neighbours
from vfi.io.decode import TimedFrame
from vfi.pipeline.cuts import DEFAULT_THRESHOLD, is_repeat, is_scene_cut
from vfi.pipeline.schedule import instants_between, times_between

@dataclass
class StreamStats:
    """What the streaming loop counted, for the summary line and the benchmark."""

    frames_in: int = 0
    frames_out: int = 0
    interpolated: int = 0
    scene_cuts: int = 0
    repeats_dropped: int = 0
    variable_rate: bool = False
    model_seconds: float = 0.0
    cut_pairs: set[int] = field(default_factory=set)
    cut_outputs: list[int] = field(default_factory=list)  # the first output frame of each cut pair


@dataclass
class _Pair:
    index: int
    frame0: np.ndarray
    frame1: np.ndarray
    outputs: range  # output frame numbers k that fall in this pair
    times: list[Fraction]
    cut: bool = False
    still: bool = False  # the two frames are one picture held: no interpolation needed
    span: Fraction = Fraction(1)  # time from frame0 to frame1
    before: Optional[np.ndarray] = None  # the frame before frame0, one span earlier, in the same shot
    after: Optional[np.ndarray] = None  # the frame after frame1, likewise


SPAN_TOLERANCE = Fraction(1, 10)  # neighbours this much nearer or farther than the pair's own span still count


def _continues(first: _Pair, second: _Pair) -> bool:
    """Whether `second` follows `first` in one shot at one pace: each may then lend the other a neighbour."""
    if first.cut or first.still or second.cut or second.still:
        return False
    return abs(second.span - first.span) <= SPAN_TOLERANCE * first.span


MAX_REPEAT_RUN = 4  # longer runs of one picture are a real pause, not animation on twos/threes


def _batch_length(pending: list[_Pair], batch_size: int, part_frames: int) -> int:
    """How many of the pending pairs make the next batch: `batch_size`, or fewer where a later pair
    opens a part. A part's batches thus start at its opening pair whatever came before, so a run
    that starts decoding near a part (a Ray task, a resumed run) forms them as an unbroken run did."""
    opening = next((i for i, p in enumerate(pending[1:batch_size], 1) if _opens_part([p], part_frames)), None)
    return opening if opening is not None else batch_size


def _opens_part(pairs: list[_Pair], part_frames: int) -> bool:
    """Whether output frame n * part_frames (where a resumed run may start) falls in these pairs."""
    if part_frames <= 0:
        return False
    # (-start) % part_frames: how far the first multiple at or after `start` lies
    return any(p.outputs.start + (-p.outputs.start) % part_frames < p.outputs.stop for p in pairs)


def _emit_batch(pairs: list[_Pair], interpolator: Interpolator, stats: StreamStats,
                skip_before: int = 0) -> Iterator[np.ndarray]:
    """Run the interpolator once per group of pairs that need the same number of new frames.

    An interpolator that follows motion from pair to pair gets its pairs in order: a group
    then holds only consecutive pairs (where the number of new frames varies, as at
    24000/1001 -> 60 fps, that means more, smaller calls).

    Output frames numbered below `skip_before` (already written by an interrupted run) are
    not produced; a batch with nothing left to produce costs no model call. Batches are
    formed the same way either way, so a resumed run gives the frames an unbroken one would.
    """
    if pairs and pairs[-1].outputs.stop <= skip_before:
        return
    results: dict[int, np.ndarray] = {}
    groups: dict[tuple[int, int], list[_Pair]] = {}
    run, last = 0, None
    for pair in pairs:
        wanted = [t for t in pair.times if t != 0]
        if wanted and not pair.cut and not pair.still:
            if interpolator.capabilities.follows_motion and len(wanted) != last:
                run += 1
            last = len(wanted)
            groups.setdefault((len(wanted), run), []).append(pair)
    for group in groups.values():
        times = np.array([[float(t) for t in p.times if t != 0] for p in group], dtype=np.float32)
        start = time.perf_counter()
        frames0, frames1 = np.stack([p.frame0 for p in group]), np.stack([p.frame1 for p in group])
        if interpolator.capabilities.window:
            outer = Neighbours.of(frames0, frames1, [p.before for p in group], [p.after for p in group])
            out = interpolator.interpolate(frames0, frames1, times, outer)
        else:
            out = interpolator.interpolate(frames0, frames1, times)
        stats.model_seconds += time.perf_counter() - start
        stats.interpolated += out.shape[0] * out.shape[1]
        for p, frames in zip(group, out):
            results[p.index] = frames
    for pair in pairs:
        new = iter(results.get(pair.index, ()))
        for k, t in zip(pair.outputs, pair.times):
            if t == 0 or pair.still:
                frame = pair.frame0
            elif pair.cut:
                # Across a scene cut show the nearer real frame instead of morphing two shots.
                frame = pair.frame0 if t < Fraction(1, 2) else pair.frame1
            else:
                frame = next(new)
            if k >= skip_before:
                yield frame


def stream_end(last: TimedFrame, shown: Fraction, longest: Fraction) -> Fraction:
    """When the video stops showing its last frame.

    Decoders attach durations to the wrong frames when B-frames reorder them (a frame before a
    gap may report one frame's time, and another frame late in the clip the gap's), so the last
    frame's own duration cannot be trusted; their sum can: the video ends where the first frame
    plus every duration says, when that lies within the last frame's reach. Otherwise
    (timestamps with gaps the durations do not show) the last frame's own duration decides.
    """
    if last.ts < shown <= last.ts + longest:
        return shown
    return last.ts + last.duration


def as_timed(frames: Iterable) -> Iterator[TimedFrame]:
    """Plain frames are taken to be shown at times 0, 1, 2, ... (input-frame units)."""
    for index, frame in enumerate(frames):
        yield frame if isinstance(frame, TimedFrame) else TimedFrame(Fraction(index), Fraction(1), frame)


def interpolate_stream(frames: Iterable, rate: Fraction, interpolator: Interpolator,
                       batch_size: int = 4, scene_threshold: float = DEFAULT_THRESHOLD,
                       stats: Optional[StreamStats] = None, dedup: bool = False,
                       skip_before: int = 0, part_frames: int = 0) -> Iterator[np.ndarray]:
    """Yield the output frames, in order: frame k shows the input at time k / rate.

    `frames` are images (at times 0, 1, 2, ...: then `rate` is the output/input ratio) or
    TimedFrames (times in seconds: then `rate` is the output fps). After the last input
    frame the tail repeats it so the output lasts exactly as long as the input. With
    `dedup`, a frame that repeats the previous picture is dropped and the motion is
    interpolated across the real change instead of freezing and jumping.

    Interpolators that carry motion from pair to pair start afresh here and at the pair that
    holds frame n * `part_frames`, which also starts a batch: a run that begins anywhere before
    that pair (resumed, or a Ray task that seeks) gives the part's frames an unbroken one did.
    """
    stats = stats if stats is not None else StreamStats()
    interpolator.reset()
    rate = Fraction(rate)
    frames = as_timed(frames)
    prev = next(frames, None)
    if prev is None:
        return
    stats.frames_in = 1
    shown = prev.ts + prev.duration  # first frame's time plus every frame's duration
    longest = prev.duration
    nominal = prev.duration
    last_seen = prev
    held: Optional[TimedFrame] = None  # the last repeat of `prev` dropped so far
    run = 0
    pending: list[_Pair] = []
    index = 0

    last_pair: list[_Pair] = []  # the pair added last, which lends the next one its frame before

    def emit(batch: list[_Pair]) -> Iterator[np.ndarray]:
        if _opens_part(batch, part_frames):
            interpolator.reset()
        for out in _emit_batch(batch, interpolator, stats, skip_before):
            stats.frames_out += 1
            yield out

    def add_pair(a: TimedFrame, b: TimedFrame, still: bool = False) -> None:
        nonlocal index
        cut = not still and is_scene_cut(a.image, b.image, scene_threshold)
        if cut:
            stats.scene_cuts += 1
            stats.cut_pairs.add(index)
            stats.cut_outputs.append(instants_between(a.ts, b.ts, rate).start)
        pair = _Pair(index, a.image, b.image, instants_between(a.ts, b.ts, rate),
                     times_between(a.ts, b.ts, rate), cut, still, b.ts - a.ts)
        if last_pair and _continues(last_pair[0], pair):
            pair.before, last_pair[0].after = last_pair[0].frame0, pair.frame1
        last_pair[:] = [pair]
        pending.append(pair)
        index += 1

    for frame in frames:
        stats.frames_in += 1
        if frame.ts - last_seen.ts != nominal:
            stats.variable_rate = True
        last_seen = frame
        shown += frame.duration
        longest = max(longest, frame.duration)
        if frame.ts <= prev.ts:
            continue  # a repeated or backwards timestamp: nothing to show between the two
        if dedup and is_repeat(prev.image, frame.image):
            stats.repeats_dropped += 1
            held, run = frame, run + 1
            continue
        if held is not None and run > MAX_REPEAT_RUN:
            add_pair(prev, held, still=True)  # a real pause: hold the picture, then move
            prev = held
        held, run = None, 0
        add_pair(prev, frame)
        prev = frame
        # a batch goes once the pair after it is known: its last pair's frame after comes from that one
        while (size := _batch_length(pending, batch_size, part_frames)) < len(pending):
            yield from emit(pending[:size])
            pending = pending[size:]
    while pending:
        size = _batch_length(pending, batch_size, part_frames)
        yield from emit(pending[:size])
        pending = pending[size:]
    for k in instants_between(prev.ts, stream_end(last_seen, shown, longest), rate):
        if k >= skip_before:
            stats.frames_out += 1
            yield prev.image
