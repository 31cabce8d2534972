"""One upsample job: check the paths, probe, decode, stream, encode in parts, carry the audio, publish.

Nothing is left half-written: a failure removes the temporaries, an interruption keeps
the finished parts for `--resume`.
"""

from __future__ import annotations

import itertools
import math
import os
import time
from contextlib import contextmanager
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Callable, Iterator, Optional

from vfi.core.interface import Interpolator
from vfi.io.decode import FrameReader
from vfi.io.encode import (ALPHA_CODECS, CONTAINERS, IMAGE_FORMATS, EncodeSettings, FrameWriter, check_container,
                           is_sequence_path, sequence_files)
from vfi.io.mux import hdr_metadata_note, video_tag_args
from vfi.io.libav import is_standard
from vfi.io.output_lock import OutputLock, lock_output
from vfi.io.pipe import DEFAULT_FORMAT, StandardOutput, check_format
from vfi.io.probe import VideoError, VideoInfo, probe
from vfi.io.seek import ReadFrom, can_seek
from vfi.pipeline.cuts import DEFAULT_THRESHOLD
from vfi.pipeline.schedule import resolve_rates
from vfi.pipeline.segments import SegmentedOutput, WholeOutput, job_description, parts_folder
from vfi.pipeline.stream import StreamStats, interpolate_stream
from vfi.pipeline.threads import BackgroundWriter, prefetch

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
    decoded: Optional[int] = None  # input frames decoded in all, where parts were read apart (--ray)
    parts_by_node: Optional[dict[str, int]] = None  # parts rendered on each Ray node (--ray)
    model: str = ""  # the interpolator's name

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


@dataclass
class Preflight:
    """What is settled before any frame is decoded: the input, the encoder, the output's kind."""

    info: VideoInfo
    encode: EncodeSettings
    sequence_out: bool
    made_folder: Optional[Path]  # a folder for an image sequence made here (removed on failure)
    alpha: bool
    tags: tuple[str, ...]
    notes: tuple[str, ...]  # how the input is read and what of it the output cannot carry


def preflight(input_path: Path, output_path: Path, factor: Optional[int], fps: Optional[Fraction], slowmo: Fraction,
              force: bool, encode: Optional[EncodeSettings], resume: bool, input_options: tuple[str, ...] = (),
              video_stream: int = 0, deinterlace: str = "auto", output_format: Optional[str] = None) -> Preflight:
    """Probe the input and refuse what would fail or destroy data, before minutes of work."""
    to_stdout = is_standard(output_path)
    if output_format is not None and not to_stdout:
        raise VideoError("--format is for standard output (-o -); a file's name says its format")
    if resume and (to_stdout or is_standard(input_path)):
        raise VideoError("--resume needs a file as input and output: standard input and output are read and "
                         "written once")
    if to_stdout:
        check_format(output_format or DEFAULT_FORMAT)
    info = probe(input_path, input_options, video_stream, deinterlace)
    sequence_out = is_sequence_path(output_path)
    if not sequence_out and not to_stdout:
        info = info.stored()  # decode the frames as stored; the output keeps the rotation tag
    if resume and sequence_out:
        raise VideoError("--resume works with video outputs, not image sequences")
    try:
        resolve_rates(info.fps, factor, fps, slowmo, force, info.fields)  # refuse absurd requests before any work
    except ValueError as exc:
        raise VideoError(str(exc)) from None
    encode = encode or EncodeSettings(codec="auto")
    if not (to_stdout and encode.codec == "auto"):  # (standard output's default: the frames as they are)
        encode = encode.for_input(info)
    made_folder = None
    if to_stdout:
        pass  # no file to check or make
    elif not (resume and parts_folder(output_path).is_dir()):
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
    tags = tuple(video_tag_args(info, encode.codec, rgb=encode.lossless)) if not sequence_out else ()
    notes = info.notes + tuple(hdr_metadata_note(info, "image" if sequence_out else encode.codec))
    return Preflight(info, encode, sequence_out, made_folder, alpha, tags, notes)


def first_frames(frames, input_path: Path) -> list:
    """The first two frames, which every job needs (and after which the reader knows the exact rate)."""
    first = [f for _, f in zip(range(2), frames)]
    if len(first) < 2:
        raise VideoError(f"{input_path}: has {len(first)} decodable frame(s); at least 2 are needed")
    return first


def model_label(interpolator: Interpolator) -> str:
    """How a job names its interpolator, so --resume refuses parts another model made."""
    return f"{type(interpolator).__name__}:{interpolator.name}"


def parts_output(output_path: Path, plan: Preflight, rates, layout: dict, label: str, resume: bool,
                 part_frames: Optional[int] = None, **settings) -> SegmentedOutput:
    """The resumable parts of a video output, described by everything that decides their frames."""
    info = plan.info
    job = job_description(info, model=label, rate=rates.stream, output_rate=rates.output, encode=plan.encode,
                          tags=plan.tags, part_frames=part_frames, **settings, **layout)
    return SegmentedOutput(output_path, info.width, info.height, rates.output, plan.encode, job, resume,
                           tags=plan.tags, **layout)


