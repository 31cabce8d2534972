"""Training the taught motion's student (`vfi.models.taught`) on labelled windows
(`vfi.training.motion_labels`), resumably.

The loss holds the student's motion to the teacher's at every labelled t (flows and mask on the
grid) and its picture to the real frame between: the teacher is followed where it helps the
picture, and the truth decides where the teacher is wrong. Windows are cropped at random, flipped
and played backwards, so a few thousand windows give many samples. Training state (weights,
optimiser, step, random state) is written to disk every few minutes, and a run that starts where a
state file is goes on from it; each run appends samples, CPU seconds, samples/s and the validation
score to a cumulative log.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional, Sequence

import numpy as np
import torch
import torch.nn.functional as F

from vfi.core.metrics import psnr
from vfi.models.taught import GRID, TaughtConfig, TaughtMotionNet, fb_occlusion, prior_weight, render
from vfi.motion.prior import intermediate_flows
from vfi.training.losses import charbonnier
from vfi.training.motion_labels import MotionCrops

FLOW_WEIGHT, MASK_WEIGHT, PICTURE_WEIGHT = 0.1, 0.5, 5.0  # flows in pixels, mask and picture in [0, 1]


@dataclass
class Batch:
    frame0: torch.Tensor  # (B, 3, h, w) in [0, 1]
    frame1: torch.Tensor
    seed: torch.Tensor  # (B, 4, h, w)
    times: torch.Tensor  # (B, T)
    truths: torch.Tensor  # (B, T, 3, h, w)
    teacher: torch.Tensor  # (B, T, 5, h / GRID, w / GRID)

    def flipped(self, dim: int) -> "Batch":
        """Mirrored along width (dim -1) or height (-2): the flows' matching component changes sign."""
        component = 0 if dim == -1 else 1  # x or y of each (x, y) flow pair
        flows = lambda x: x * torch.tensor([-1.0 if c % 2 == component and c < 4 else 1.0  # not the mask
                                             for c in range(x.shape[-3])]).view(-1, 1, 1)
        return Batch(self.frame0.flip(dim), self.frame1.flip(dim), flows(self.seed.flip(dim)), self.times,
                     self.truths.flip(dim), flows(self.teacher.flip(dim)))

    def reversed(self) -> "Batch":
        """Played backwards: frames swapped, t -> 1 - t, each flow pair swapped, the mask inverted."""
        t = self.teacher
        teacher = torch.cat([t[:, :, 2:4], t[:, :, 0:2], 1 - t[:, :, 4:5]], 2)
        return Batch(self.frame1, self.frame0, torch.cat([self.seed[:, 2:], self.seed[:, :2]], 1), 1 - self.times,
                     self.truths, teacher)


