"""The `vfi` command: a thin layer that turns options into calls and errors into one line."""

from __future__ import annotations

import sys
import time
from contextlib import contextmanager
from fractions import Fraction
from pathlib import Path
from typing import List, Optional

import typer
import typer.core
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from . import __version__

class _Flagless:
    """--help is an on/off option too: shown without a value placeholder, like the others."""

    def get_help_option(self, ctx):
        option = super().get_help_option(ctx)
        if option is not None:
            option.metavar = ""
        return option


class Command(_Flagless, typer.core.TyperCommand):
    pass


class Group(_Flagless, typer.core.TyperGroup):
    pass


app = typer.Typer(cls=Group, add_completion=False, no_args_is_help=True,
                  help="Video frame interpolation: higher frame rates and slow motion from ordinary videos.")
err = Console(stderr=True, soft_wrap=True)
out = Console(soft_wrap=True)


class CliError(Exception):
    """An error already worded for the user."""


class Terminated(KeyboardInterrupt):
    """SIGTERM: the same clean stop as Ctrl-C, and the conventional exit code 143 (128 + 15)."""


def flag(*names: str, help: str, **extra) -> bool:
    """An on/off option; shown in --help without a value placeholder, since it takes none."""
    return typer.Option(False, *names, help=help, metavar="", **extra)


@contextmanager
def user_errors():
    """Turn expected failures into one line on stderr and a non-zero exit, never a traceback."""
    from .registry import UnknownModelError
    from .io.probe import VideoError

    try:
        yield
    except KeyboardInterrupt as exc:
        hint = getattr(exc, "hint", None) or "stopped; no partial output was left behind"
        err.print(f"[red]{'terminated' if isinstance(exc, Terminated) else 'interrupted'}[/red]: {hint}",
                  highlight=False)
        raise typer.Exit(143 if isinstance(exc, Terminated) else 130)
    except (CliError, VideoError, UnknownModelError, ValueError, FileNotFoundError, OSError) as exc:
        err.print(f"[red]error[/red]: {exc}", highlight=False)
        raise typer.Exit(1)


def progress_bar(quiet: bool) -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"), TimeElapsedColumn(), TimeRemainingColumn(),
        console=err, disable=quiet or not err.is_terminal, transient=False,
    )


