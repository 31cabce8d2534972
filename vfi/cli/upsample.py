"""`vfi upsample`: a video, an image sequence or a folder of videos at a higher frame rate."""

from __future__ import annotations

import time
from fractions import Fraction
from pathlib import Path
from typing import Optional

import typer

from vfi.cli.app import CliError, Command, app, err, flag, progress_bar, stop_cleanly_on_sigterm, user_errors

@app.command(cls=Command)
def upsample(
    input: Path = typer.Argument(..., help="Input video, image sequence (frames/%05d.png) or folder of videos."),
    output: Path = typer.Option(..., "-o", "--output", help="Output video (.mp4, .mkv, .mov, .webm, .avi), image sequence (out/%05d.png), or folder when INPUT is one."),
    factor: Optional[int] = typer.Option(None, "--factor", "-f", help="Multiply the frame rate by this integer (>= 2); duration is kept."),
    fps: Optional[str] = typer.Option(None, "--fps", help="Target frame rate instead of --factor, e.g. 60, 59.94 or 60000/1001."),
    slowmo: Optional[str] = typer.Option(None, "--slowmo", help="Slow motion: make the video this many times longer (e.g. 4 or 2.5), at the input's rate or at --fps/--factor's."),
    stretch_audio: bool = flag("--stretch-audio", help="With --slowmo: stretch the audio to match (ffmpeg atempo, pitch kept) instead of leaving it out."),
    deinterlace: str = typer.Option("auto", "--deinterlace", help="Interlaced input: auto (deinterlace what the stream marks interlaced, with bwdif, one frame per field), off (interpolate the woven frames as they are), or bwdif / yadif (that filter, also for input marked progressive)."),
    video_stream: int = typer.Option(0, "--video-stream", min=0, help="Which video stream to interpolate when the input has several (0 is the first; cover art not counted)."),
    model: Optional[str] = typer.Option(None, "--model", "-m", show_default=False, help="Interpolator name (see `vfi models`) or a checkpoint .pt path. Default: select, the best picture; flow is about twice as fast."),
    batch_size: int = typer.Option(4, "--batch-size", "-b", min=1, max=64, help="Frame pairs interpolated per batch."),
    device: str = typer.Option("auto", "--device", help="auto (CUDA when present), cpu or cuda."),
    scene_threshold: float = typer.Option(0.5, "--scene-threshold", min=0.0, max=1.0, help="Scene-cut sensitivity in [0, 1]; no morphing across a cut. 0 disables."),
    codec: Optional[str] = typer.Option(None, "--codec", help="libx264, libx265, ffv1, prores or vp9 (default: libx264; libx265 10-bit for 10/16-bit input)."),
    crf: int = typer.Option(18, "--crf", min=0, help="Quality for libx264/libx265 (0..51) and vp9 (0..63); lower is better."),
    preset: str = typer.Option("medium", "--preset", help="Encoder speed preset for libx264/libx265 (ultrafast ... veryslow)."),
    lossless: bool = flag("--lossless", help="Lossless RGB output: passed-through frames are bit-identical to the decoded input."),
    no_audio: bool = flag("--no-audio", help="Drop the audio instead of copying it."),
    dedup: bool = flag("--dedup", help="Drop repeated frames (animation on twos, stalled screen captures) and interpolate across the real motion."),
    resume: bool = flag("--resume", help="Continue an interrupted run from its finished parts (same frames as an unbroken run)."),
    input_fps: Optional[str] = typer.Option(None, "--input-fps", help="Frame rate of an image-sequence INPUT (default 25)."),
    scale: Optional[float] = typer.Option(None, "--scale", min=0.05, max=1.0, help="Estimate motion at this fraction of the frame size (default: chosen from the size; 0.5 or less for 4K)."),
    tile: int = typer.Option(0, "--tile", min=0, help="Interpolate in overlapping tiles of this many pixels, at least 128 (0: only when a frame is above 4K)."),
    force: bool = flag("--force", help="Replace OUTPUT if it exists; also allow rates beyond the limits (64 frames per input frame, 1000 fps)."),
    ray: Optional[str] = typer.Option(None, "--ray", metavar="[ADDRESS]", help="Render the parts (or a folder's videos) as Ray tasks: alone, on a Ray started here with every core and GPU; with HOST:PORT, on that cluster (input, model and output must be on storage every node sees). Needs pip install 'vfi[ray]'."),
    part_frames: Optional[int] = typer.Option(None, "--part-frames", min=1, max=1_000_000, help="Output frames per resumable part, and per Ray task with --ray (default 600)."),
    quiet: bool = flag("--quiet", "-q", help="No progress bar and no summary."),
):
    """Write INPUT at a higher frame rate (--factor N or --fps F) or in slow motion (--slowmo S).

    Audio, subtitles, chapters, attachments and metadata are copied unchanged, and so are the
    aspect ratio, rotation and colour tags.

    Variable-frame-rate input is interpolated on its real timestamps to a constant rate.
    A folder INPUT does every video in it into the folder OUTPUT, skipping finished ones.
    """
    from vfi.upsample.folder import upsample_folder
    from vfi.core.devices import resolve_device
    from vfi.io.encode import EncodeSettings
    from vfi.io.probe import parse_fps_argument, parse_number
    from vfi.registry import DEFAULT_MODEL, create
    from vfi.upsample.schedule import check_rate_request

    with user_errors():
        stop_cleanly_on_sigterm()
        target = parse_fps_argument(fps) if fps is not None else None
        slow = parse_number(slowmo, "--slowmo") if slowmo is not None else Fraction(1)
        check_rate_request(factor, target, slow)
        if stretch_audio and slow == 1:
            raise CliError("--stretch-audio goes with --slowmo")
        settings = EncodeSettings(codec=codec or "auto", crf=crf, preset=preset, lossless=lossless)
        input_options = ("-framerate", str(parse_fps_argument(input_fps))) if input_fps else ()
        model = model or DEFAULT_MODEL
        interpolator = create(model, device=resolve_device(device), scale=scale, tile=tile)
        job = dict(factor=factor, fps=target, batch_size=batch_size, scene_threshold=scene_threshold,
                   encode=settings, force=force, keep_audio=not no_audio, dedup=dedup, resume=resume,
                   input_options=input_options, slowmo=slow, stretch_audio=stretch_audio, video_stream=video_stream,
                   part_frames=part_frames, deinterlace=deinterlace)
        failed = lambda src, msg: err.print(f"[red]failed[/red]: {msg}", highlight=False)
        if ray is not None:
            from vfi.upsample.cluster import upsample_folder_on_ray, upsample_on_ray

            where = dict(model=model, address=ray, device=device, scale=scale, tile=tile)
            if not input.is_dir():
                _upsample_one(input, output, interpolator, job, quiet,
                              run=lambda src, dst, built, **kw: upsample_on_ray(src, dst, interpolator=built, **where, **kw))
                return
            report = upsample_folder_on_ray(input, output, job=job, on_failure=failed, **where)
        elif not input.is_dir():
            _upsample_one(input, output, interpolator, job, quiet)
            return
        else:
            report = upsample_folder(input, output, lambda src, dst: _upsample_one(src, dst, interpolator, job, quiet),
                                     on_failure=failed)
        err.print(f"{len(report.done)} done, {len(report.skipped)} already done (skipped), "
                  f"{len(report.failed)} failed", highlight=False)
        if report.failed:
            raise CliError("failed: " + "; ".join(str(path.name) for path, _ in report.failed))


def _upsample_one(input: Path, output: Path, interpolator, job: dict, quiet: bool, run=None) -> None:
    """One video with a progress bar and a summary line (`run`: how, by default `job.upsample` here)."""
    from vfi.upsample.job import upsample

    run_upsample = run or upsample

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
    if result.decoded is not None:  # parts read apart: what seeking saved, or cost
        extra += f", {result.decoded} input frames decoded for {s.frames_in} ({result.decoded / max(1, s.frames_in):.2f}x)"
    if result.parts_by_node:
        extra += f", {sum(result.parts_by_node.values())} part(s) on {len(result.parts_by_node)} Ray node(s)"
    err.print(
        f"{input} -> {result.output}: {s.frames_in} frames at {float(result.input_fps):.3f} fps -> "
        f"{s.frames_out} frames at {float(result.output_fps):.3f} fps ({interpolator.name}, "
        f"{s.scene_cuts} scene cut(s){extra}) in {result.seconds:.1f} s, {result.output_fps_rate:.1f} output fps",
        highlight=False,
    )
