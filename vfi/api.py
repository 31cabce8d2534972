"""vfi from Python: load an interpolator, upsample a video, score methods. The command line is built on
these same functions; each raises `VfiError` where the command prints an error."""

from __future__ import annotations

import os
import time
from contextlib import contextmanager
from fractions import Fraction
from pathlib import Path
from typing import Callable, Iterator, Optional, Sequence, Union

import numpy as np

from vfi.core.errors import VfiError

PathLike = Union[str, os.PathLike]
Rate = Union[int, float, str, Fraction]


@contextmanager
def vfi_errors() -> Iterator[None]:
    """The failures a user can act on (bad options, unreadable files) as VfiError, with their own words."""
    try:
        yield
    except VfiError:
        raise
    except (ValueError, OSError) as exc:
        raise VfiError(str(exc)) from exc


class Model:
    """A loaded interpolator: the frames between two frames, at any times in (0, 1)."""

    def __init__(self, interpolator):
        self.interpolator = interpolator

    @property
    def name(self) -> str:
        return self.interpolator.name

    @property
    def description(self) -> str:
        return self.interpolator.description

    def interpolate(self, frame0: np.ndarray, frame1: np.ndarray, times: Sequence[float]) -> np.ndarray:
        """Frames at `times` between `frame0` and `frame1`: uint8 or uint16 arrays (H, W, 3 or 4) of one
        size. Returns (len(times), H, W, channels) in the frames' dtype (16 bits when either is)."""
        a, b = np.asarray(frame0), np.asarray(frame1)
        if a.ndim != 3 or a.shape != b.shape or a.shape[2] not in (3, 4):
            raise VfiError(f"expected two frames of one size, (H, W, 3) or (H, W, 4); got {a.shape} and {b.shape}")
        if a.dtype not in (np.uint8, np.uint16) or b.dtype not in (np.uint8, np.uint16):
            raise VfiError(f"expected uint8 or uint16 frames; got {a.dtype} and {b.dtype}")
        if a.dtype != b.dtype:  # one 8-bit, one 16-bit: work in 16 bits
            a, b = (x if x.dtype == np.uint16 else x.astype(np.uint16) * 257 for x in (a, b))
        times = [float(t) for t in times]
        if not times or any(not 0 <= t <= 1 for t in times):
            raise VfiError(f"times must lie in [0, 1]; got {times}")
        with vfi_errors():
            return self.interpolator.interpolate(a[None], b[None], [times])[0]


def load(model: Optional[str] = None, device: str = "auto", scale: Optional[float] = None,
         tile: Optional[int] = None) -> Model:
    """An interpolator by name (see `vfi models`; default: the default model) or a checkpoint path
    written by `vfi train`. `device`: auto (CUDA when present), cpu or cuda."""
    from vfi.core.devices import resolve_device
    from vfi.registry import DEFAULT_MODEL, create

    with vfi_errors():
        return Model(create(str(model or DEFAULT_MODEL), device=resolve_device(device), scale=scale, tile=tile))


def _rate(value: Optional[Rate], option: str) -> Optional[Fraction]:
    from vfi.io.probe import parse_fps_argument, parse_number

    if value is None:
        return None
    if isinstance(value, (int, Fraction)):
        return Fraction(value)
    return parse_fps_argument(str(value)) if option == "--fps" else parse_number(str(value), option)


def progress_bar(enabled: bool):
    """A progress bar on standard error, shown only when enabled and standard error is a terminal."""
    from rich.console import Console
    from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn,
                               TimeRemainingColumn)

    console = Console(stderr=True)
    return Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TextColumn("{task.fields[rate]}"), TimeElapsedColumn(), TimeRemainingColumn(),
                    console=console, disable=not enabled or not console.is_terminal, transient=False)


