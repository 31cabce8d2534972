"""Training the `select` interpolator's network on cached candidates, and fitting it to one video.

The candidates of every training window are computed once, as the interpolator computes them
(`seeded` DIS from the pair before's motion, then the others), and random crops of each one's
evidence and render at the selector's size are kept with the true frame between: the network
then trains on the cache for many steps, at a cost the CPU can pay. Synthetic windows add exact
truth where DIS fails (`fast_sprites`: small objects moving far over a frame panning slowly).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional, Sequence

import cv2
import numpy as np
import torch

from vfi.core.metrics import psnr
from vfi.models.checkpoint import load_network, save_checkpoint
from vfi.models.select import (CandidateChooser, SelectConfig, SelectInterpolator, SelectNet, pair_occlusions,
                               shrink_motion, shrink_plan)
from vfi.models.selector import candidate_evidence, maps_evidence, selected
from vfi.models.taught import TaughtMotionNet
from vfi.training.losses import SELECT_LOSSES
from vfi.training.synthetic import fast_sprites

CROP = 64  # side of the cached crops, at the selector's size


@dataclass
class SelectCache:
    """Crops of (K, EVIDENCE) evidence, (K, 3) renders and (3,) truth, float16, one row per crop."""

    evidence: list = field(default_factory=list)
    renders: list = field(default_factory=list)
    truths: list = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.truths)

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return np.stack(self.evidence), np.stack(self.renders), np.stack(self.truths)


def window_candidates(interpolator: CandidateChooser, img0: np.ndarray, img1: np.ndarray,
                      around: Optional[tuple[np.ndarray, np.ndarray]] = None, times: Sequence[float] = ()):
    """Working-size frames in [0, 1], one motion per configured two-way candidate and the taught
    candidate's plans at `times` (if configured) for one window, exactly as the interpolator prepares a
    pair; `around`: the frames one window before and after."""
    pair = interpolator.prepare(img0, img1, around, times)
    cands = pair["candidates"]
    flows = [f for f, n in zip(cands.flows, cands.counts) for _ in range(n)]
    return pair["small0"], pair["small1"], flows, pair["taught"]


def add_crops(cache: SelectCache, s0, s1, flows, truths_at: dict, config: SelectConfig, crops: int,
              rng: np.random.Generator, taught: Optional[dict] = None) -> None:
    """Random crops of one window's evidence, renders and truth (at each t) at the selector's size;
    `taught`: the taught candidate's working-size plan at each t, where it is one of the candidates."""
    n0, small_flows = shrink_motion(s0, flows, config.network_scale)
    n1, _ = shrink_motion(s1, [], config.network_scale)
    h, w = n0.shape[:2]
    if h < CROP or w < CROP:
        return
    occlusions = pair_occlusions(small_flows[:1])[0]  # `seeded`'s, which the taught motion corrects
    for t, frame in truths_at.items():
        got = [candidate_evidence(n0, n1, *motion[:2], t, *motion[2:]) for motion in small_flows]
        if taught:
            got.append(maps_evidence(n0, n1, *shrink_plan(taught[t], (h, w)), *occlusions, t))
        truth = cv2.resize(frame[..., :3], (w, h), interpolation=cv2.INTER_AREA).astype(np.float32) / 255
        for _ in range(crops):
            y, x = rng.integers(0, h - CROP + 1), rng.integers(0, w - CROP + 1)
            cut = np.s_[..., y:y + CROP, x:x + CROP]
            cache.evidence.append(np.stack([e[cut] for e, _ in got]).astype(np.float16))
            cache.renders.append(np.stack([r[cut] for _, r in got]).astype(np.float16))
            cache.truths.append(np.moveaxis(truth, 2, 0)[cut].astype(np.float16))


def add_video(cache: SelectCache, frames: Sequence[np.ndarray], starts: Sequence[int], factor: int,
              config: SelectConfig, crops: int, rng: np.random.Generator, student: Optional[TaughtMotionNet] = None
              ) -> None:
    """Windows [start, start + factor] of a video, its own frames between as the truth; `student`: the
    taught candidate's network, where it is one of the candidates."""
    interpolator = CandidateChooser(config, student=student)  # the candidates only
    previous = None
    for start in starts:
        if previous is None or start != previous + factor:
            interpolator.reset()  # a window that does not continue the one before starts from rest
        whole = start - factor >= 0 and start + 2 * factor < len(frames)
        around = (frames[start - factor], frames[start + 2 * factor]) if whole else None
        truths = {j / factor: frames[start + j] for j in range(1, factor)}
        s0, s1, flows, taught = window_candidates(interpolator, frames[start], frames[start + factor], around, list(truths))
        add_crops(cache, s0, s1, flows, truths, config, crops, rng, taught)
        previous = start


def add_synthetic(cache: SelectCache, scenes: int, photos: Sequence[np.ndarray], factor: int, config: SelectConfig,
                  crops: int, rng: np.random.Generator, size: tuple[int, int] = (240, 320),
                  student: Optional[TaughtMotionNet] = None) -> None:
    interpolator = CandidateChooser(config, student=student)
    for _ in range(scenes):
        photo = photos[rng.integers(len(photos))] if len(photos) else None
        scene = fast_sprites(*size, rng, photo=photo)
        interpolator.reset()
        around = (scene.render(-1.0), scene.render(2.0))
        truths = {j / factor: scene.render(j / factor) for j in range(1, factor)}
        s0, s1, flows, taught = window_candidates(interpolator, scene.render(0.0), scene.render(1.0), around,
                                                  list(truths))
        add_crops(cache, s0, s1, flows, truths, config, crops, rng, taught)


