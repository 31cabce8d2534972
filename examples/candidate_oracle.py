"""How much a per-region choice among candidate motions could gain: each candidate alone, and the best
candidate per 16x16 block chosen with knowledge of the truth (the oracle a learned selector aims at).

For each clip, every k-th frame is kept and the frames between are interpolated back (t = j/k).
Each candidate of `vfi.motion.candidates` gives the pair's two-way flow at `flow`'s working size;
the frame at t is rendered through `flow`'s own warp and occlusion blend, so a candidate's row
differs from `flow` only by its motion. Prints a Markdown table of PSNR (RGB, 8-bit prediction)
per clip and method, the oracle over all candidates and over {seeded, zero}, and the mean
milliseconds per pair for each candidate.

    python examples/candidate_oracle.py CLIP [CLIP ...] [--factor 4] [--max-frames 120]
"""

from __future__ import annotations

import argparse
import time
from collections import defaultdict
from pathlib import Path

import cv2
import numpy as np

from vfi.classic import FlowWarp
from vfi.core.metrics import psnr
from vfi.io.decode import read_frames
from vfi.motion.candidates import CANDIDATES, sift_matches
from vfi.motion.dis import shrink_gray
from vfi.motion.occlusion import fb_occlusion
from vfi.motion.resample import pixel_grid
from vfi.motion.scale import working_size

BLOCK = 16


def block_errors(pred: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """Summed squared error per BLOCK x BLOCK block (edge blocks cropped)."""
    h, w = truth.shape[:2]
    err = ((pred.astype(np.float32) - truth.astype(np.float32)) ** 2).sum(axis=2)
    hb, wb = h // BLOCK, w // BLOCK
    return err[:hb * BLOCK, :wb * BLOCK].reshape(hb, BLOCK, wb, BLOCK).sum(axis=(1, 3))


def oracle(preds: dict[str, np.ndarray], truth: np.ndarray, names: list[str]) -> np.ndarray:
    """The frame assembled from the best candidate of each block (edge remainders from the first)."""
    errors = np.stack([block_errors(preds[n], truth) for n in names])
    best = errors.argmin(axis=0)
    out = preds[names[0]].copy()
    for i, name in enumerate(names):
        mask = np.kron(best == i, np.ones((BLOCK, BLOCK), bool))
        region = out[:mask.shape[0], :mask.shape[1]]
        region[mask] = preds[name][:mask.shape[0], :mask.shape[1]][mask]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("clips", nargs="+", type=Path)
    parser.add_argument("--factor", type=int, default=4)
    parser.add_argument("--max-frames", type=int, default=120)
    args = parser.parse_args()
    warp = FlowWarp()
    names = list(CANDIDATES)
    rows, millis = [], defaultdict(list)
    for clip in args.clips:
        frames = read_frames(clip, max_frames=args.max_frames)
        scores = defaultdict(list)
        seed = None
        for start in range(0, len(frames) - args.factor, args.factor):
            img0, img1 = frames[start], frames[start + args.factor]
            gray = [cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in (img0, img1)]
            size = working_size(*gray[0].shape, warp.max_side)
            g0, g1 = (shrink_gray(g, size) for g in gray)
            began = time.perf_counter()
            matches = sift_matches(g0, g1)
            millis["(matches)"].append(1000 * (time.perf_counter() - began))
            flows = {}
            for name in names:
                began = time.perf_counter()
                got = CANDIDATES[name](g0, g1, seed, matches)
                millis[name].append(1000 * (time.perf_counter() - began))
                if got is not None:
                    flows[name] = got
            seed = -flows["seeded"][1]  # the next pair starts where this one ended, as `flow` does
            small = pixel_grid(*size)
            pairs = {n: {"f01": f01, "f10": f10, "occ0": fb_occlusion(f01, f10, small),
                         "occ1": fb_occlusion(f10, f01, small)} for n, (f01, f10) in flows.items()}
            for j in range(1, args.factor):
                truth = frames[start + j]
                preds = {n: warp.warp_blend(img0, img1, p, j / args.factor) for n, p in pairs.items()}
                for n, pred in preds.items():
                    scores[n].append(psnr(pred, truth))
                for n in names:
                    if n not in preds:
                        scores[n].append(scores["seeded"][-1])  # absent: the caller falls back to seeded
                present = [n for n in names if n in preds]
                scores["oracle (all)"].append(psnr(oracle(preds, truth, present), truth))
                scores["oracle (seeded, zero)"].append(psnr(oracle(preds, truth, ["seeded", "zero"]), truth))
        rows.append((clip.name, {n: float(np.mean(v)) for n, v in scores.items()}))
    columns = names + ["oracle (seeded, zero)", "oracle (all)"]
    print(f"x{args.factor}, PSNR dB; `seeded` is `flow`'s own motion\n")
    print("| clip | " + " | ".join(columns) + " |")
    print("|---" * (len(columns) + 1) + "|")
    for name, score in rows:
        print(f"| {name} | " + " | ".join(f"{score[c]:.2f}" for c in columns) + " |")
    print("| mean | " + " | ".join(f"{np.mean([s[c] for _, s in rows]):.2f}" for c in columns) + " |")
    print("\nms per pair: " + ", ".join(f"{n} {np.mean(v):.1f}" for n, v in millis.items()))


if __name__ == "__main__":
    main()