@app.command(cls=Command)
def upsample(
    input: Path = typer.Argument(..., help="Input video, image sequence (frames/%05d.png) or folder of videos."),
    output: Path = typer.Option(..., "-o", "--output", help="Output video (.mp4, .mkv, .mov, .webm, .avi), image sequence (out/%05d.png), or folder when INPUT is one."),
    factor: Optional[int] = typer.Option(None, "--factor", "-f", help="Multiply the frame rate by this integer (>= 2); duration is kept."),
    fps: Optional[str] = typer.Option(None, "--fps", help="Target frame rate instead of --factor, e.g. 60, 59.94 or 60000/1001."),
    slowmo: Optional[str] = typer.Option(None, "--slowmo", help="Slow motion: make the video this many times longer (e.g. 4 or 2.5), at the input's rate or at --fps/--factor's."),
    stretch_audio: bool = flag("--stretch-audio", help="With --slowmo: stretch the audio to match (ffmpeg atempo, pitch kept) instead of leaving it out."),
    video_stream: int = typer.Option(0, "--video-stream", min=0, help="Which video stream to interpolate when the input has several (0 is the first; cover art not counted)."),
    model: str = typer.Option("flow", "--model", "-m", help="Interpolator name (see `vfi models`) or a checkpoint .pt path."),
    batch_size: int = typer.Option(4, "--batch-size", "-b", min=1, help="Frame pairs interpolated per batch."),
    device: str = typer.Option("auto", "--device", help="auto (CUDA when present), cpu or cuda."),
    scene_threshold: float = typer.Option(0.5, "--scene-threshold", min=0.0, max=1.0, help="Scene-cut sensitivity in [0, 1]; no morphing across a cut. 0 disables."),
    codec: Optional[str] = typer.Option(None, "--codec", help="libx264, libx265, ffv1, prores or vp9 (default: libx264; libx265 10-bit for 10/16-bit input)."),
    crf: int = typer.Option(18, "--crf", min=0, max=63, help="Quality for libx264/libx265/vp9 (lower is better)."),
    preset: str = typer.Option("medium", "--preset", help="Encoder speed preset for libx264/libx265 (ultrafast ... veryslow)."),
    lossless: bool = flag("--lossless", help="Lossless RGB output: passed-through frames are bit-identical to the decoded input."),
    no_audio: bool = flag("--no-audio", help="Drop the audio instead of copying it."),
    dedup: bool = flag("--dedup", help="Drop repeated frames (animation on twos, stalled screen captures) and interpolate across the real motion."),
    resume: bool = flag("--resume", help="Continue an interrupted run from its finished parts (same frames as an unbroken run)."),
    input_fps: Optional[str] = typer.Option(None, "--input-fps", help="Frame rate of an image-sequence INPUT (default 25)."),
    scale: Optional[float] = typer.Option(None, "--scale", min=0.05, max=1.0, help="Estimate motion at this fraction of the frame size (default: chosen from the size; 0.5 or less for 4K)."),
    tile: int = typer.Option(0, "--tile", min=0, help="Interpolate in overlapping tiles of this many pixels (0: only when a frame is above 4K)."),
    force: bool = flag("--force", help="Replace OUTPUT if it exists; also allow rates beyond the limits (64 frames per input frame, 1000 fps)."),
    quiet: bool = flag("--quiet", "-q", help="No progress bar and no summary."),
):
    """Write INPUT at a higher frame rate (--factor N or --fps F) or in slow motion (--slowmo S).

    Audio, subtitles, chapters, attachments and metadata are copied unchanged, and so are the
    aspect ratio, rotation and colour tags.

    Variable-frame-rate input is interpolated on its real timestamps to a constant rate.
    A folder INPUT does every video in it into the folder OUTPUT, skipping finished ones.
    """
    from .batch import upsample_folder
    from .interpolator import resolve_device
    from .io.encode import EncodeSettings
    from .io.probe import parse_fps_argument, parse_number
    from .registry import create
    from .schedule import check_rate_request

    with user_errors():
        _stop_cleanly_on_sigterm()
        target = parse_fps_argument(fps) if fps is not None else None
        slow = parse_number(slowmo, "--slowmo") if slowmo is not None else Fraction(1)
        check_rate_request(factor, target, slow)
        if stretch_audio and slow == 1:
            raise CliError("--stretch-audio goes with --slowmo")
        settings = EncodeSettings(codec=codec or "auto", crf=crf, preset=preset, lossless=lossless)
        input_options = ("-framerate", str(parse_fps_argument(input_fps))) if input_fps else ()
        interpolator = create(model, device=resolve_device(device), scale=scale, tile=tile)
        job = dict(factor=factor, fps=target, batch_size=batch_size, scene_threshold=scene_threshold,
                   encode=settings, force=force, keep_audio=not no_audio, dedup=dedup, resume=resume,
                   input_options=input_options, slowmo=slow, stretch_audio=stretch_audio, video_stream=video_stream)
        if not input.is_dir():
            _upsample_one(input, output, interpolator, job, quiet)
            return
        report = upsample_folder(input, output, lambda src, dst: _upsample_one(src, dst, interpolator, job, quiet),
                                 on_failure=lambda src, msg: err.print(f"[red]failed[/red]: {msg}", highlight=False))
        err.print(f"{len(report.done)} done, {len(report.skipped)} already done (skipped), "
                  f"{len(report.failed)} failed", highlight=False)
        if report.failed:
            raise CliError("failed: " + "; ".join(str(path.name) for path, _ in report.failed))