def upsample(input: PathLike, output: PathLike, factor: Optional[int] = None, fps: Optional[Rate] = None,
             slowmo: Optional[Rate] = None, model: Optional[str] = None, *, device: str = "auto",
             codec: Optional[str] = None, crf: int = 18, preset: str = "medium", lossless: bool = False,
             audio: bool = True, stretch_audio: bool = False, dedup: bool = False, resume: bool = False,
             batch_size: int = 4, scene_threshold: float = 0.5, input_fps: Optional[Rate] = None,
             video_stream: int = 0, deinterlace: str = "auto", scale: Optional[float] = None, tile: int = 0,
             force: bool = False, ray: Optional[str] = None, part_frames: Optional[int] = None,
             output_format: Optional[str] = None, progress: bool = False,
             on_result: Optional[Callable] = None, on_failure: Optional[Callable[[Path, str], None]] = None):
    """What `vfi upsample INPUT -o OUTPUT` does, with the same options (see docs/usage.md).

    INPUT is a video, an image sequence (frames/%05d.png) or a folder of videos; "-" reads standard
    input and an OUTPUT of "-" writes standard output (`output_format`: nut, y4m or matroska).
    Returns the result of one video (frames, rates, notes) or, for a folder, the folder's report.
    `progress=True` shows a progress bar on standard error; `on_result(input, result)` is called as
    each video finishes, `on_failure(input, message)` as one of a folder's fails.
    """
    from vfi.core.devices import resolve_device
    from vfi.io.encode import EncodeSettings
    from vfi.io.libav import is_standard
    from vfi.registry import DEFAULT_MODEL, create
    from vfi.pipeline.folder import upsample_folder
    from vfi.pipeline.schedule import check_rate_request

    input, output = Path(input), Path(output)
    with vfi_errors():
        target, slow = _rate(fps, "--fps"), _rate(slowmo, "--slowmo") or Fraction(1)
        check_rate_request(factor, target, slow)
        if stretch_audio and slow == 1:
            raise VfiError("--stretch-audio goes with --slowmo")
        model = str(model or DEFAULT_MODEL)
        settings = EncodeSettings(codec=codec or "auto", crf=crf, preset=preset, lossless=lossless)
        input_rate = _rate(input_fps, "--fps")
        input_options = ("-framerate", str(input_rate)) if input_rate else ()
        interpolator = create(model, device=resolve_device(device), scale=scale, tile=tile)
        job = dict(factor=factor, fps=target, batch_size=batch_size, scene_threshold=scene_threshold,
                   encode=settings, force=force, keep_audio=audio, dedup=dedup, resume=resume,
                   input_options=input_options, slowmo=slow, stretch_audio=stretch_audio, video_stream=video_stream,
                   part_frames=part_frames, deinterlace=deinterlace,
                   **({"output_format": output_format} if output_format else {}))
        failed = on_failure or (lambda source, message: None)
        if ray is not None and (is_standard(input) or is_standard(output)):
            raise VfiError("--ray reads the input once per part and writes a file: give file names, not -")
        if ray is not None:
            from vfi.pipeline.cluster import upsample_folder_on_ray, upsample_on_ray

            where = dict(model=model, address=ray, device=device, scale=scale, tile=tile)
            if not input.is_dir():
                run = lambda src, dst, built, **kw: upsample_on_ray(src, dst, interpolator=built, **where, **kw)
                return _one(input, output, interpolator, job, progress, on_result, run)
            return upsample_folder_on_ray(input, output, job=job, on_failure=failed, **where)
        if not input.is_dir():
            return _one(input, output, interpolator, job, progress, on_result)
        return upsample_folder(input, output, lambda src, dst: _one(src, dst, interpolator, job, progress, on_result),
                               on_failure=failed)


def _one(input: Path, output: Path, interpolator, job: dict, progress: bool, on_result, run=None):
    """One video, with a progress bar when asked (`run`: how, by default `pipeline.job.upsample` here)."""
    from vfi.pipeline.job import upsample as run_here

    with progress_bar(progress) as bar:
        task = bar.add_task(f"upsampling {input.name}", total=None, rate="")
        started = {}

        def on_start(info, out_fps, estimated):
            started["t"] = time.perf_counter()
            bar.update(task, total=estimated)

        def on_frame(done):
            if done % 8 == 0:
                elapsed = time.perf_counter() - started["t"]
                bar.update(task, completed=done, rate=f"{done / max(elapsed, 1e-6):.1f} fps")

        result = (run or run_here)(input, output, interpolator, on_start=on_start, on_frame=on_frame, **job)
        bar.update(task, completed=result.stats.frames_out, total=result.stats.frames_out)
    if on_result:
        on_result(input, result)
    return result


def benchmark(paths: Sequence[PathLike] = (), methods: Sequence[str] = ("dup", "blend", "flow", "select"),
              factors: Sequence[int] = (2, 4), suite: Optional[str] = None, max_frames: Optional[int] = None,
              max_items: Optional[int] = None, batch_size: int = 4, device: str = "auto",
              keep_worst: int = 0, on_progress: Optional[Callable[[str], None]] = None) -> dict:
    """PSNR/SSIM (and Middlebury's IE) of `methods` on held-out frames of videos, on triplet folders
    (UCF101, Middlebury layouts) and on `suite="ci"`, as `vfi benchmark` scores them. Returns the
    results as data: results["datasets"][name]["x2"][method]["psnr"], results["mean"], and the
    examples' raw scores under "raw" when `keep_worst` asks for them."""
    from vfi.bench.datasets import datasets_for
    from vfi.bench.scoring import run_benchmark
    from vfi.core.devices import environment, resolve_device
    from vfi.registry import create

    with vfi_errors():
        if any(k < 2 for k in factors):
            raise VfiError("--factor must be at least 2")
        dev = resolve_device(device)
        interpolators = {str(name): create(str(name), device=dev) for name in methods}
        datasets = datasets_for([Path(p) for p in paths], suite, max_frames)
        results, raw = run_benchmark(datasets, interpolators, sorted(set(factors)), batch_size, max_items,
                                     keep_worst=keep_worst, on_progress=on_progress)
        results["environment"] = environment(dev)
        if keep_worst:
            results["raw"] = raw
        return results
