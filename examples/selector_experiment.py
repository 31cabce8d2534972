"""Train the candidate selector (vfi.models.selector) on the corpus's training clips and score it on held-out clips.

1. Cache: for windows of every k-th frame of each training clip, compute the candidate motions
   (vfi.motion.candidates) once, at `flow`'s working size, and keep random crops of each
   candidate's evidence and render and of the true frame between, for t = j/k.
2. Train the selector on the cache (L1 on the selected picture), printing samples/s.
3. Score on the held-out clips at x2 and x4: the weights are worked out at the working size and
   applied to full-size renders (each `flow`'s own warp and blend along one candidate), beside
   `flow` itself (the `seeded` candidate) and the best single candidate per 16x16 block
   chosen with the truth.

    python examples/selector_experiment.py CORPUS_DIR [--steps 3000] [--bf16] [--out selector.pt]
    python examples/selector_experiment.py CORPUS_DIR --out selector.pt --time-clip CLIP_720P
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import cv2
import numpy as np
import torch

from vfi.classic import FlowWarp
from vfi.core.metrics import psnr
from vfi.io.decode import read_frames
from vfi.models.selector import CandidateSelector, candidate_evidence, selected
from vfi.motion.candidates import CANDIDATES, sift_matches
from vfi.motion.dis import shrink_gray
from vfi.motion.occlusion import fb_occlusion
from vfi.motion.resample import pixel_grid
from vfi.motion.scale import FLOW_MAX_SIDE, working_size

HELD_OUT = {"realshort.mp4", "tree.avi", "face.avi", "bikes_g2.avi", "puck_inertia.avi", "teapot.mov",
            "blupi_play113.mkv", "blupi_play119.mkv", "blupi_win129.mkv"}
NAMES = list(CANDIDATES)
CROP = 64


def pair_candidates(img0: np.ndarray, img1: np.ndarray, seed):
    """Working-size float frames and every candidate's flows (an absent one replaced by `seeded`)."""
    gray = [cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in (img0, img1)]
    size = working_size(*gray[0].shape, FLOW_MAX_SIDE)
    g0, g1 = (shrink_gray(g, size) for g in gray)
    matches = sift_matches(g0, g1)
    flows = {n: CANDIDATES[n](g0, g1, seed, matches) for n in NAMES}
    flows = {n: f if f is not None else flows["seeded"] for n, f in flows.items()}
    small = lambda f: cv2.resize(f, (size[1], size[0]), interpolation=cv2.INTER_AREA).astype(np.float32) / 255
    return small(img0), small(img1), flows, size


NETWORK_SCALE = [1.0]  # the selector's working size, as a fraction of the motion's


def network_size(s0: np.ndarray, s1: np.ndarray, flows: dict):
    """The frames and flows at the selector's size (smaller than the motion's: it is the costly stage)."""
    scale = NETWORK_SCALE[0]
    if scale == 1:
        return s0, s1, flows
    h, w = max(8, round(s0.shape[0] * scale)), max(8, round(s0.shape[1] * scale))
    shrink = lambda a: cv2.resize(a, (w, h), interpolation=cv2.INTER_AREA)
    return shrink(s0), shrink(s1), {n: (shrink(f01) * scale, shrink(f10) * scale) for n, (f01, f10) in flows.items()}


def windows(frames: list[np.ndarray], factor: int):
    seed = None
    for start in range(0, len(frames) - factor, factor):
        s0, s1, flows, size = pair_candidates(frames[start], frames[start + factor], seed)
        seed = -flows["seeded"][1]
        yield start, s0, s1, flows, size


def build_cache(clips: list[Path], factor: int, max_frames: int, crops: int, rng: np.random.Generator):
    evidence, renders, truths = [], [], []
    for clip in clips:
        began, n = time.perf_counter(), len(truths)
        frames = read_frames(clip, max_frames=max_frames)
        for start, s0, s1, flows, size in windows(frames, factor):
            s0, s1, flows = network_size(s0, s1, flows)
            h, w = s0.shape[:2]
            if h < CROP or w < CROP:
                continue
            for j in range(1, factor):
                t = j / factor
                got = [candidate_evidence(s0, s1, *flows[name], t) for name in NAMES]
                truth = cv2.resize(frames[start + j], (w, h), interpolation=cv2.INTER_AREA).astype(np.float32) / 255
                for _ in range(crops):
                    y, x = rng.integers(0, h - CROP + 1), rng.integers(0, w - CROP + 1)
                    cut = np.s_[..., y:y + CROP, x:x + CROP]
                    evidence.append(np.stack([e[cut] for e, _ in got]).astype(np.float16))
                    renders.append(np.stack([r[cut] for _, r in got]).astype(np.float16))
                    truths.append(np.moveaxis(truth, 2, 0)[cut].astype(np.float16))
        print(f"cache: {clip.name}: {len(truths) - n} crops in {time.perf_counter() - began:.0f} s", flush=True)
    return np.stack(evidence), np.stack(renders), np.stack(truths)


def train(cache, steps: int, batch: int, rng: np.random.Generator, bf16: bool = False) -> CandidateSelector:
    evidence, renders, truths = (torch.from_numpy(a) for a in cache)
    model = CandidateSelector()
    opt = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=2e-3, total_steps=steps, pct_start=0.05)
    began, running = time.perf_counter(), 0.0
    for step in range(1, steps + 1):
        pick = torch.from_numpy(rng.integers(0, len(truths), batch))
        e, r, t = evidence[pick].float(), renders[pick].float(), truths[pick].float()
        flip = rng.integers(4)
        if flip & 1:
            e, r, t = e.flip(-1), r.flip(-1), t.flip(-1)
        if flip & 2:
            e, r, t = e.flip(-2), r.flip(-2), t.flip(-2)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            weights = model(e)
        loss = (selected(r, weights.float()) - t).abs().mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        running += loss.item()
        if step % 200 == 0:
            rate = step * batch / (time.perf_counter() - began)
            print(f"step {step}: L1 {running / 200:.4f}, {rate:.0f} samples/s", flush=True)
            running = 0.0
    return model


