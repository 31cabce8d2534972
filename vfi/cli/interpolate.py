"""`vfi interpolate`: the frames between two still images."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from vfi.cli.app import CliError, Command, app, err, flag, user_errors

@app.command(cls=Command)
def interpolate(
    frame0: Path = typer.Argument(..., help="First image (PNG, TIFF, JPEG; 8 or 16 bits; alpha kept)."),
    frame1: Path = typer.Argument(..., help="Second image, the same size."),
    output: str = typer.Option(..., "-o", "--output", help="Output name with a number pattern, e.g. mid_%d.png (numbered from 1)."),
    times: str = typer.Option("0.5", "--times", "-t", help="Comma-separated times in (0, 1), e.g. 0.25,0.5,0.75."),
    model: Optional[str] = typer.Option(None, "--model", "-m", show_default=False, help="Interpolator name (see `vfi models`) or a checkpoint .pt path. Default: select, the best picture; flow is about twice as fast."),
    device: str = typer.Option("auto", "--device", help="auto (CUDA when present), cpu or cuda."),
    force: bool = flag("--force", help="Replace output images that exist."),
):
    """Make the frames between two images at the given times."""
    from vfi.api import load
    from vfi.io.images import numbered, read_image, write_image

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
        targets = [numbered(output, i + 1) for i in range(len(ts))]
        for target in targets:
            if not target.parent.is_dir():
                raise CliError(f"{target.parent}: output folder does not exist")
            if target.exists() and not force:
                raise CliError(f"{target}: already exists (use --force to replace it)")
        frames = load(model, device=device).interpolate(a, b, ts)
        for target, frame in zip(targets, frames):
            write_image(target, frame)
        err.print(f"wrote {len(targets)} frame(s): {', '.join(str(t) for t in targets)}", highlight=False)