def _stop_cleanly_on_sigterm() -> None:
    """`kill` gets the same clean stop as Ctrl-C: temporaries removed, finished parts kept for --resume."""
    import signal
    import threading

    def stop(signum, frame):
        raise Terminated

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, stop)


def _upsample_one(input: Path, output: Path, interpolator, job: dict, quiet: bool) -> None:
    """One video with a progress bar and a summary line."""
    from .pipeline import upsample as run_upsample

    with progress_bar(quiet) as bar:
        task = bar.add_task(f"upsampling {input.name}", total=None, rate="")
        started = {}

        def on_start(info, out_fps, estimated):
            started["t"] = time.perf_counter()
            bar.update(task, total=estimated)

        def on_frame(done):
            if done % 8 == 0:
                elapsed = time.perf_counter() - started["t"]
                bar.update(task, completed=done, rate=f"{done / max(elapsed, 1e-6):.1f} fps")

        result = run_upsample(input, output, interpolator, on_start=on_start, on_frame=on_frame, **job)
        bar.update(task, completed=result.stats.frames_out, total=result.stats.frames_out)
    for note in result.notes:
        err.print(f"[yellow]note[/yellow]: {note}", highlight=False)
    if quiet:
        return
    s = result.stats
    if s.variable_rate:
        err.print("[yellow]note[/yellow]: variable frame rate input: interpolated on its real timestamps")
    extra = f", {s.repeats_dropped} repeated frame(s) dropped" if job["dedup"] else ""
    extra += f", resumed after {result.resumed_frames} frames" if result.resumed_frames else ""
    extra += f", slow motion {float(job['slowmo']):g}x" if job["slowmo"] != 1 else ""
    err.print(
        f"{input} -> {result.output}: {s.frames_in} frames at {float(result.input_fps):.3f} fps -> "
        f"{s.frames_out} frames at {float(result.output_fps):.3f} fps ({interpolator.name}, "
        f"{s.scene_cuts} scene cut(s){extra}) in {result.seconds:.1f} s, {result.output_fps_rate:.1f} output fps",
        highlight=False,
    )


@app.command(cls=Command)
def interpolate(
    frame0: Path = typer.Argument(..., help="First image (PNG, TIFF, JPEG; 8 or 16 bits; alpha kept)."),
    frame1: Path = typer.Argument(..., help="Second image, the same size."),
    output: str = typer.Option(..., "-o", "--output", help="Output name with a number pattern, e.g. mid_%d.png (numbered from 1)."),
    times: str = typer.Option("0.5", "--times", "-t", help="Comma-separated times in (0, 1), e.g. 0.25,0.5,0.75."),
    model: str = typer.Option("flow", "--model", "-m", help="Interpolator name (see `vfi models`) or a checkpoint .pt path."),
    device: str = typer.Option("auto", "--device", help="auto (CUDA when present), cpu or cuda."),
    force: bool = flag("--force", help="Replace output images that exist."),
):
    """Make the frames between two images at the given times."""
    import numpy as np

    from .io.images import numbered, read_image, write_image
    from .interpolator import resolve_device
    from .registry import create

    with user_errors():
        try:
            ts = [float(t) for t in times.split(",")]
        except ValueError:
            raise CliError(f"--times '{times}': give numbers such as 0.25,0.5,0.75") from None
        if not ts or any(not 0 < t < 1 for t in ts):
            raise CliError(f"--times '{times}': every time must lie strictly between 0 and 1")
        a, b = read_image(frame0), read_image(frame1)
        if a.shape != b.shape:
            raise CliError(f"the images differ in size or channels: {a.shape} and {b.shape}")
        if a.dtype != b.dtype:  # one 8-bit, one 16-bit image: work in 16 bits
            a, b = (x if x.dtype == np.uint16 else x.astype(np.uint16) * 257 for x in (a, b))
        targets = [numbered(output, i + 1) for i in range(len(ts))]
        for target in targets:
            if not target.parent.is_dir():
                raise CliError(f"{target.parent}: output folder does not exist")
            if target.exists() and not force:
                raise CliError(f"{target}: already exists (use --force to replace it)")
        interpolator = create(model, device=resolve_device(device))
        frames = interpolator.interpolate_frames(a[None], b[None], [ts])[0]
        for target, frame in zip(targets, frames):
            write_image(target, frame)
        err.print(f"wrote {len(targets)} frame(s): {', '.join(str(t) for t in targets)}", highlight=False)


