"""Streaming upsample: decode -> interpolate in batches -> encode, with audio carried over.

Decoding and encoding run in their own threads (and ffmpeg processes) so the slowest of
the three stages sets the pace, and only a few batches of frames are ever in memory.
"""

from __future__ import annotations

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
from .scenes import DEFAULT_THRESHOLD, is_scene_cut
from .schedule import output_frame_count, output_indices, resolve_ratio, times_for_pair
from .video import CONTAINERS, EncodeSettings, FrameReader, FrameWriter, VideoError, VideoInfo, probe


@dataclass
class StreamStats:
    """What the streaming loop counted, for the summary line and the benchmark."""

    frames_in: int = 0
    frames_out: int = 0
    interpolated: int = 0
    scene_cuts: int = 0
    model_seconds: float = 0.0
    cut_pairs: set[int] = field(default_factory=set)


@dataclass
class _Pair:
    index: int
    frame0: np.ndarray
    frame1: np.ndarray
    times: list[Fraction]
    cut: bool


def _emit_batch(pairs: list[_Pair], interpolator: Interpolator, stats: StreamStats) -> Iterator[np.ndarray]:
    """Run the interpolator once per group of pairs that need the same number of new frames."""
    results: dict[int, np.ndarray] = {}
    groups: dict[int, list[_Pair]] = {}
    for pair in pairs:
        wanted = [t for t in pair.times if t != 0]
        if wanted and not pair.cut:
            groups.setdefault(len(wanted), []).append(pair)
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
        for t in pair.times:
            if t == 0:
                yield pair.frame0
            elif pair.cut:
                # Across a scene cut show the nearer real frame instead of morphing two shots.
                yield pair.frame0 if t < Fraction(1, 2) else pair.frame1
            else:
                yield next(new)


def interpolate_stream(frames: Iterable[np.ndarray], ratio: Fraction, interpolator: Interpolator,
                       batch_size: int = 4, scene_threshold: float = DEFAULT_THRESHOLD,
                       stats: Optional[StreamStats] = None) -> Iterator[np.ndarray]:
    """Yield the output frames, in order, for input frames at `ratio` times the rate.

    Output frame k shows input time k / ratio; after the last input frame the tail repeats
    it so that the output lasts exactly as long as the input.
    """
    stats = stats if stats is not None else StreamStats()
    frames = iter(frames)
    prev = next(frames, None)
    if prev is None:
        return
    stats.frames_in = 1
    pending: list[_Pair] = []
    index = 0
    for frame in frames:
        stats.frames_in += 1
        cut = is_scene_cut(prev, frame, scene_threshold)
        if cut:
            stats.scene_cuts += 1
            stats.cut_pairs.add(index)
        pending.append(_Pair(index, prev, frame, times_for_pair(index, ratio), cut))
        index += 1
        prev = frame
        if len(pending) >= batch_size:
            for out in _emit_batch(pending, interpolator, stats):
                stats.frames_out += 1
                yield out
            pending = []
    for out in _emit_batch(pending, interpolator, stats):
        stats.frames_out += 1
        yield out
    for _ in output_indices(index, ratio):
        stats.frames_out += 1
        yield prev


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


def check_paths(input_path: Path, output_path: Path, force: bool) -> None:
    """Refuse what would destroy data or fail only after minutes of work."""
    same = output_path.resolve() == input_path.resolve() or (
        output_path.exists() and input_path.exists() and os.path.samefile(input_path, output_path))  # hard links too
    if same:
        raise VideoError(f"{output_path}: the output would overwrite the input; choose another name")
    if output_path.is_dir():
        raise VideoError(f"{output_path}: is a folder; give a file name such as {output_path / 'out.mp4'}")
    if output_path.exists() and not force:
        raise VideoError(f"{output_path}: already exists (use --force to replace it)")
    folder = output_path.parent if str(output_path.parent) else Path(".")
    if not folder.is_dir():
        raise VideoError(f"{folder}: output folder does not exist")
    if not os.access(folder, os.W_OK):
        raise VideoError(f"{folder}: output folder is not writable")
    if output_path.suffix.lower() not in CONTAINERS:
        raise VideoError(f"{output_path}: unsupported output extension; use .mp4, .mkv, .mov, .webm or .avi")


@dataclass
class UpsampleResult:
    output: Path
    input_fps: Fraction
    output_fps: Fraction
    stats: StreamStats
    seconds: float
    audio_note: Optional[str]

    @property
    def output_fps_rate(self) -> float:
        """Output frames produced per wall-clock second, for the whole command."""
        return self.stats.frames_out / max(self.seconds, 1e-9)


ProgressCallback = Callable[[int], None]


def upsample(input_path: str | os.PathLike, output_path: str | os.PathLike, interpolator: Interpolator,
             factor: Optional[int] = None, fps: Optional[Fraction] = None, batch_size: int = 4,
             scene_threshold: float = DEFAULT_THRESHOLD, encode: EncodeSettings = EncodeSettings(),
             force: bool = False, keep_audio: bool = True,
             on_start: Optional[Callable[[VideoInfo, Fraction, Optional[int]], None]] = None,
             on_frame: Optional[ProgressCallback] = None) -> UpsampleResult:
    """Write `input_path` at a higher frame rate to `output_path`; the input keeps its duration."""
    input_path, output_path = Path(input_path), Path(output_path)
    info = probe(input_path)
    check_paths(input_path, output_path, force)
    try:
        ratio, out_fps = resolve_ratio(info.fps, factor, fps)
    except ValueError as exc:
        raise VideoError(str(exc)) from None
    started = time.perf_counter()
    frames = prefetch(FrameReader(info), depth=2 * batch_size + 2)
    first_two = [f for _, f in zip(range(2), frames)]
    if len(first_two) < 2:
        raise VideoError(f"{input_path}: has {len(first_two)} decodable frame(s); at least 2 are needed")
    estimated = output_frame_count(info.estimated_frames, ratio) if info.estimated_frames else None
    if on_start:
        on_start(info, out_fps, estimated)

    def all_frames():
        yield from first_two
        yield from frames

    stats = StreamStats()
    writer = FrameWriter(output_path, info.width, info.height, out_fps, encode,
                         audio_from=info if keep_audio else None)
    writer.open()
    try:
        background = BackgroundWriter(writer, depth=max(4, 2 * batch_size * int(ratio + 1)))
        try:
            for frame in interpolate_stream(all_frames(), ratio, interpolator, batch_size, scene_threshold, stats):
                background.write(frame)
                if on_frame:
                    on_frame(stats.frames_out)
        finally:
            background.close()
        writer.finish()
    except BaseException:
        writer.abort()
        raise
    return UpsampleResult(output_path, info.fps, out_fps, stats, time.perf_counter() - started, writer.note)
