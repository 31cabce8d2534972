"""`vfi upsample --ray`: the parts of one video (or the videos of a folder) as Ray tasks.

The output is cut where the single-process run cuts it into resumable parts. A task
renders part k exactly as `--resume` would: it streams the input from the start, produces
nothing before output frame k * part_frames (no model call there), and the motion that
interpolators carry from pair to pair starts afresh at that frame in both cases, so the
joined file has the frames of the single-process run. Each part is an encode of its own
(starting on a key frame); the driver joins them without re-encoding and muxes the audio
once. Parts already finished are kept, so a rerun with `--resume` computes only the missing
ones; a task whose worker dies is retried by Ray.

Workers open the input, the model and the parts folder by path: on a cluster these must lie
on storage every node sees, and vfi must be installed on every node.
"""

from __future__ import annotations

import math
import socket
import time
from collections import Counter
from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path
from typing import Callable, Optional

from vfi.core.interface import Interpolator
from vfi.io.decode import FrameReader
from vfi.io.encode import EncodeSettings, FrameWriter
from vfi.io.probe import VideoError, probe
from vfi.pipeline.cuts import DEFAULT_THRESHOLD
from vfi.pipeline.job import (UpsampleResult, _remove_if_empty, claim_output, first_frames, model_label, part_reader,
                              parts_output, parts_seek, preflight)
from vfi.pipeline.schedule import resolve_rates
from vfi.pipeline.stream import StreamStats, interpolate_stream
from vfi.pipeline.threads import prefetch

LOCAL = "local"  # --ray with no address: start Ray on this machine with all its cores and GPUs
TASK_RETRIES = 3  # a task whose worker process or node dies is run again this many times
STOP_FILE = "stop"  # put in the parts folder when a part failed: the parts still running end early


class PartStopped(Exception):
    """A part that ended early because another one failed."""


@dataclass(frozen=True)
class PartTask:
    """Everything a worker needs to render one part; plain values, so Ray can ship it."""

    input: str
    input_options: tuple[str, ...]
    video_stream: int
    deinterlace: str
    alpha: bool
    model: str
    device: str
    scale: Optional[float]
    tile: Optional[int]
    rate: Fraction  # output frames per second of source time
    output_fps: Fraction
    batch_size: int
    scene_threshold: float
    dedup: bool
    encode: EncodeSettings
    tags: tuple[str, ...]
    part_frames: int
    part: int
    path: str  # where the finished part is published
    origin: Optional[Fraction] = None  # the first frame's time in the stream's timeline: a task may then seek


@dataclass(frozen=True)
class PartResult:
    part: int
    frames: int
    ended: bool  # the stream ends in (or right after) this part
    seconds: float
    stats: StreamStats  # what the stream counted from where this task began to read
    decoded: int = 0  # input frames decoded for this part
    frames_in: int = 0  # input frames shown within this part's time (all parts together: the input's)
    note: Optional[str] = None
    node: str = ""  # the Ray node that rendered it


def _worker_interpolator(input: str, model: str, device: str, scale: Optional[float], tile: Optional[int]):
    """On a worker: refuse an input it cannot see (one line naming the node), then build the model."""
    from vfi.core.devices import resolve_device
    from vfi.registry import create

    if not Path(input).exists():
        raise VideoError(f"{input}: not readable on the Ray worker at {socket.gethostname()}; "
                         "put the input on storage every node sees")
    return create(model, device=resolve_device(device), scale=scale, tile=tile)


def _as_task(ray, function: Callable, device: str):
    """`function` as a Ray task: run again when its worker dies, an error of its own ends it."""
    return ray.remote(max_retries=TASK_RETRIES, retry_exceptions=False,
                      num_gpus=1 if device == "cuda" else 0)(function)


