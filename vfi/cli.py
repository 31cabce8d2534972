"""The `vfi` command: a thin layer that turns options into calls and errors into one line."""

from __future__ import annotations

import sys
from contextlib import contextmanager
from pathlib import Path
from typing import List, Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from . import __version__

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Video frame interpolation: higher frame rates and slow motion from ordinary videos.")
err = Console(stderr=True, soft_wrap=True)
out = Console()


class CliError(Exception):
    """An error already worded for the user."""


@contextmanager
def user_errors():
    """Turn expected failures into one line on stderr and a non-zero exit, never a traceback."""
    from .registry import UnknownModelError
    from .video import VideoError

    try:
        yield
    except KeyboardInterrupt:
        err.print("[red]interrupted[/red]: stopped; no partial output was left behind")
        raise typer.Exit(130)
    except (CliError, VideoError, UnknownModelError, ValueError, FileNotFoundError, OSError) as exc:
        err.print(f"[red]error[/red]: {exc}", highlight=False)
        raise typer.Exit(1)


def progress_bar(quiet: bool) -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"), TimeElapsedColumn(), TimeRemainingColumn(),
        console=err, disable=quiet or not err.is_terminal, transient=False,
    )


@app.command()
def upsample(
    input: Path = typer.Argument(..., help="Input video file."),
    output: Path = typer.Option(..., "-o", "--output", help="Output video file (.mp4, .mkv, .mov, .webm, .avi)."),
    factor: Optional[int] = typer.Option(None, "--factor", "-f", help="Multiply the frame rate by this integer (>= 2); duration is kept."),
    fps: Optional[str] = typer.Option(None, "--fps", help="Target frame rate instead of --factor, e.g. 60, 59.94 or 60000/1001."),
    model: str = typer.Option("flow", "--model", "-m", help="Interpolator name (see `vfi models`) or a checkpoint .pt path."),
    batch_size: int = typer.Option(4, "--batch-size", "-b", min=1, help="Frame pairs interpolated per batch."),
    device: str = typer.Option("auto", "--device", help="auto (CUDA when present), cpu or cuda."),
    scene_threshold: float = typer.Option(0.5, "--scene-threshold", min=0.0, help="Scene-cut sensitivity in [0, 1]; no morphing across a cut. 0 disables."),
    codec: str = typer.Option("libx264", "--codec", help="libx264, libx265, ffv1, prores or vp9."),
    crf: int = typer.Option(18, "--crf", min=0, max=63, help="Quality for libx264/libx265/vp9 (lower is better)."),
    preset: str = typer.Option("medium", "--preset", help="Encoder speed preset for libx264/libx265 (ultrafast ... veryslow)."),
    lossless: bool = typer.Option(False, "--lossless", help="Lossless RGB output: passed-through frames are bit-identical to the decoded input."),
    no_audio: bool = typer.Option(False, "--no-audio", help="Drop the audio instead of copying it."),
    force: bool = typer.Option(False, "--force", help="Replace OUTPUT if it exists."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar and no summary."),
):
    """Write INPUT at a higher frame rate: --factor N or --fps F. Audio is copied unchanged."""
    from .interpolator import resolve_device
    from .pipeline import upsample as run_upsample
    from .registry import create
    from .video import EncodeSettings, parse_fps_argument

    with user_errors():
        if factor is None and fps is None:
            raise CliError("give --factor N (e.g. 2) or --fps F (e.g. 60)")
        if factor is not None and fps is not None:
            raise CliError("give either --factor or --fps, not both")
        target = parse_fps_argument(fps) if fps is not None else None
        settings = EncodeSettings(codec=codec, crf=crf, preset=preset, lossless=lossless)
        interpolator = create(model, device=resolve_device(device))
        with progress_bar(quiet) as bar:
            task = bar.add_task("upsampling", total=None, rate="")
            started = {}

            def on_start(info, out_fps, estimated):
                import time
                started["t"] = time.perf_counter()
                bar.update(task, total=estimated)

            def on_frame(done):
                import time
                if done % 8 == 0:
                    elapsed = time.perf_counter() - started["t"]
                    bar.update(task, completed=done, rate=f"{done / max(elapsed, 1e-6):.1f} fps")

            result = run_upsample(input, output, interpolator, factor=factor, fps=target, batch_size=batch_size,
                                  scene_threshold=scene_threshold, encode=settings, force=force,
                                  keep_audio=not no_audio, on_start=on_start, on_frame=on_frame)
            bar.update(task, completed=result.stats.frames_out, total=result.stats.frames_out)
        if result.audio_note:
            err.print(f"[yellow]note[/yellow]: {result.audio_note}")
        if not quiet:
            s = result.stats
            err.print(
                f"{input} -> {result.output}: {s.frames_in} frames at {float(result.input_fps):.3f} fps -> "
                f"{s.frames_out} frames at {float(result.output_fps):.3f} fps ({interpolator.name}, "
                f"{s.scene_cuts} scene cut(s)) in {result.seconds:.1f} s, {result.output_fps_rate:.1f} output fps",
                highlight=False,
            )


@app.command()
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
def root(version: bool = typer.Option(False, "--version", callback=version_callback, is_eager=True,
                                      help="Print the version and exit.")):
    """Video frame interpolation: higher frame rates and slow motion from ordinary videos."""


def main(argv: Optional[List[str]] = None) -> None:
    app(args=argv, prog_name="vfi")


if __name__ == "__main__":
    main(sys.argv[1:])