def upsample(input_path: str | os.PathLike, output_path: str | os.PathLike, interpolator: Interpolator,
             factor: Optional[int] = None, fps: Optional[Fraction] = None, batch_size: int = 4,
             scene_threshold: float = DEFAULT_THRESHOLD, encode: Optional[EncodeSettings] = None,
             force: bool = False, keep_audio: bool = True, dedup: bool = False, resume: bool = False,
             input_options: tuple[str, ...] = (), slowmo: Fraction = Fraction(1), stretch_audio: bool = False,
             video_stream: int = 0, part_frames: Optional[int] = None, deinterlace: str = "auto",
             output_format: Optional[str] = None, on_start: Optional[Callable[[VideoInfo, Fraction, Optional[int]], None]] = None,
             on_frame: Optional[ProgressCallback] = None) -> UpsampleResult:
    """Write `input_path` at a higher frame rate to `output_path`; the input keeps its duration
    (or lasts `slowmo` times longer).

    Frames are placed by their real timestamps (variable-rate input stays in sync with its
    audio). A video output is written in parts so `resume=True` can continue an
    interrupted run from its finished parts with the same frames. `force` replaces an existing
    output and lifts the limits on absurd rates.
    """
    input_path, output_path = Path(input_path), Path(output_path)
    plan = preflight(input_path, output_path, factor, fps, slowmo, force, encode, resume, input_options, video_stream,
                     deinterlace, output_format)
    info, encode, sequence_out, made_folder = plan.info, plan.encode, plan.sequence_out, plan.made_folder
    to_stdout = is_standard(output_path)
    with claim_output(output_path, made_folder) as lock:
        reader = FrameReader(info, timed=True, alpha=plan.alpha)
        layout = {"channels": reader.channels, "deep": info.high_bit_depth}
        started = time.perf_counter()
        stats = StreamStats()
        frames = prefetch(reader, depth=2 * batch_size + 2)
        writer = None
        try:
            first_two = first_frames(frames, input_path)
            rates = resolve_rates(reader.rate, factor, fps, slowmo, force, info.fields)  # the exact rate is known now
            if to_stdout:
                writer = StandardOutput(output_format or DEFAULT_FORMAT, info.width, info.height, rates.output, encode,
                                        info, keep_audio, slowmo, tags=plan.tags, stretch_audio=stretch_audio,
                                        **layout)
            elif sequence_out:
                writer = WholeOutput(FrameWriter(output_path, info.width, info.height, rates.output, encode, **layout))
            else:
                writer = parts_output(output_path, plan, rates, layout, model_label(interpolator), resume,
                                      part_frames=part_frames, batch=batch_size, scenes=scene_threshold, dedup=dedup,
                                      audio=keep_audio, stretch_audio=stretch_audio, deinterlace=info.deinterlace)
            skip = writer.done
            near = part_reader(info, skip / rates.stream, reader.origin, plan.alpha, dedup) if skip else None
            if near is not None and not writer.complete:  # resumed late: read from near there
                frames.close()
                frames = prefetch(near, depth=2 * batch_size + 2)
                first_two = []
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
            notes = [*plan.notes, *writer.finish(info, keep_audio=keep_audio, slowmo=slowmo, stretch_audio=stretch_audio)]
        except KeyboardInterrupt as stop:
            if writer is not None:
                writer.abort(keep_parts=not is_standard(input_path))  # a pipe's parts could not be resumed
                if writer.kept_parts:
                    raise writer.interrupted(stop) from None
            raise
        except BaseException:
            if writer is not None:
                writer.abort(keep_parts=False)
            raise
        finally:
            frames.close()
        stats.frames_out += skip
    return UpsampleResult(output_path, reader.rate, rates.output, stats, time.perf_counter() - started,
                          notes + lock.notes, skip, model=interpolator.name)


def parts_seek(info: VideoInfo, dedup: bool) -> bool:
    """Whether a part's read may start near it: not where a seek could change the frames (see io.seek),
    nor with `dedup`, whose dropping of a repeat depends on the frames before."""
    return not dedup and can_seek(info)


def part_reader(info: VideoInfo, begins: Fraction, origin: Fraction, alpha: bool, dedup: bool) -> Optional[ReadFrom]:
    """A read of what output from `begins` (input seconds) on needs: from the frame before its first
    pair (that pair's neighbour), starting at a key frame near there; None where parts do not seek."""
    if not parts_seek(info, dedup):
        return None
    return ReadFrom(info, max(Fraction(0), begins - 2 / info.fps), origin, alpha=alpha)


@contextmanager
def claim_output(output_path: Path, made_folder: Optional[Path]) -> Iterator[OutputLock]:
    """This run's lock on its output (see io.output_lock), held from before any part or temporary is
    touched; on the way out, a folder made for the output goes too if nothing was written into it."""
    if is_standard(output_path):  # standard output: no file to lock
        yield OutputLock.none()
        return
    try:
        lock = lock_output(output_path)
    except BaseException:
        _remove_if_empty(made_folder)
        raise
    try:
        yield lock
    finally:
        lock.release()
        _remove_if_empty(made_folder)


def _remove_if_empty(folder: Optional[Path]) -> None:
    if folder is not None and folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()
