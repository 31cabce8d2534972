"""Streaming upsample: decode -> interpolate in batches -> encode, with audio carried over.

Decoding and encoding run in their own threads (and ffmpeg processes) so the slowest of
the three stages sets the pace, and only a few batches of frames are ever in memory.
"""

from __future__ import annotations

import itertools
import math
import os
import queue
import threading
import time
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Callable, Iterable, Iterator, Optional

import numpy as np

from .interpolator import Interpolator
from .interrupts import ResumableInterrupt
from .io.decode import FrameReader, TimedFrame
from .io.encode import (ALPHA_CODECS, CONTAINERS, IMAGE_FORMATS, EncodeSettings, FrameWriter, check_container,
                        is_sequence_path, sequence_files)
from .io.mux import video_tag_args
from .io.probe import VideoError, VideoInfo, probe
from .scenes import DEFAULT_THRESHOLD, is_repeat, is_scene_cut
from .schedule import instants_between, resolve_rates, times_between
from .segments import SegmentedOutput, WholeOutput, job_description, parts_folder


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


@dataclass
class _Pair:
    index: int
    frame0: np.ndarray
    frame1: np.ndarray
    outputs: range  # output frame numbers k that fall in this pair
    times: list[Fraction]
    cut: bool = False
    still: bool = False  # the two frames are one picture held: no interpolation needed


MAX_REPEAT_RUN = 4  # longer runs of one picture are a real pause, not animation on twos/threes


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
            if interpolator.follows_motion and len(wanted) != last:
                run += 1
            last = len(wanted)
            groups.setdefault((len(wanted), run), []).append(pair)
    for group in groups.values():
        times = np.array([[float(t) for t in p.times if t != 0] for p in group], dtype=np.float32)
        start = time.perf_counter()
        out = interpolator.interpolate_frames(np.stack([p.frame0 for p in group]),
                                              np.stack([p.frame1 for p in group]), times)
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

    Interpolators that carry motion from pair to pair start afresh here and in each batch that
    holds frame n * `part_frames`: a run resumed there gives the frames an unbroken one did.
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

    def emit() -> Iterator[np.ndarray]:
        if _opens_part(pending, part_frames):
            interpolator.reset()
        for out in _emit_batch(pending, interpolator, stats, skip_before):
            stats.frames_out += 1
            yield out

    def add_pair(a: TimedFrame, b: TimedFrame, still: bool = False) -> None:
        nonlocal index
        cut = not still and is_scene_cut(a.image, b.image, scene_threshold)
        if cut:
            stats.scene_cuts += 1
            stats.cut_pairs.add(index)
        pending.append(_Pair(index, a.image, b.image, instants_between(a.ts, b.ts, rate),
                             times_between(a.ts, b.ts, rate), cut, still))
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
        if len(pending) >= batch_size:
            yield from emit()
            pending = []
    yield from emit()
    for k in instants_between(prev.ts, stream_end(last_seen, shown, longest), rate):
        if k >= skip_before:
            stats.frames_out += 1
            yield prev.image


_END = object()