def render_part(task: PartTask) -> PartResult:
    """Render output frames [part * part_frames, (part + 1) * part_frames) into one part file."""
    started = time.perf_counter()
    interpolator = _worker_interpolator(task.input, task.model, task.device, task.scale, task.tile)
    info = probe(Path(task.input), task.input_options, task.video_stream, task.deinterlace).stored()
    begins = Fraction(task.part * task.part_frames) / task.rate  # the part's first frame, in input seconds
    ends = begins + Fraction(task.part_frames) / task.rate
    near = part_reader(info, begins, task.origin, task.alpha, task.dedup) if task.origin is not None else None
    reader = near or FrameReader(info, timed=True, alpha=task.alpha)
    shown = [0]  # input frames within the part's time
    stop = Path(task.path).with_name(STOP_FILE)

    def counted(frames):
        for frame in frames:
            if stop.exists():
                raise PartStopped(f"part {task.part}")
            shown[0] += begins <= frame.ts < ends
            yield frame

    frames = prefetch(counted(reader), depth=2 * task.batch_size + 2)
    writer: Optional[FrameWriter] = None
    count, ended = 0, False
    stats = StreamStats()
    try:
        stream = interpolate_stream(frames, task.rate, interpolator, task.batch_size, task.scene_threshold,
                                    stats, dedup=task.dedup, skip_before=task.part * task.part_frames,
                                    part_frames=task.part_frames)
        for frame in stream:
            if count == task.part_frames:
                break  # a frame of the next part: the stream goes on
            if writer is None:
                writer = FrameWriter(Path(task.path), info.width, info.height, task.output_fps, task.encode,
                                     channels=frame.shape[-1], deep=info.high_bit_depth, tags=task.tags).open()
            writer.write(frame)
            count += 1
        else:
            ended = True
        if writer is not None:
            writer.finish()
            writer = None
    finally:
        if writer is not None:
            writer.abort()
        frames.close()
    return PartResult(task.part, count, ended, time.perf_counter() - started, stats, reader.decoded, shown[0],
                      getattr(reader, "note", None), _node())


def _node() -> str:
    """The Ray node this runs on ('' outside a Ray worker)."""
    try:
        import ray

        return ray.get_runtime_context().get_node_id() if ray.is_initialized() else ""
    except ImportError:
        return ""


def connect(address: str, num_cpus: Optional[int] = None):
    """Start Ray here (LOCAL) or join the cluster at ADDRESS; a clear one-line error otherwise."""
    try:
        import ray
    except ImportError:
        raise VideoError("--ray needs Ray: pip install 'vfi[ray]'") from None
    import logging

    if address != LOCAL:
        host, _, port = address.removeprefix("ray://").rpartition(":")
        try:
            socket.create_connection((host or "127.0.0.1", int(port)), timeout=5).close()
        except (OSError, ValueError):
            raise VideoError(f"--ray {address}: no Ray cluster answers there (give HOST:PORT of its head node, "
                             "or --ray alone to start one here)") from None
    if ray.is_initialized():  # this process already runs tasks on a cluster (a library user, the tests)
        return ray
    options = dict(include_dashboard=False, log_to_driver=False, logging_level=logging.ERROR)
    if address == LOCAL:  # a new instance of our own, even where `ray start` left one running on this machine
        ray.init(address="local", num_cpus=num_cpus, **options)
        return ray
    try:
        ray.init(address=address, **options)
    except Exception as exc:  # Ray's connection errors come in several types
        raise VideoError(f"--ray {address}: cannot join the cluster ({type(exc).__name__}: "
                         f"{str(exc).splitlines()[0] if str(exc) else ''})") from None
    return ray


def _stop_parts(ray, running: list, folder: Path) -> None:
    """Have the running parts end themselves, and wait until they have, so that nothing is written
    into the folder after it is removed. Not `ray.cancel`: cancelling a task in the instant it
    finishes can abort Ray's driver (ray-project/ray#54846), which is this process."""
    if running:
        (folder / STOP_FILE).touch()
        ray.wait(running, num_returns=len(running))


def _failure(exc: BaseException, what: str) -> VideoError:
    """A failed task as one line: the worker's own error where it has one."""
    cause = getattr(exc, "cause", None)
    if isinstance(cause, (VideoError, ValueError, OSError)):
        return VideoError(str(cause))
    lines = [line for line in str(exc).strip().splitlines() if line.strip()]
    reason = lines[-1].strip() if lines else type(exc).__name__  # a task error ends with the worker's own
    return VideoError(f"{what} failed after {TASK_RETRIES} retries: {reason}")


