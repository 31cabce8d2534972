"""Training loop shared by pretraining and `vfi train` fine-tuning.

Loss: `losses.charbonnier` plus a census term. The best checkpoint by validation PSNR is the one written;
a resume file beside it holds the latest state (weights, optimiser, step, RNG).
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable, Optional, Sequence

import numpy as np
import torch

from vfi.core.interface import Neighbours
from vfi.core.metrics import psnr
from vfi.models.architectures import ARCHITECTURES, build_network
from vfi.models.checkpoint import load_network, read_checkpoint, save_checkpoint
from vfi.training.batches import Batch, SampleMix, worker_batches
from vfi.training.device_scenes import DeviceScenes, photo_bank, procedural_bank
from vfi.training.windows import DeviceClips, WindowBatch, WindowMix
from vfi.training.losses import census, charbonnier, flow_error, photometric
from vfi.training.ranks import Ranks
from vfi.training.samples import ClipWindows, Sample, SyntheticMotion


@dataclass
class TrainConfig:
    arch: str = "ode"
    init: Optional[str] = None  # checkpoint to start from (fine-tuning); None = from scratch
    steps: Optional[int] = None
    minutes: Optional[float] = None
    crop: int = 128
    batch_size: int = 8
    lr: float = 3e-4
    synthetic_fraction: float = 0.5
    seed: int = 0
    val_every: int = 250
    bf16: bool = False  # bf16 autocast measured no faster than fp32 on 2 CPU cores (docs/training.md)
    device: str = "cpu"
    census_weight: float = 0.1
    workers: int = 0  # processes drawing batches (0: this one); worth it when a GPU does the steps
    chained: float = 0.0  # share of pairs seeded from the pair before them, as along a video (0: all from rest)
    device_data: bool = False  # batches made on the training device (`windows`); always so for four-frame models
    max_shift: float = 0.25  # device-made synthetic motion: the largest shift per frame interval, in crops
    compile: bool = False  # torch.compile the training forward
    motion_weight: float = 0.25  # networks with their own flow (ode4): weight of the photometric term on it
    flow_weight: float = 0.01  # and of the error (per pixel) against the exact flows of synthetic scenes

    def budget_fraction(self, step: int, elapsed: float) -> float:
        """How far through the run we are, by steps or by wall time, for the LR schedule."""
        parts = []
        if self.steps:
            parts.append(step / self.steps)
        if self.minutes:
            parts.append(elapsed / (60 * self.minutes))
        return min(1.0, max(parts)) if parts else 0.0


def score_samples(interpolator, samples: Sequence[Sample]) -> float:
    """Mean PSNR (8-bit prediction, data range 1) over full-frame samples, through the common interface.

    A sample with a frame before it is scored as a video's pair is: the interpolator first
    sees the pair before, so a model that follows motion starts from it; a four-frame
    model is given the frames around the pair."""
    scores = []
    for s in samples:
        interpolator.reset()
        if s.before is not None and interpolator.capabilities.follows_motion:
            interpolator.interpolate(s.before[None], s.frame0[None], [0.5])
        f0, f1 = s.frame0[None], s.frame1[None]
        outer = Neighbours.of(f0, f1, [s.before], [s.after])
        scores.append(psnr(interpolator.interpolate(f0, f1, [s.t], outer)[0, 0], s.target))
    return float(np.mean(scores)) if scores else float("nan")


class Trainer:
    def __init__(self, config: TrainConfig, clips: Sequence[ClipWindows], synthetic: Optional[SyntheticMotion],
                 val_samples: Sequence[Sample], out: str | Path, meta: Optional[dict] = None,
                 ranks: Ranks = Ranks()):
        self.config = config
        self.val_samples = list(val_samples)
        self.out = Path(out)
        self.resume_path = self.out.with_name(self.out.name + ".resume")
        self.meta = dict(meta or {})
        self.ranks = ranks
        # every process draws its own samples; the main one draws what a single process would
        self.sample_seed = config.seed + 100_003 * ranks.rank
        torch.manual_seed(config.seed)  # the same initial weights everywhere (DDP also broadcasts them)
        self.rng = np.random.default_rng(self.sample_seed)
        if config.init:
            self.net, payload = load_network(config.init)
            if payload["arch"] != config.arch:
                config.arch = payload["arch"]
            self.meta.setdefault("base_model", str(config.init))
        else:
            self.net = build_network(config.arch)
        self.device = ranks.device(config.device)
        self.net.to(self.device)
        if self.device.type == "cuda":  # NHWC: cuDNN's tensor-core convolutions
            self.net.to(memory_format=torch.channels_last)
        self.model = self.net  # what the training step runs: the network, its compiled form, or its DDP wrapper
        if ranks.distributed:
            ids = [self.device.index] if self.device.type == "cuda" else None
            self.model = torch.nn.parallel.DistributedDataParallel(self.net, device_ids=ids)
        if config.compile:  # after DDP, as torch advises, so its gradient hooks stay in the graph
            self.model = torch.compile(self.model)
        self.mix = SampleMix(clips, synthetic, config.synthetic_fraction, config.crop, ARCHITECTURES[config.arch].motion_seed,
                              config.chained)
        self.window_input = ARCHITECTURES[config.arch].window
        self.windows = None  # batches made on the device, for four-frame models (or when asked)
        if self.window_input or config.device_data:
            self.windows = self._window_mix(clips, synthetic)
        self.timing = {"data": 0.0, "step": 0.0, "steps": 0}
        self._batches = None  # the worker stream, started at the first step (after any resume)
        self.opt = torch.optim.AdamW(self.net.parameters(), lr=config.lr, weight_decay=1e-4)
        self.step = 0
        self.elapsed = 0.0
        self.best = -math.inf
        self.history: list[dict] = []

    # -- state -------------------------------------------------------------------------
    def save_resume(self) -> None:
        state = {"step": self.step, "elapsed": self.elapsed, "best": self.best, "history": self.history,
                 "optimizer": self.opt.state_dict(), "config": asdict(self.config)}
        save_checkpoint(self.resume_path, self.net, self.config.arch, self.meta, extra={"train_state": state})

    def load_resume(self, path: str | Path) -> None:
        payload = read_checkpoint(path)
        state = payload.get("train_state")
        if state is None:
            raise ValueError(f"{path}: not a resume file (it has no training state)")
        self.net.load_state_dict(payload["state_dict"], strict=True)
        self.opt.load_state_dict(state["optimizer"])
        self.step, self.elapsed, self.best = state["step"], state["elapsed"], state["best"]
        self.history = list(state["history"])
        self.rng = np.random.default_rng([self.sample_seed, self.step])
        self._batches = None
        torch.manual_seed(self.config.seed + self.step)

    def save_best(self, score: float) -> None:
        meta = dict(self.meta, steps=self.step, train_seconds=round(self.elapsed, 1), val_psnr=round(score, 3),
                    train_config=asdict(self.config))
        save_checkpoint(self.out, self.net, self.config.arch, meta)

    # -- data ----------------------------------------------------------------------------
    def _window_mix(self, clips: Sequence[ClipWindows], synthetic: Optional[SyntheticMotion]) -> WindowMix:
        c = self.config
        self.generator = torch.Generator(device=self.device).manual_seed(self.sample_seed)
        scenes = None
        if synthetic is not None and c.synthetic_fraction > 0:
            bank = photo_bank(synthetic.photos, 512, self.device) if synthetic.photos else \
                procedural_bank(32, 256, self.generator, self.device)
            scenes = DeviceScenes(bank, max_shift=c.max_shift)
        return WindowMix(DeviceClips(clips, self.device) if clips else None, scenes, c.synthetic_fraction, c.crop)

    def draw(self) -> Sample:
        return self.mix.draw(self.rng)

    def next_batch(self) -> Batch | WindowBatch:
        c = self.config
        if self.windows is not None:
            # each step's batch from its own seeds: a resumed run draws exactly what an unbroken one would
            self.generator.manual_seed(self.sample_seed * 1_000_003 + self.step)
            return self.windows.batch(np.random.default_rng([self.sample_seed, self.step]), self.generator, c.batch_size)
        if not c.workers:
            return self.mix.batch(self.rng, c.batch_size)
        if self._batches is None:
            self._batches = worker_batches(self.mix, c.batch_size, c.workers, self.sample_seed, self.step)
        return next(self._batches)

    def forward(self, samples: Sequence[Sample]) -> tuple[torch.Tensor, torch.Tensor]:
        return self.forward_batch(self.mix.collate(samples))

    def forward_batch(self, batch: Batch | WindowBatch, with_flows: bool = False):
        """(prediction at t, target); with `with_flows` (four-frame models) also the pair's flows."""
        dev = self.device
        to = lambda x: None if x is None else x.to(dev, non_blocking=True)
        autocast = torch.autocast(dev.type, dtype=torch.bfloat16, enabled=self.config.bf16)
        seed = getattr(batch, "seed", None)
        extra = {}
        if isinstance(batch, WindowBatch) and self.window_input:
            extra = dict(before=batch.before, after=batch.after, has_before=batch.has_before, has_after=batch.has_after)
            if with_flows:
                extra["with_flows"] = True
        with autocast:
            out = self.model(to(batch.frame0), to(batch.frame1), to(seed), to(batch.times), **extra)
        if "with_flows" in extra:
            return out[0][:, 0].float(), to(batch.target), out[1]
        return out[:, 0].float(), to(batch.target)

    # -- loop --------------------------------------------------------------------------
    def interpolator(self):
        """The live network behind the same interface `upsample` uses."""
        from vfi.models.adapter import ModelInterpolator

        return ModelInterpolator(self.net, self.config.arch, "training").to(self.device)

    def validate(self) -> float:
        self.net.eval()
        score = score_samples(self.interpolator(), self.val_samples)
        self.net.train()
        return score

    def train_step(self) -> float:
        c = self.config
        frac = c.budget_fraction(self.step, self.elapsed)
        lr = c.lr * (0.02 + 0.98 * 0.5 * (1 + math.cos(math.pi * frac)))
        for group in self.opt.param_groups:
            group["lr"] = lr
        started = time.perf_counter()
        batch = self.next_batch()
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)  # for the data share only: the log says where the time goes
        drawn = time.perf_counter()
        motion = self.window_input and c.motion_weight > 0
        pred, target, *flows = self.forward_batch(batch, with_flows=motion)
        loss = charbonnier(pred, target) + c.census_weight * census(pred, target)
        if motion:
            loss = loss + c.motion_weight * photometric(batch.frame0, batch.frame1, flows[0])
            if batch.flows is not None and c.flow_weight > 0:
                loss = loss + c.flow_weight * flow_error(flows[0], batch.flows, batch.has_flows)
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.net.parameters(), 1.0)
        self.opt.step()
        self.step += 1
        value = loss.item()
        self.timing["data"] += drawn - started
        self.timing["step"] += time.perf_counter() - started
        self.timing["steps"] += 1
        return value

    def step_rate(self) -> float:
        """Training steps per second in this process so far (data, forward, backward, update; no validation)."""
        return self.timing["steps"] / max(self.timing["step"], 1e-9)

    def done(self) -> bool:
        """The budget is spent (on any process: a time budget must stop them all at the same step)."""
        return self.ranks.any(self.config.budget_fraction(self.step, self.elapsed) >= 1.0)

    def start(self) -> float:
        """Score the starting weights once (and write them as the best so far); returns that PSNR.

        Only the main process validates and writes; the others return NaN."""
        if not self.ranks.main:
            return float("nan")
        if not self.history:
            score = self.validate()
            self.history.append({"step": 0, "val_psnr": score})
            self.best = score
            self.save_best(score)
        return self.history[0]["val_psnr"]

    def run(self, on_step: Optional[Callable[[dict], None]] = None) -> dict:
        """Train until the step or time budget is spent; Ctrl-C saves the resume state and re-raises."""
        self.start()
        self.net.train()
        started = time.perf_counter() - self.elapsed
        loss_avg = None
        try:
            finished = self.done()
            while not finished:
                loss = self.train_step()
                self.elapsed = time.perf_counter() - started
                loss_avg = loss if loss_avg is None else 0.95 * loss_avg + 0.05 * loss
                event = {"step": self.step, "loss": loss_avg, "elapsed": self.elapsed,
                         "samples_per_s": self.config.batch_size * self.ranks.world * self.step_rate(),
                         "data_share": self.timing["data"] / max(self.timing["step"], 1e-9)}
                finished = self.done()
                if (self.step % self.config.val_every == 0 or finished) and self.ranks.main:
                    score = self.validate()
                    event["val_psnr"] = score
                    self.history.append({"step": self.step, "val_psnr": score, "loss": loss_avg})
                    if score > self.best:
                        self.best = score
                        self.save_best(score)
                    self.save_resume()
                if on_step:
                    on_step(event)
        except KeyboardInterrupt:
            if self.ranks.main:
                self.save_resume()
            raise
        finally:
            self._batches = None  # stops the worker processes
        return {"steps": self.step, "best_val_psnr": self.best, "history": self.history, "seconds": self.elapsed}