@app.command(cls=Command)
def train(
    clips: List[Path] = typer.Argument(..., help="Video clip(s) to fit the model to (their own frames supervise it)."),
    output: Path = typer.Option(..., "-o", "--output", help="Checkpoint to write (.pt): the best by validation PSNR."),
    model: str = typer.Option("ode", "--model", "-m", help="Base model: ode, unet, or a checkpoint .pt path."),
    from_scratch: bool = flag("--from-scratch", help="Start from random weights, not the pretrained ones."),
    steps: Optional[int] = typer.Option(None, "--steps", min=1, help="Training steps (default: 1000 unless --minutes is given)."),
    minutes: Optional[float] = typer.Option(None, "--minutes", min=0.01, help="Train for this much wall time instead of (or as well as) --steps."),
    factor: int = typer.Option(4, "--factor", "-k", min=2, help="Largest frame gap learned: windows of stride 2..k (targets at t = j/k)."),
    crop: Optional[int] = typer.Option(None, "--crop", min=32, help="Square training crop size in pixels (default: 128, or less for smaller frames)."),
    batch_size: int = typer.Option(8, "--batch-size", "-b", min=1, help="Crops per step."),
    lr: float = typer.Option(1e-3, "--lr", min=0.0, help="Peak learning rate (cosine decay); the best checkpoint is kept, so a high rate only costs wasted steps."),
    device: str = typer.Option("auto", "--device", help="auto (CUDA when present), cpu or cuda."),
    resume: Optional[Path] = typer.Option(None, "--resume", help="Continue from a .resume file written beside an earlier OUTPUT."),
    photos: Optional[Path] = typer.Option(None, "--photos", help="Folder of photos for synthetic-motion samples (pretraining)."),
    synthetic: float = typer.Option(0.0, "--synthetic", min=0.0, max=1.0, help="Fraction of samples drawn from synthetic motion."),
    max_frames: int = typer.Option(400, "--max-frames", min=3, help="Frames kept in memory per clip (a bounded cache)."),
    holdout_every: int = typer.Option(10, "--holdout-every", min=2, help="Every n-th chunk of each clip is held out for validation."),
    val_clips: List[Path] = typer.Option([], "--val-clip", help="Validate on this whole clip instead of held-out chunks of the training clips (repeatable): judges unseen scenes."),
    val_every: int = typer.Option(100, "--val-every", min=1, help="Validate (and checkpoint) every this many steps."),
    chained: float = typer.Option(0.8, "--chained", min=0.0, max=1.0, help="Share of training pairs whose motion seed starts from the pair before, as along a video (the rest start from rest, as a video's first pair)."),
    seed: int = typer.Option(0, "--seed", help="Random seed."),
    bf16: bool = flag("--bf16", help="bf16 autocast (CPU) / fp16 (CUDA) for the forward pass."),
    workers: Optional[int] = typer.Option(None, "--workers", min=0, help="Processes that draw training samples (0: the training process itself). Default: 6 when training on CUDA, else 0."),
    quiet: bool = flag("--quiet", "-q", help="Log lines instead of a progress bar."),
):
    """Fit (fine-tune) a model to CLIP(s): drop frames, learn to put them back; validation PSNR shown beside flow."""
    from .fit import fit

    with user_errors():
        _stop_cleanly_on_sigterm()
        for clip in [*clips, *val_clips]:
            if clip.resolve() == output.resolve():
                raise CliError(f"{output}: the checkpoint would overwrite an input clip")
        if set(map(Path.resolve, clips)) & set(map(Path.resolve, val_clips)):
            raise CliError("a clip cannot be both trained on and used as a --val-clip")
        fit(clips, output, model=model, from_scratch=from_scratch, steps=steps, minutes=minutes, factor=factor,
            crop=crop, batch_size=batch_size, lr=lr, device=device, resume=resume, photos=photos,
            synthetic=synthetic, max_frames=max_frames, holdout_every=holdout_every, val_every=val_every, chained=chained,
            seed=seed, bf16=bf16, workers=workers, quiet=quiet, console=err, val_clips=val_clips)