class WindowPool:
    """Labelled crops in memory, grouped by how many times each has, drawn as augmented batches."""

    def __init__(self, windows: Sequence[MotionCrops]):
        groups: dict[int, list[MotionCrops]] = {}
        for w in windows:
            groups.setdefault(len(w.times), []).append(w)
        self.groups = {}
        for n, ws in groups.items():
            count = [len(w.frames) for w in ws]
            self.groups[n] = {
                "frames": np.concatenate([w.frames for w in ws]), "seed": np.concatenate([w.seed for w in ws]),
                "times": np.concatenate([np.repeat(w.times[None], c, 0) for w, c in zip(ws, count)]),
                "truths": np.concatenate([w.truths for w in ws]), "teacher": np.concatenate([w.teacher for w in ws])}
        self.sizes = {n: len(g["frames"]) for n, g in self.groups.items()}

    def __len__(self) -> int:
        return sum(self.sizes.values())

    def take(self, n_times: int, index: np.ndarray, y: int = 0, x: int = 0, side: Optional[int] = None) -> Batch:
        g = self.groups[n_times]
        side = side or g["frames"].shape[2]
        cut = np.s_[y:y + side, x:x + side]
        small = np.s_[y // GRID:(y + side) // GRID, x // GRID:(x + side) // GRID]
        image = lambda a: torch.from_numpy(np.ascontiguousarray(a)).float().div(255).movedim(-1, -3)
        frames = g["frames"][index][:, :, cut[0], cut[1]]
        return Batch(image(frames[:, 0]), image(frames[:, 1]),
                     torch.from_numpy(g["seed"][index][..., cut[0], cut[1]].astype(np.float32)),
                     torch.from_numpy(g["times"][index]),
                     image(g["truths"][index][:, :, cut[0], cut[1]]),
                     torch.from_numpy(g["teacher"][index][..., small[0], small[1]].astype(np.float32)))

    def draw(self, rng: np.random.Generator, size: int, side: int, augment: bool = True) -> Batch:
        """A random batch of `side`-pixel crops, flipped and reversed at random (`augment`)."""
        names = sorted(self.sizes)
        n = names[rng.choice(len(names), p=np.array([self.sizes[k] for k in names]) / len(self))]
        full = self.groups[n]["frames"].shape[2]
        y, x = (int(rng.integers(0, (full - side) // GRID + 1)) * GRID for _ in range(2))
        batch = self.take(n, rng.integers(0, self.sizes[n], size), y, x, side)
        if not augment:
            return batch
        if rng.random() < 0.5:
            batch = batch.flipped(-1)
        if rng.random() < 0.5:
            batch = batch.flipped(-2)
        if rng.random() < 0.5:
            batch = batch.reversed()
        return batch


class PoolMix:
    """Several pools drawn from by share, a whole batch from one pool at a time (synthetic motion beside
    the teacher's windows, say)."""

    def __init__(self, pools: Sequence[WindowPool], shares: Sequence[float]):
        self.pools, self.shares = list(pools), np.asarray(shares, float) / np.sum(shares)

    def __len__(self) -> int:
        return sum(len(p) for p in self.pools)

    def draw(self, rng: np.random.Generator, size: int, side: int, augment: bool = True) -> Batch:
        return self.pools[rng.choice(len(self.pools), p=self.shares)].draw(rng, size, side, augment)


def classical_path(batch: Batch) -> tuple[torch.Tensor, torch.Tensor]:
    """The classical linear-motion flows F_t->0, F_t->1 (B, T, 2, h, w) through the batch's DIS seed: the
    student's start."""
    b, n = batch.times.shape
    rep = lambda x: x.unsqueeze(1).expand(-1, n, *x.shape[1:]).flatten(0, 1)
    p0, p1 = intermediate_flows(rep(batch.seed[:, :2]), rep(batch.seed[:, 2:]), batch.times.flatten()[:, None, None, None])
    return p0.unflatten(0, (b, n)), p1.unflatten(0, (b, n))


def teacher_trust(batch: Batch) -> torch.Tensor:
    """(B, T, 1, h/GRID, w/GRID): 1 in the grid cells where the teacher's motion renders the true frame
    better than the classical path the student starts from, else 0. The teacher is wrong often enough
    (on the training clips its render loses to `flow`'s on most crops) that only there is it followed."""
    b, n = batch.times.shape
    h, w = batch.frame0.shape[-2:]
    rep = lambda x: x.unsqueeze(1).expand(-1, n, *x.shape[1:]).flatten(0, 1)
    up = F.interpolate(batch.teacher.flatten(0, 1), size=(h, w), mode="bilinear", align_corners=False).view(b, n, 5, h, w)
    by_teacher = render(batch.frame0, batch.frame1, up[:, :, :2], up[:, :, 2:4], up[:, :, 4:5])
    f01, f10 = batch.seed[:, :2], batch.seed[:, 2:]
    tt = batch.times.flatten()[:, None, None, None]
    p0, p1 = classical_path(batch)
    weight = prior_weight(rep(fb_occlusion(f01, f10)), rep(fb_occlusion(f10, f01)), p0.flatten(0, 1), p1.flatten(0, 1), tt)
    by_prior = render(batch.frame0, batch.frame1, p0, p1, weight.view(b, n, 1, h, w))
    error = lambda x: F.avg_pool2d((x - batch.truths).abs().mean(2).flatten(0, 1), GRID).view(b, n, 1, h // GRID, w // GRID)
    return (error(by_teacher) < error(by_prior)).float()


def losses(net: TaughtMotionNet, batch: Batch, bf16: bool) -> tuple[torch.Tensor, dict]:
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
        ft0, ft1, weight0 = net(batch.frame0, batch.frame1, batch.seed, batch.times)
    ft0, ft1, weight0 = ft0.float(), ft1.float(), weight0.float()
    picture = render(batch.frame0, batch.frame1, ft0, ft1, weight0)
    pool = lambda x: F.avg_pool2d(x.flatten(0, 1), GRID).unflatten(0, x.shape[:2])
    teacher = batch.teacher
    with torch.no_grad():
        trust = teacher_trust(batch)
    cells = trust.sum().clamp(min=1.0)
    parts = {"flow": ((pool(torch.cat([ft0, ft1], 2)) - teacher[:, :, :4]).abs().mean(2, keepdim=True) * trust).sum() / cells,
             "mask": ((pool(weight0) - teacher[:, :, 4:]).abs() * trust).sum() / cells,
             "picture": charbonnier(picture, batch.truths)}
    total = FLOW_WEIGHT * parts["flow"] + MASK_WEIGHT * parts["mask"] + PICTURE_WEIGHT * parts["picture"]
    return total, {**{k: v.item() for k, v in parts.items()}, "trusted": trust.mean().item()}


@torch.no_grad()
def validation_psnr(net: TaughtMotionNet, pool: WindowPool, batch: int = 16) -> float:
    """Mean PSNR of the student's frames against the true frames of held-out windows, whole crops."""
    net.eval()
    scores = []
    for n, size in pool.sizes.items():
        for start in range(0, size, batch):
            b = pool.take(n, np.arange(start, min(size, start + batch)))
            with torch.autocast("cpu", dtype=torch.bfloat16):
                flows = net(b.frame0, b.frame1, b.seed, b.times)
            out = render(b.frame0, b.frame1, *(f.float() for f in flows)).clamp(0, 1)
            for pred, truth in zip(out.flatten(0, 1), b.truths.flatten(0, 1)):
                scores.append(psnr(np.rint(pred.movedim(0, -1).numpy() * 255).astype(np.uint8),
                                   np.rint(truth.movedim(0, -1).numpy() * 255).astype(np.uint8)))
    net.train()
    return float(np.mean(scores))


def train_taught(train: WindowPool | PoolMix, held: WindowPool, state_path: Path, total_steps: int, minutes: float,
                 batch: int = 16, side: int = 128, lr: float = 1e-3, bf16: bool = True,
                 config: TaughtConfig = TaughtConfig(), save_every_s: float = 300,
                 log: Callable[[str], None] = print, augment: bool = True, init: Optional[dict] = None
                 ) -> TaughtMotionNet:
    """Train towards `total_steps` for at most `minutes` this run, going on from `state_path` if it exists,
    else from the weights `init` (a state dict, loaded strictly), else from the classical start."""
    net = TaughtMotionNet(config)
    if init is not None:
        net.load_state_dict(init, strict=True)
    opt = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=total_steps, pct_start=0.03)
    step, rng, history = 0, np.random.default_rng(0), []
    if state_path.is_file():
        state = torch.load(state_path, map_location="cpu", weights_only=True)
        net.load_state_dict(state["net"], strict=True)
        opt.load_state_dict(state["opt"])
        sched.load_state_dict(state["sched"])
        step, history = state["step"], state["history"]
        rng.bit_generator.state = state["rng"]
        log(f"resumed at step {step} ({history[-1]['samples'] if history else 0} samples so far)")
    else:
        history.append({"run": 0, "samples": 0, "cpu_s": 0.0, "samples_per_s": 0.0,
                        "validation": round(validation_psnr(net, held), 3)})
        log(f"validation PSNR at the start: {history[-1]['validation']:.2f} dB")

    def save() -> None:
        tmp = state_path.with_name(state_path.name + ".tmp")
        torch.save({"net": net.state_dict(), "opt": opt.state_dict(), "sched": sched.state_dict(), "step": step,
                    "history": history, "rng": rng.bit_generator.state, "config": config.to_dict()}, tmp)
        tmp.replace(state_path)

    began, cpu_began, saved, run_steps = time.perf_counter(), time.process_time(), time.perf_counter(), 0
    running, summed = {"flow": 0.0, "mask": 0.0, "picture": 0.0, "trusted": 0.0}, 0
    net.train()
    while step < total_steps and time.perf_counter() - began < minutes * 60:
        total, parts = losses(net, train.draw(rng, batch, side, augment), bf16)
        opt.zero_grad()
        total.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
        opt.step()
        sched.step()
        step, run_steps = step + 1, run_steps + 1
        for k in running:
            running[k] += parts[k]
        summed += 1
        if step % 50 == 0:
            rate = run_steps * batch / (time.perf_counter() - began)
            log(f"step {step}: " + ", ".join(f"{k} {v / summed:.4f}" for k, v in running.items())
                + f", {rate:.1f} samples/s")  # the mean since the last line: fewer than 50 steps after a resume
            running, summed = {k: 0.0 for k in running}, 0
        if time.perf_counter() - saved > save_every_s:
            save()
            saved = time.perf_counter()
    seconds = time.perf_counter() - began
    previous = history[-1]["samples"] if history else 0
    history.append({"run": len(history), "step": step, "samples": previous + run_steps * batch,
                    "cpu_s": round(history[-1]["cpu_s"] + time.process_time() - cpu_began, 1),
                    "samples_per_s": round(run_steps * batch / max(seconds, 1e-9), 1),
                    "validation": round(validation_psnr(net, held), 3)})
    log("run: " + json.dumps(history[-1]))
    save()
    net.eval()
    return net