def full_size_renders(img0, img1, flows, size, t) -> dict[str, np.ndarray]:
    warp, grid = FlowWarp(), pixel_grid(*size)
    out = {}
    for name, (f01, f10) in flows.items():
        pair = {"f01": f01, "f10": f10, "occ0": fb_occlusion(f01, f10, grid), "occ1": fb_occlusion(f10, f01, grid)}
        out[name] = warp.warp_blend(img0, img1, pair, t)
    return out


def score(model: CandidateSelector, clips: list[Path], factor: int, max_frames: int) -> list[tuple[str, float, float]]:
    rows = []
    for clip in clips:
        frames = read_frames(clip, max_frames=max_frames)
        flow_scores, ours = [], []
        for start, s0, s1, flows, size in windows(frames, factor):
            n0, n1, small_flows = network_size(s0, s1, flows)
            for j in range(1, factor):
                t = j / factor
                got = [candidate_evidence(n0, n1, *small_flows[name], t) for name in NAMES]
                with torch.no_grad():
                    weights = model(torch.from_numpy(np.stack([e for e, _ in got]))[None])[0].numpy()
                full = full_size_renders(frames[start], frames[start + factor], flows, size, t)
                h, w = frames[start].shape[:2]
                mix = sum(cv2.resize(weights[k], (w, h), interpolation=cv2.INTER_LINEAR)[..., None]
                          * full[name].astype(np.float32) for k, name in enumerate(NAMES))
                pred = np.clip(np.rint(mix), 0, 255).astype(np.uint8)
                truth = frames[start + j]
                ours.append(psnr(pred, truth))
                flow_scores.append(psnr(full["seeded"], truth))
        rows.append((clip.name, float(np.mean(flow_scores)), float(np.mean(ours))))
        print(f"x{factor} {clip.name}: flow {rows[-1][1]:.2f}, selector {rows[-1][2]:.2f}", flush=True)
    return rows


def time_stages(model: CandidateSelector, clip: Path, pairs: int = 5) -> None:
    """Milliseconds per output frame at x2 for each stage, on the first pairs of `clip` (bf16 network)."""
    frames = read_frames(clip, max_frames=2 * pairs + 1)
    spent, seed = np.zeros(4), None
    for i in range(0, 2 * pairs, 2):
        marks = [time.perf_counter()]
        s0, s1, flows, size = pair_candidates(frames[i], frames[i + 1], seed)
        seed = -flows["seeded"][1]
        marks.append(time.perf_counter())
        n0, n1, small_flows = network_size(s0, s1, flows)
        got = [candidate_evidence(n0, n1, *small_flows[name], 0.5) for name in NAMES]
        marks.append(time.perf_counter())
        with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
            weights = model(torch.from_numpy(np.stack([e for e, _ in got]))[None])[0].numpy()
        marks.append(time.perf_counter())
        full = full_size_renders(frames[i], frames[i + 1], flows, size, 0.5)
        h, w = frames[i].shape[:2]
        sum(cv2.resize(weights[k], (w, h))[..., None] * full[name].astype(np.float32) for k, name in enumerate(NAMES))
        marks.append(time.perf_counter())
        spent += np.diff(marks)
    ms = 1000 * spent / pairs
    print(f"{clip.name}: candidates {ms[0]:.0f} ms, evidence {ms[1]:.0f} ms, network {ms[2]:.0f} ms, "
          f"renders and mix {ms[3]:.0f} ms per frame")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--crops", type=int, default=2, help="Random crops kept per window and t.")
    parser.add_argument("--max-frames", type=int, default=120, help="Frames read per clip.")
    parser.add_argument("--out", type=Path, default=Path("selector.pt"))
    parser.add_argument("--bf16", action="store_true", help="Train under bfloat16 autocast.")
    parser.add_argument("--network-scale", type=float, default=1.0,
                        help="The selector's size as a fraction of the motion's working size.")
    parser.add_argument("--time-clip", type=Path, help="Only time each stage per frame on this clip, with the "
                        "selector saved at --out.")
    args = parser.parse_args()
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    NETWORK_SCALE[0] = args.network_scale
    if args.time_clip:
        model = CandidateSelector()
        model.load_state_dict(torch.load(args.out, weights_only=True))
        return time_stages(model.eval(), args.time_clip)
    clips = sorted(p for p in args.corpus.iterdir() if p.suffix in {".avi", ".mp4", ".mkv", ".mov", ".mpg", ".ogv"})
    training = [c for c in clips if c.name not in HELD_OUT]
    began = time.perf_counter()
    cache = build_cache(training, 4, args.max_frames, args.crops, rng)
    print(f"cache: {len(cache[2])} crops from {len(training)} clips in {time.perf_counter() - began:.0f} s", flush=True)
    model = train(cache, args.steps, args.batch, rng, args.bf16)
    torch.save(model.state_dict(), args.out)
    held = [c for c in clips if c.name in HELD_OUT]
    for factor in (2, 4):
        rows = score(model, held, factor, args.max_frames)
        print(f"x{factor} mean: flow {np.mean([r[1] for r in rows]):.2f}, selector {np.mean([r[2] for r in rows]):.2f}")


if __name__ == "__main__":
    main()