def prefetch(items: Iterable, depth: int) -> Iterator:
    """Iterate `items` in a background thread, keeping up to `depth` ready (decode overlaps compute)."""
    q: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def work():
        try:
            for item in items:
                while not stop.is_set():
                    try:
                        q.put(item, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            q.put(_END)
        except BaseException as exc:  # handed to the consumer
            q.put(exc)

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    try:
        while True:
            item = q.get()
            if item is _END:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()


class BackgroundWriter:
    """Feeds a FrameWriter from a queue in its own thread so encoding overlaps compute."""

    def __init__(self, writer: FrameWriter, depth: int):
        self.writer = writer
        self.q: queue.Queue = queue.Queue(maxsize=depth)
        self.error: Optional[BaseException] = None
        self.thread = threading.Thread(target=self._work, daemon=True)
        self.thread.start()

    def _work(self):
        while True:
            frame = self.q.get()
            if frame is _END:
                return
            if self.error is None:
                try:
                    self.writer.write(frame)
                except BaseException as exc:
                    self.error = exc

    def write(self, frame: np.ndarray) -> None:
        if self.error is not None:
            raise self.error
        self.q.put(frame)

    def close(self) -> None:
        self.q.put(_END)
        self.thread.join()
        if self.error is not None:
            raise self.error


def _same_file(a: Path, b: Path) -> bool:
    return a.resolve() == b.resolve() or (a.exists() and b.exists() and os.path.samefile(a, b))  # hard links too


def check_paths(input_path: Path, output_path: Path, force: bool) -> None:
    """Refuse what would destroy data or fail only after minutes of work."""
    if _same_file(input_path, output_path):
        raise VideoError(f"{output_path}: the output would overwrite the input; choose another name")
    if output_path.is_dir():
        raise VideoError(f"{output_path}: is a folder; give a file name such as {output_path / 'out.mp4'}")
    folder = output_path.parent if str(output_path.parent) else Path(".")
    if not folder.is_dir():
        raise VideoError(f"{folder}: output folder does not exist")
    if not os.access(folder, os.W_OK):
        raise VideoError(f"{folder}: output folder is not writable")
    if is_sequence_path(output_path):
        if output_path.suffix.lower() not in IMAGE_FORMATS:
            raise VideoError(f"{output_path}: image sequences are written as .png or .tif")
        if is_sequence_path(input_path) and folder.resolve() == input_path.parent.resolve():
            raise VideoError(f"{output_path}: write the frames to another folder than the input's")
        taken = sequence_files(output_path)
        if taken and not force:
            raise VideoError(f"{output_path}: {len(taken)} matching file(s) already exist (use --force to replace them)")
        return
    if output_path.exists() and not force:
        raise VideoError(f"{output_path}: already exists (use --force to replace it)")
    if output_path.suffix.lower() not in CONTAINERS:
        raise VideoError(f"{output_path}: unsupported output extension; use .mp4, .mkv, .mov, .webm or .avi "
                         "(or an image sequence such as frames/%05d.png)")


@dataclass
class UpsampleResult:
    output: Path
    input_fps: Fraction
    output_fps: Fraction
    stats: StreamStats
    seconds: float
    notes: list[str]
    resumed_frames: int = 0

    @property
    def output_fps_rate(self) -> float:
        """Output frames produced per wall-clock second, for the whole command (resumed frames not counted)."""
        return (self.stats.frames_out - self.resumed_frames) / max(self.seconds, 1e-9)


ProgressCallback = Callable[[int], None]


def _output_folder(output_path: Path) -> Optional[Path]:
    """Create the folder an image sequence goes into; returns it when it was made here (removed on failure)."""
    folder = output_path.parent
    if not is_sequence_path(output_path) or folder.exists() or not folder.parent.is_dir():
        return None
    folder.mkdir()
    return folder


def upsample(input_path: str | os.PathLike, output_path: str | os.PathLike, interpolator: Interpolator,
             factor: Optional[int] = None, fps: Optional[Fraction] = None, batch_size: int = 4,
             scene_threshold: float = DEFAULT_THRESHOLD, encode: Optional[EncodeSettings] = None,
             force: bool = False, keep_audio: bool = True, dedup: bool = False, resume: bool = False,
             input_options: tuple[str, ...] = (), slowmo: Fraction = Fraction(1), stretch_audio: bool = False,
             video_stream: int = 0,
             on_start: Optional[Callable[[VideoInfo, Fraction, Optional[int]], None]] = None,
             on_frame: Optional[ProgressCallback] = None) -> UpsampleResult:
    """Write `input_path` at a higher frame rate to `output_path`; the input keeps its duration
    (or lasts `slowmo` times longer).

    Frames are placed by their real timestamps (variable-rate input stays in sync with its
    audio). A video output is written in parts so `resume=True` can continue an
    interrupted run from its finished parts with the same frames. `force` replaces an existing
    output and lifts the limits on absurd rates.
    """
    input_path, output_path = Path(input_path), Path(output_path)
    info = probe(input_path, input_options, video_stream)
    sequence_out = is_sequence_path(output_path)
    if not sequence_out:
        info = info.stored()  # decode the frames as stored; the output keeps the rotation tag
    if resume and sequence_out:
        raise VideoError("--resume works with video outputs, not image sequences")
    try:
        resolve_rates(info.fps, factor, fps, slowmo, force)  # refuse absurd requests before any work
    except ValueError as exc:
        raise VideoError(str(exc)) from None
    encode = (encode or EncodeSettings(codec="auto")).for_input(info)
    made_folder = None
    if not (resume and parts_folder(output_path).is_dir()):
        made_folder = _output_folder(output_path) if not _same_file(input_path, output_path) else None
        try:
            check_paths(input_path, output_path, force)
            if not sequence_out:
                check_container(output_path, encode.codec)
        except BaseException:
            _remove_if_empty(made_folder)
            raise
    elif _same_file(input_path, output_path):
        raise VideoError(f"{output_path}: the output would overwrite the input; choose another name")
    alpha = info.has_alpha and (sequence_out or encode.codec in ALPHA_CODECS)
    reader = FrameReader(info, timed=True, alpha=alpha)
    layout = {"channels": reader.channels, "deep": info.high_bit_depth}
    tags = tuple(video_tag_args(info, encode.codec, rgb=encode.lossless)) if not sequence_out else ()
    started = time.perf_counter()
    stats = StreamStats()
    frames = prefetch(reader, depth=2 * batch_size + 2)
    writer = None
    try:
        first_two = [f for _, f in zip(range(2), frames)]
        if len(first_two) < 2:
            raise VideoError(f"{input_path}: has {len(first_two)} decodable frame(s); at least 2 are needed")
        rates = resolve_rates(reader.rate, factor, fps, slowmo, force)  # the exact rate is known from here on
        if sequence_out:
            writer = WholeOutput(FrameWriter(output_path, info.width, info.height, rates.output, encode, **layout))
        else:
            job = job_description(info, model=f"{type(interpolator).__name__}:{interpolator.name}",
                                  rate=rates.stream, output_rate=rates.output, batch=batch_size,
                                  scenes=scene_threshold, encode=encode, dedup=dedup, audio=keep_audio,
                                  stretch_audio=stretch_audio, tags=tags, **layout)
            writer = SegmentedOutput(output_path, info.width, info.height, rates.output, encode, job, resume,
                                     tags=tags, **layout)
        skip = writer.done
        if not writer.complete:
            estimated = math.ceil(info.duration * rates.stream) if info.duration else None
            if on_start:
                on_start(info, rates.output, estimated)
            background = BackgroundWriter(writer, depth=max(4, 2 * batch_size * int(rates.stream / info.fps + 1)))
            try:
                stream = interpolate_stream(itertools.chain(first_two, frames), rates.stream, interpolator,
                                            batch_size, scene_threshold, stats, dedup=dedup, skip_before=skip,
                                            part_frames=writer.part_frames)
                for frame in stream:
                    background.write(frame)
                    if on_frame:
                        on_frame(skip + stats.frames_out)
            finally:
                background.close()
        notes = writer.finish(info, keep_audio=keep_audio, slowmo=slowmo, stretch_audio=stretch_audio)
    except KeyboardInterrupt:
        if writer is not None:
            writer.abort(keep_parts=True)
            if writer.kept_parts:
                raise ResumableInterrupt(f"{writer.kept_parts} finished part(s) kept in {writer.folder}; "
                                         "run the same command with --resume to continue") from None
        _remove_if_empty(made_folder)
        raise
    except BaseException:
        if writer is not None:
            writer.abort(keep_parts=False)
        _remove_if_empty(made_folder)
        raise
    finally:
        frames.close()
    stats.frames_out += skip
    return UpsampleResult(output_path, reader.rate, rates.output, stats, time.perf_counter() - started, notes, skip)


def _remove_if_empty(folder: Optional[Path]) -> None:
    if folder is not None and folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()