def train_select(net: SelectNet, cache: SelectCache, steps: int, batch: int, rng: np.random.Generator,
                 lr: float = 2e-3, bf16: bool = True, log: Callable[[str], None] = print,
                 every: int = 200, loss_name: str = "l1") -> dict:
    """The loss (`losses.SELECT_LOSSES`) of the selected picture against the truth, on random cached crops (flipped at random).
    bf16 autocast keeps the network's softmax in fp32, where its loss curve matches fp32's."""
    evidence, renders, truths = (torch.from_numpy(a) for a in cache.arrays())
    opt = torch.optim.AdamW(net.selector.parameters(), lr=lr, weight_decay=1e-4)  # a taught candidate's student stays
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps, pct_start=0.05)
    net.train()
    began, running, rate = time.perf_counter(), 0.0, 0.0
    for step in range(1, steps + 1):
        pick = torch.from_numpy(rng.integers(0, len(truths), batch))
        e, r, t = evidence[pick].float(), renders[pick].float(), truths[pick].float()
        flip = rng.integers(4)
        if flip & 1:
            e, r, t = e.flip(-1), r.flip(-1), t.flip(-1)
        if flip & 2:
            e, r, t = e.flip(-2), r.flip(-2), t.flip(-2)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            weights = net(e)
        loss = SELECT_LOSSES[loss_name](selected(r, weights.float()), t)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        running += loss.item()
        if step % every == 0 or step == steps:
            rate = step * batch / (time.perf_counter() - began)
            log(f"step {step}: {loss_name} {running / (every if step % every == 0 else step % every):.4f}, "
                f"{rate:.0f} samples/s")
            running = 0.0
    net.eval()
    return {"steps": steps, "batch": batch, "samples": steps * batch, "samples_per_s": round(rate, 1),
            "train_seconds": round(time.perf_counter() - began)}


def held_out_psnr(interpolator, frames: Sequence[np.ndarray], starts: Sequence[int], factor: int) -> float:
    """Mean PSNR of the frames between held-out windows, each window interpolated from its ends."""
    scores = []
    for start in starts:
        interpolator.reset()
        times = [j / factor for j in range(1, factor)]
        out = interpolator.interpolate(frames[start][None], frames[start + factor][None], times)[0]
        scores += [psnr(out[j - 1], frames[start + j]) for j in range(1, factor)]
    return float(np.mean(scores))


def select_base(model: str) -> Optional[Path]:
    """The checkpoint `vfi train --model MODEL` starts from when MODEL names the selector, else None."""
    from vfi.models.checkpoint import read_checkpoint
    from vfi.registry import pretrained_weights

    if model == "select":
        return pretrained_weights("select")
    path = Path(model)
    if path.suffix == ".pt" and path.is_file() and read_checkpoint(path)["arch"] == "select":
        return path
    return None


def fit_select(clips: Sequence[Path], output: Path, base: Optional[Path], steps: int = 300, factor: int = 4,
               batch_size: int = 16, lr: float = 5e-4, max_frames: int = 400, holdout_every: int = 10,
               seed: int = 0, bf16: bool = True, crops: int = 2, log: Callable[[str], None] = print,
               decode: Optional[Callable] = None) -> dict:
    """Fine-tune the selector to clips: every `holdout_every`-th window of stride `factor` is held out and
    scores the result beside the starting weights and `flow`; the better weights are written."""
    from vfi.classic import FlowWarp
    from vfi.io.decode import read_frames

    decode = decode or (lambda path, n: read_frames(path, max_frames=n))
    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    if base is None:
        raise ValueError("the selector is fitted from trained weights: give --model select or a select checkpoint")
    net, payload = load_network(base)
    cache, held = SelectCache(), []
    for clip in clips:
        frames = [f[..., :3] for f in decode(clip, max_frames)]
        starts = list(range(0, len(frames) - factor, factor))
        if len(starts) < 2:
            raise ValueError(f"{clip}: {len(frames)} frames are too few for --factor {factor}")
        kept = [s for n, s in enumerate(starts) if n % holdout_every != holdout_every // 2]
        held.append((frames, [s for s in starts if s not in kept]))
        add_video(cache, frames, kept, factor, net.config, crops, rng, net.student)
        log(f"{clip.name}: {len(kept)} windows cached, {len(held[-1][1])} held out")
    if not len(cache):
        scale = net.config.network_scale
        raise ValueError(f"the frames are too small to fit the selector: it learns from {CROP}x{CROP} crops at "
                         f"{scale:g} of the motion's working size, so both sides must be at least {CROP / scale:.0f} px")
    score = lambda interpolator: float(np.mean([held_out_psnr(interpolator, f, s, factor) for f, s in held if s]))
    before = score(SelectInterpolator(net))
    flow = score(FlowWarp())
    report = train_select(net, cache, steps, batch_size, rng, lr=lr, bf16=bf16, log=log, every=max(1, steps // 5))
    after = score(SelectInterpolator(net))
    log(f"held-out PSNR: flow {flow:.2f}, before {before:.2f}, after {after:.2f} dB")
    if after < before:
        net, _ = load_network(base)  # fine-tuning did not help on held-out frames: keep what it started from
    meta = dict(payload.get("meta", {}), fitted_to=[str(c) for c in clips], fitted=report,
                held_out={"flow": round(flow, 3), "before": round(before, 3), "after": round(after, 3)})
    save_checkpoint(output, net, payload["arch"], meta)
    return meta["held_out"]
