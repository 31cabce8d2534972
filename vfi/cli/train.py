"""`vfi train`: fit a model to clips; the checkpoint it writes works wherever a model name does."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from vfi.cli.app import CliError, Command, app, err, flag, stop_cleanly_on_sigterm, user_errors

@app.command(cls=Command)
def train(
    clips: List[Path] = typer.Argument(..., help="Video clip(s) to fit the model to (their own frames supervise it)."),
    output: Path = typer.Option(..., "-o", "--output", help="Checkpoint to write (.pt): the best by validation PSNR."),
    model: str = typer.Option("ode", "--model", "-m", help="Base model: ode, ode4, unet, select (fine-tuned on the clips' cached candidate motions), or a checkpoint .pt path."),
    from_scratch: bool = flag("--from-scratch", help="Start from random weights, not the pretrained ones."),
    steps: Optional[int] = typer.Option(None, "--steps", min=1, help="Training steps (default: 1000 unless --minutes is given)."),
    minutes: Optional[float] = typer.Option(None, "--minutes", min=0.01, help="Train for this much wall time instead of (or as well as) --steps."),
    factor: int = typer.Option(4, "--factor", "-f", min=2, help="Largest frame gap learned: windows of stride 2..k (targets at t = j/k)."),
    crop: Optional[int] = typer.Option(None, "--crop", min=32, max=4096, help="Square training crop size in pixels (default: 128, or less for smaller frames)."),
    batch_size: int = typer.Option(8, "--batch-size", "-b", min=1, max=1024, help="Crops per step."),
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
    bf16: bool = flag("--bf16", help="bf16 autocast for the forward pass (CPU and CUDA)."),
    device_data: bool = flag("--device-data", help="Make the batches on the training device (clips held there, synthetic motion rendered there); always on for ode4."),
    max_shift: float = typer.Option(0.25, "--max-shift", min=0.0, max=1.0, help="With batches made on the device: the largest synthetic shift per frame interval, as a fraction of the crop."),
    compile_model: bool = flag("--compile", help="torch.compile the network for the training steps (pays on a GPU over long runs)."),
    workers: Optional[int] = typer.Option(None, "--workers", min=0, help="Processes that draw training samples (0: the training process itself). Default: 6 when training on CUDA, else 0."),
    quiet: bool = flag("--quiet", "-q", help="Log lines instead of a progress bar."),
):
    """Fit (fine-tune) a model to CLIP(s): drop frames, learn to put them back; validation PSNR shown beside flow."""
    from vfi.training.fit import fit
    from vfi.training.select_fit import fit_select, select_base

    with user_errors():
        stop_cleanly_on_sigterm()
        for clip in [*clips, *val_clips]:
            if clip.resolve() == output.resolve():
                raise CliError(f"{output}: the checkpoint would overwrite an input clip")
        if set(map(Path.resolve, clips)) & set(map(Path.resolve, val_clips)):
            raise CliError("a clip cannot be both trained on and used as a --val-clip")
        base = select_base(model)
        if base is not None:  # the selector fits on cached candidates of the clips' own windows
            fit_select(clips, output, base, steps=steps or 300, factor=factor, batch_size=batch_size, lr=lr,
                       max_frames=max_frames, holdout_every=holdout_every, seed=seed, log=err.print)
            return
        fit(clips, output, model=model, from_scratch=from_scratch, steps=steps, minutes=minutes, factor=factor,
            crop=crop, batch_size=batch_size, lr=lr, device=device, resume=resume, photos=photos,
            synthetic=synthetic, max_frames=max_frames, holdout_every=holdout_every, val_every=val_every, chained=chained,
            seed=seed, bf16=bf16, workers=workers, quiet=quiet, console=err, val_clips=val_clips,
            device_data=device_data, max_shift=max_shift, compile_model=compile_model)
