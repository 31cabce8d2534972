"""`vfi upsample`: a video, an image sequence or a folder of videos at a higher frame rate."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from vfi.cli.app import CliError, Command, app, err, flag, stop_cleanly_on_sigterm, user_errors

@app.command(cls=Command)
def upsample(
    input: Path = typer.Argument(..., help="Input video, image sequence (frames/%05d.png), folder of videos, or - for standard input (y4m, NUT, Matroska...)."),
    output: Path = typer.Option(..., "-o", "--output", help="Output video (.mp4, .mkv, .mov, .webm, .avi), image sequence (out/%05d.png), folder when INPUT is one, or - for standard output (see --format)."),
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
    output_format: Optional[str] = typer.Option(None, "--format", help="With -o - (standard output): nut (default: the frames uncompressed, with the audio), y4m (raw YUV, video alone) or matroska (encoded with --codec, default libx264)."),
    quiet: bool = flag("--quiet", "-q", help="No progress bar and no summary."),
):
    """Write INPUT at a higher frame rate (--factor N or --fps F) or in slow motion (--slowmo S).

    Audio, subtitles, chapters, attachments and metadata are copied unchanged, and so are the
    aspect ratio, rotation and colour tags.

    Variable-frame-rate input is interpolated on its real timestamps to a constant rate.
    A folder INPUT does every video in it into the folder OUTPUT, skipping finished ones.
    """
    from vfi.api import upsample as run

    with user_errors():
        stop_cleanly_on_sigterm()
        failed = lambda src, msg: err.print(f"[red]failed[/red]: {msg}", highlight=False)
        result = run(input, output, factor=factor, fps=fps, slowmo=slowmo, model=model, device=device, codec=codec,
                     crf=crf, preset=preset, lossless=lossless, audio=not no_audio, stretch_audio=stretch_audio,
                     dedup=dedup, resume=resume, batch_size=batch_size, scene_threshold=scene_threshold,
                     input_fps=input_fps, video_stream=video_stream, deinterlace=deinterlace, scale=scale,
                     tile=tile, force=force, ray=ray, part_frames=part_frames, output_format=output_format,
                     progress=not quiet,
                     on_result=lambda src, done: summary(src, done, quiet, dedup, slowmo), on_failure=failed)
        if input.is_dir():
            err.print(f"{len(result.done)} done, {len(result.skipped)} already done (skipped), "
                      f"{len(result.failed)} failed", highlight=False)
            if result.failed:
                raise CliError("failed: " + "; ".join(str(path.name) for path, _ in result.failed))


def summary(input: Path, result, quiet: bool, dedup: bool, slowmo: Optional[str]) -> None:
    """The notes on how the input was read and written, then one line on what was done (unless quiet)."""
    for note in result.notes:
        err.print(f"[yellow]note[/yellow]: {note}", highlight=False)
    if quiet:
        return
    s = result.stats
    if s.variable_rate:
        err.print("[yellow]note[/yellow]: variable frame rate input: interpolated on its real timestamps")
    extra = f", {s.repeats_dropped} repeated frame(s) dropped" if dedup else ""
    extra += f", resumed after {result.resumed_frames} frames" if result.resumed_frames else ""
    extra += f", slow motion {slowmo}x" if slowmo else ""
    if result.decoded is not None:  # parts read apart: what seeking saved, or cost
        extra += f", {result.decoded} input frames decoded for {s.frames_in} ({result.decoded / max(1, s.frames_in):.2f}x)"
    if result.parts_by_node:
        extra += f", {sum(result.parts_by_node.values())} part(s) on {len(result.parts_by_node)} Ray node(s)"
    err.print(
        f"{input} -> {result.output}: {s.frames_in} frames at {float(result.input_fps):.3f} fps -> "
        f"{s.frames_out} frames at {float(result.output_fps):.3f} fps ({result.model}, "
        f"{s.scene_cuts} scene cut(s){extra}) in {result.seconds:.1f} s, {result.output_fps_rate:.1f} output fps",
        highlight=False,
    )
