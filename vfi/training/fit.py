"""What `vfi train` does: gather clips and samples, report validation beside `flow`, run the Trainer."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Callable, Optional, Sequence

import numpy as np
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from vfi.classic import FlowWarp
from vfi.core.devices import resolve_device
from vfi.core.interrupts import ResumableInterrupt
from vfi.models.architectures import ARCHITECTURES
from vfi.models.checkpoint import load_network
from vfi.motion.scale import NETWORK_MAX_SIDE
from vfi.registry import UnknownModelError, architectures, pretrained_weights
from vfi.training.samples import ClipWindows, SyntheticMotion, load_photos
from vfi.training.ranks import join
from vfi.training.trainer import TrainConfig, Trainer, score_samples

VAL_WINDOWS_PER_CLIP = 12
GPU_WORKERS = 6  # default sample-drawing processes when training on CUDA (a fixed number: runs repeat)


def base_checkpoint(model: str, from_scratch: bool) -> tuple[str, Optional[str]]:
    """(architecture, checkpoint to start from) for --model NAME|PATH."""
    if model in architectures():
        if from_scratch:
            return model, None
        try:
            return model, str(pretrained_weights(model))
        except UnknownModelError as exc:
            raise ValueError(f"{exc}; use --from-scratch") from None
    path = Path(model)
    if not path.is_file():
        raise ValueError(f"unknown base model '{model}': use {', '.join(architectures())} or a checkpoint .pt path")
    arch = load_network(path)[1]["arch"]  # the whole checkpoint must load before any clip is read
    if not ARCHITECTURES[arch].fits_frames:
        raise ValueError(f"{path}: a {arch} checkpoint is not trained on frame crops by `vfi train`")
    return arch, str(path)


def validation_samples(clips: Sequence[ClipWindows], strides: Sequence[int], per_clip: int, rng) -> list:
    samples = []
    for clip in clips:
        windows = [(i, k, j) for k in strides for i, j in clip.val_windows(k)]
        if len(windows) > per_clip:
            windows = [windows[i] for i in sorted(rng.choice(len(windows), per_clip, replace=False))]
        samples += [clip.window(i, k, j) for i, k, j in windows]
    return samples


def default_crop(windows: Sequence[ClipWindows]) -> int:
    """128 px, or the largest multiple of 16 that fits every clip as the model sees it."""
    return min(128, min(min(w.seen_size) for w in windows) // 16 * 16)


def fit(clips: Sequence[Path], output: Path, model: str = "ode", from_scratch: bool = False,
        steps: Optional[int] = None, minutes: Optional[float] = None, factor: int = 4, crop: Optional[int] = None,
        batch_size: int = 8, lr: float = 1e-3, device: str = "auto", resume: Optional[Path] = None,
        photos: Optional[Path] = None, synthetic: float = 0.0, max_frames: int = 400, holdout_every: int = 10,
        val_every: int = 100, seed: int = 0, bf16: bool = False, workers: Optional[int] = None, quiet: bool = False,
        console: Optional[Console] = None, val_clips: Sequence[Path] = (), chained: float = 0.8,
        device_data: bool = False, max_shift: float = 0.25, compile_model: bool = False,
        decode: Optional[Callable] = None) -> dict:
    dev = resolve_device(device)
    ranks = join(dev)  # one process, or one of several under torchrun
    console = console or Console(stderr=True)
    if not ranks.main:
        console = Console(stderr=True, quiet=True)  # the main process alone logs
    arch, init = base_checkpoint(model, from_scratch)
    output = Path(output)
    if not output.parent.is_dir():
        raise ValueError(f"{output.parent}: output folder does not exist")
    strides = tuple(range(2, factor + 1))
    work_side = NETWORK_MAX_SIDE if ARCHITECTURES[arch].reduced else None
    # whole validation clips judge generalisation to unseen scenes; the training clips are then used in full
    windows = [ClipWindows(clip, max_frames=max_frames, strides=strides, work_side=work_side,
                           holdout_every=0 if val_clips else holdout_every, decode=decode) for clip in clips]
    val_windows = [ClipWindows(clip, max_frames=max_frames, strides=strides, work_side=work_side,
                               validation_only=True, decode=decode) for clip in val_clips]
    for clip, w in zip(clips, windows):
        if len(w.frames) < factor + 1:
            raise ValueError(f"{clip}: {len(w.frames)} frames are too few for --factor {factor} "
                             f"(windows need {factor + 1} frames)")
    crop = crop or default_crop(windows)
    for clip, w in zip(clips, windows):
        h, wd = w.seen_size
        if min(h, wd) < crop:
            shrunk = f", as the model sees it at 1/{w.shrink}" if w.shrink > 1 else ""
            raise ValueError(f"{clip}: --crop {crop} is larger than the frame ({wd}x{h}{shrunk})")
    rng = np.random.default_rng(seed)
    val_strides = (2,) if factor == 2 else (2, factor)
    if val_windows:
        per_clip = max(VAL_WINDOWS_PER_CLIP, VAL_WINDOWS_PER_CLIP * len(windows) // len(val_windows))
        val = validation_samples(val_windows, val_strides, per_clip, rng)
    else:
        val = validation_samples(windows, val_strides, VAL_WINDOWS_PER_CLIP, rng)
    if not val:
        raise ValueError("the clips are too short to hold out validation frames; give a longer clip or a smaller --factor")
    # synthetic motion scales with the crop: 24 px per frame interval at the default 128 px
    synth = SyntheticMotion(load_photos(photos) if photos else [], max_speed=24.0 * crop / 128) if synthetic > 0 else None
    on_device = device_data or ARCHITECTURES[arch].window
    if workers is None:  # a GPU outpaces one core drawing samples; the CPU does both jobs itself
        workers = GPU_WORKERS if dev == "cuda" and not on_device else 0
    config = TrainConfig(arch=arch, init=init, steps=steps if steps or minutes else 1000, minutes=minutes,
                         crop=crop, batch_size=batch_size, lr=lr, synthetic_fraction=synthetic, seed=seed,
                         val_every=val_every, device=dev, bf16=bf16, workers=workers, chained=chained,
                         device_data=device_data, max_shift=max_shift, compile=compile_model)
    meta = {"clips": [str(c) for c in clips], "base_model": init or f"{arch} (from scratch)",
            "description": f"{arch} fitted to {', '.join(Path(c).name for c in clips)}"}
    if ranks.distributed:
        meta["processes"] = ranks.world
    trainer = Trainer(config, windows, synth, val, output, meta, ranks)
    if resume:
        trainer.load_resume(resume)
    flow_score = score_samples(FlowWarp(), val) if ranks.main else float("nan")
    console.print(f"validation: {len(val)} held-out frames; flow {flow_score:.2f} dB", highlight=False)
    if not trainer.history:
        console.print(f"before training: {trainer.start():.2f} dB", highlight=False)

    total = config.steps
    bar = Progress(TextColumn("[bold]training"), BarColumn(), TextColumn("step {task.completed}"),
                   TextColumn("{task.fields[info]}"), TimeElapsedColumn(), TimeRemainingColumn(),
                   console=console, disable=quiet or not console.is_terminal)
    last_log = [time.perf_counter()]

    def on_step(event):
        info = (f"loss {event['loss']:.4f}  {event['step'] / max(event['elapsed'], 1e-6):.2f} steps/s  "
                f"{event['samples_per_s']:.1f} samples/s  data {100 * event['data_share']:.0f}%")
        if "val_psnr" in event:
            info += f"  val {event['val_psnr']:.2f} dB (best {trainer.best:.2f}, flow {flow_score:.2f})"
        bar.update(task, completed=event["step"], info=info)
        if (quiet or not console.is_terminal) and ("val_psnr" in event or time.perf_counter() - last_log[0] > 60):
            last_log[0] = time.perf_counter()
            console.print(f"step {event['step']}: {info}", highlight=False)

    with bar:
        task = bar.add_task("train", total=total, info="")
        try:
            result = trainer.run(on_step)
        except KeyboardInterrupt as exc:
            raise ResumableInterrupt(f"stopped at step {trainer.step}: best checkpoint {output} "
                                     f"({trainer.best:.2f} dB) kept; continue with --resume "
                                     f"{trainer.resume_path}", exc) from exc
    if not ranks.main:
        return dict(result, flow_val_psnr=flow_score, start_val_psnr=float("nan"))
    first = trainer.history[0]["val_psnr"]
    console.print(f"done: {trainer.step} steps in {trainer.elapsed:.0f} s; validation {first:.2f} -> "
                  f"{trainer.best:.2f} dB (flow {flow_score:.2f} dB); wrote {output}", highlight=False)
    return dict(result, flow_val_psnr=flow_score, start_val_psnr=first)