def _part_stats(results: list[PartResult], size: int, frames_out: int) -> StreamStats:
    """The whole run's counts from its tasks': each counts the input frames and cuts within its own part."""
    ours = lambda r, k: r.part * size <= k < (r.part + 1) * size
    return StreamStats(frames_in=sum(r.frames_in for r in results), frames_out=frames_out,
                       interpolated=sum(r.stats.interpolated for r in results),
                       scene_cuts=sum(1 for r in results for k in r.stats.cut_outputs if ours(r, k)),
                       repeats_dropped=max((r.stats.repeats_dropped for r in results), default=0),
                       variable_rate=any(r.stats.variable_rate for r in results),
                       model_seconds=sum(r.stats.model_seconds for r in results))


def upsample_on_ray(input_path, output_path, model: str, address: str = LOCAL, device: str = "auto",
                    scale: Optional[float] = None, tile: Optional[int] = None, factor: Optional[int] = None,
                    fps: Optional[Fraction] = None, batch_size: int = 4, scene_threshold: float = DEFAULT_THRESHOLD,
                    encode: Optional[EncodeSettings] = None, force: bool = False, keep_audio: bool = True,
                    dedup: bool = False, resume: bool = False, input_options: tuple[str, ...] = (),
                    slowmo: Fraction = Fraction(1), stretch_audio: bool = False, video_stream: int = 0,
                    part_frames: Optional[int] = None, deinterlace: str = "auto", num_cpus: Optional[int] = None,
                    on_start: Optional[Callable] = None, on_frame: Optional[Callable[[int], None]] = None,
                    runner: Callable[[PartTask], PartResult] = render_part,
                    interpolator: Optional[Interpolator] = None) -> UpsampleResult:
    """The same output as `job.upsample`, its parts rendered by Ray tasks (`runner`, one per part).

    Workers build `model` themselves; `interpolator`, the same model built here already (as the
    command line has it), only names the job, and is built when not given."""
    input_path, output_path = Path(input_path).resolve(), Path(output_path).resolve()
    plan = preflight(input_path, output_path, factor, fps, slowmo, force, encode, resume, input_options, video_stream,
                     deinterlace)
    if plan.sequence_out:
        _remove_if_empty(plan.made_folder)
        raise VideoError("--ray writes video outputs; for an image sequence run without --ray")
    info, settings = plan.info, plan.encode
    with claim_output(output_path, None) as lock:  # before any part is touched
        ray = connect(address, num_cpus)
        started = time.perf_counter()
        reader = FrameReader(info, timed=True, alpha=plan.alpha)
        frames = iter(reader)
        try:
            first_frames(frames, input_path)  # the reader knows the exact rate from here on
        finally:
            frames.close()
        exact_rate = reader.rate
        rates = resolve_rates(exact_rate, factor, fps, slowmo, force, info.fields)
        layout = {"channels": reader.channels, "deep": info.high_bit_depth}
        if interpolator is None:
            from vfi.registry import create

            interpolator = create(model, scale=scale, tile=tile)
        # named as the single-process run names it, so --resume works across both
        output = parts_output(output_path, plan, rates, layout, model_label(interpolator), resume,
                              part_frames=part_frames, batch=batch_size, scenes=scene_threshold, dedup=dedup,
                              audio=keep_audio, stretch_audio=stretch_audio, deinterlace=info.deinterlace)
        size = output.part_frames
        template = PartTask(str(input_path), tuple(input_options), video_stream, deinterlace, plan.alpha, model, device,
                            scale, tile, rates.stream, rates.output, batch_size, scene_threshold, dedup, settings,
                            plan.tags, size, 0, "", origin=reader.origin)
        estimated = math.ceil(info.duration * rates.stream) if info.duration else None
        if on_start:
            on_start(info, rates.output, estimated)
        remote = _as_task(ray, runner, device)
        have = output.existing_parts()
        end = output.saved_end()  # (parts, frames in the last) when known
        results: dict[int, PartResult] = {}
        done_frames = size * len(have)
        try:
            wanted = range(end[0]) if end else range(max(1, math.ceil((estimated or size) / size), max(have, default=-1) + 1))
            while True:
                todo = [k for k in wanted if k not in have and k not in results]
                pending = {remote.remote(replace(template, part=k, path=str(output.part_path(k)))): k for k in todo}
                while pending:
                    ready, _ = ray.wait(list(pending), num_returns=1, timeout=1.0)
                    for ref in ready:
                        part = pending.pop(ref)
                        try:
                            result = ray.get(ref)
                        except Exception as exc:
                            _stop_parts(ray, list(pending), output.folder)
                            raise _failure(exc, f"part {part}") from None
                        results[part] = result
                        done_frames += result.frames
                        if on_frame:
                            on_frame(done_frames)
                if end:
                    break
                finished = [r for r in results.values() if r.ended]
                if finished:
                    last = min(finished, key=lambda r: r.part)
                    end = (last.part + 1, last.frames) if last.frames else (last.part, size)
                    break
                wanted = range(wanted.stop, wanted.stop + max(1, len(wanted) // 4))  # the estimate fell short
            parts, last_frames = end
            output.record_last(last_frames, parts)
            for extra in set(output.existing_parts()) - set(range(parts)):
                output.part_path(extra).unlink()
            notes = [*plan.notes, *output.finish(info, keep_audio=keep_audio, slowmo=slowmo, stretch_audio=stretch_audio)]
        except KeyboardInterrupt as stop:
            output.abort(keep_parts=True)
            if output.kept_parts:
                raise output.interrupted(stop) from None
            raise
        except BaseException:
            output.abort(keep_parts=False)
            raise
    stats = _part_stats(list(results.values()), size, (parts - 1) * size + last_frames)
    notes += sorted({r.note for r in results.values() if r.note})
    if not parts_seek(info, dedup) and len(results) > 1:
        why = "with --dedup" if dedup else "its timestamps keep no steady rate" if not info.is_sequence else "an image sequence"
        notes.append(f"{input_path.name}: each part read the input from its start ({why}), "
                     f"{sum(r.decoded for r in results.values())} frames decoded in all")
    return UpsampleResult(output_path, exact_rate, rates.output, stats, time.perf_counter() - started,
                          notes + lock.notes, decoded=sum(r.decoded for r in results.values()),
                          parts_by_node=dict(Counter(r.node for r in results.values())),
                          resumed_frames=size * len(have & set(range(parts))), model=interpolator.name)


@dataclass(frozen=True)
class FileTask:
    """One video of a folder, upsampled whole by one worker."""

    input: str
    output: str
    model: str
    device: str
    scale: Optional[float]
    tile: Optional[int]
    job: dict


def render_file(task: FileTask) -> str:
    from vfi.pipeline.job import upsample

    interpolator = _worker_interpolator(task.input, task.model, task.device, task.scale, task.tile)
    upsample(task.input, task.output, interpolator, **task.job)
    return task.output


def upsample_folder_on_ray(input_dir, output_dir, model: str, job: dict, address: str = LOCAL, device: str = "auto",
                           scale: Optional[float] = None, tile: Optional[int] = None, num_cpus: Optional[int] = None,
                           on_failure: Callable[[Path, str], None] = lambda path, message: None,
                           on_done: Callable[[Path], None] = lambda path: None):
    """Every video of a folder as its own Ray task; finished outputs are skipped, failures reported at the end."""
    from vfi.pipeline.folder import FolderReport, plan_folder

    input_dir, output_dir = Path(input_dir).resolve(), Path(output_dir).resolve()
    jobs = plan_folder(input_dir, output_dir)
    try:
        output_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise VideoError(f"{output_dir}: cannot create the output folder ({exc.strerror})") from None
    ray = connect(address, num_cpus)
    remote = _as_task(ray, render_file, device)
    report = FolderReport()
    pending = {}
    for source, target in jobs:
        if target.exists():
            report.skipped.append(source)
        else:
            pending[remote.remote(FileTask(str(source), str(target), model, device, scale, tile, job))] = source
    while pending:
        ready, _ = ray.wait(list(pending), num_returns=1)
        source = pending.pop(ready[0])
        try:
            ray.get(ready[0])
            report.done.append(source)
            on_done(source)
        except Exception as exc:
            message = str(_failure(exc, source.name))
            report.failed.append((source, message))
            on_failure(source, message)
    return report