BENCHMARK_HELP = """Score interpolators with PSNR/SSIM on frames they never saw; gate CI on regressions.

PATHS are videos, or folders of triplets in the UCF101 layout (<id>/frame_00.png, frame_01_gt.png,
frame_02.png) or the Middlebury layout (input/<Seq>/frame10.png, frame11.png; gt/<Seq>/frame10i11.png).

Protocol: for videos keep every k-th frame, interpolate back to the full rate with upsample's own code
path (same batching, padding, scene-cut logic) and score only the dropped frames at t = j/k; windows
across a scene cut are skipped and counted. Triplets: the middle frame at t = 0.5. PSNR on RGB, data
range 1, prediction rounded to 8 bits, mean of per-frame values. SSIM: torchmetrics, 11x11 Gaussian
window, sigma 1.5. Middlebury also IE: mean absolute 0-255 difference (as published tables compute it).
Speed: model-only time per interpolated frame after a warm-up call.
"""


@app.command(cls=Command, help=BENCHMARK_HELP)
def benchmark(
    paths: Optional[List[Path]] = typer.Argument(None, help="Videos or triplet folders to score."),
    suite: Optional[str] = typer.Option(None, "--suite", help="'ci': synthetic clips generated in code with exact ground truth."),
    methods: str = typer.Option("dup,blend,flow", "--methods", help="Comma-separated interpolator names or checkpoint paths."),
    factor: List[int] = typer.Option([2, 4], "--factor", "-k", help="Keep every k-th frame (repeat the option for several)."),
    max_frames: Optional[int] = typer.Option(None, "--max-frames", min=2, help="Read at most this many frames of each video."),
    max_items: Optional[int] = typer.Option(None, "--max-items", min=1, help="Score at most this many triplets per set."),
    batch_size: int = typer.Option(4, "--batch-size", "-b", min=1, help="Frame pairs per batch (as in upsample)."),
    device: str = typer.Option("auto", "--device", help="auto (CUDA when present), cpu or cuda."),
    json_out: Optional[Path] = typer.Option(None, "--json", help="Write all results as JSON to this file."),
    markdown: bool = flag("--markdown", help="Print Markdown tables (for the README) instead of a rich table."),
    save_examples: Optional[Path] = typer.Option(None, "--save-examples", help="Write PNG strips of the worst frames (truth | methods | error) here."),
    check: Optional[Path] = typer.Option(None, "--check", help="Fail (exit 1) if PSNR drops > --margin below this reference JSON, or dup < blend < flow breaks."),
    write_reference: Optional[Path] = typer.Option(None, "--write-reference", help="Write the quality numbers as a reference JSON for --check."),
    margin: float = typer.Option(0.3, "--margin", min=0.0, help="Allowed PSNR drop in dB for --check."),
    quiet: bool = flag("--quiet", "-q", help="No progress output."),
):
    import json

    from . import benchmark as bench
    from .interpolator import resolve_device
    from .registry import create

    with user_errors():
        if any(k < 2 for k in factor):
            raise CliError("--factor must be at least 2")
        names = [m.strip() for m in methods.split(",") if m.strip()]
        dev = resolve_device(device)
        interpolators = {name: create(name, device=dev) for name in names}
        datasets = bench.datasets_for(paths or [], suite, max_frames)
        with progress_bar(quiet) as bar:
            task = bar.add_task("benchmark", total=None, rate="")
            results, raw = bench.run_benchmark(datasets, interpolators, sorted(set(factor)), batch_size, max_items,
                                               keep_worst=3 if save_examples else 0,
                                               on_progress=lambda label: bar.update(task, rate=label))
        results["environment"] = environment(dev)
        if json_out:
            json_out.write_text(bench.to_json(results))
        if write_reference:
            write_reference.write_text(json.dumps(bench.strip_for_reference(results), indent=2))
        if markdown:
            out.print(bench.markdown_report(results, names), markup=False, highlight=False)
        else:
            print_results(results, names)
        if save_examples:
            for path in bench.save_examples(raw, save_examples, names):
                err.print(f"wrote {path}", highlight=False)
        if check:
            if not check.is_file():
                raise CliError(f"{check}: no such reference file (make one with --write-reference)")
            problems = bench.check_against(results, json.loads(check.read_text()), margin)
            for problem in problems:
                err.print(f"[red]regression[/red]: {problem}", highlight=False)
            if problems:
                raise typer.Exit(1)
            err.print(f"quality gate passed against {check} (margin {margin} dB)", highlight=False)


def environment(device: str) -> dict:
    import platform

    import torch

    return {"device": device, "torch": torch.__version__, "threads": torch.get_num_threads(),
            "cpu": platform.processor() or platform.machine(), "dtype": "float16" if device == "cuda" else "float32"}


def print_results(results: dict, names: List[str]) -> None:
    table = Table(title="PSNR dB / SSIM (Middlebury: IE, lower is better); model ms per frame")
    table.add_column("dataset")
    table.add_column("k")
    for name in names:
        table.add_column(name, justify="right")
    rows = [(n, ds["kind"], f, ms) for n, ds in results["datasets"].items() for f, ms in ds.items() if f != "kind"]
    rows += [("mean", "video", f, ms) for f, ms in results["mean"].items()]
    for name, kind, f, ms in rows:
        key = "ie" if kind == "middlebury" else "psnr"
        vals = {m: ms[m].get(key) for m in names if m in ms and ms[m].get(key) is not None}
        best = (min if key == "ie" else max)(vals.values()) if vals else None
        cells = []
        for m in names:
            s = ms.get(m)
            if not s or s.get(key) is None:
                cells.append("—")
                continue
            text = f"IE {s['ie']:.2f}" if key == "ie" else f"{s['psnr']:.2f} / {s['ssim']:.3f}"
            if s.get("model_s_per_frame"):
                text += f" ({1000 * s['model_s_per_frame']:.0f} ms)"
            cells.append(f"[bold]{text}[/bold]" if vals.get(m) == best else text)
        table.add_row(name, f, *cells)
    out.print(table)
    if any(ds.get(f, {}).get(m, {}).get("skipped") for ds in results["datasets"].values() for f in ds if f != "kind" for m in names):
        for n, ds in results["datasets"].items():
            for f, ms in ds.items():
                if f != "kind" and any(s.get("skipped") for s in ms.values()):
                    out.print(f"{n} {f}: {max(s.get('skipped', 0) for s in ms.values())} frame(s) across scene cuts skipped")


@app.command(cls=Command)
def models():
    """List the interpolators: learned models and classical baselines."""
    from .registry import available

    table = Table("name", "kind", "description")
    for entry in available():
        table.add_row(entry.name, "learned" if entry.learned else "classical", entry.description)
    out.print(table)


def version_callback(value: bool):
    if value:
        out.print(f"vfi {__version__}")
        raise typer.Exit()


@app.callback()
def root(version: bool = flag("--version", callback=version_callback, is_eager=True,
                                      help="Print the version and exit.")):
    """Video frame interpolation: higher frame rates and slow motion from ordinary videos."""


def main(argv: Optional[List[str]] = None) -> None:
    app(args=argv, prog_name="vfi")


if __name__ == "__main__":
    main(sys.argv[1:])
