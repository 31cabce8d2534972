"""Scoring interpolators: PSNR/SSIM on dropped frames of videos and on triplet sets.

Protocol for a video: keep every k-th frame, interpolate back to the full rate through the
very code `upsample` uses (`interpolate_stream`: same batching, padding, scene-cut
logic), and score only the frames that were dropped, at t = j/k. Windows across a scene
cut are skipped and counted. Frames are streamed: only a window of them is held.
"""

from __future__ import annotations

import collections
import itertools
import time
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Callable, Iterable, Iterator, Optional, Sequence

import numpy as np

from vfi.bench.datasets import Dataset, Triplet, read_rgb
from vfi.core.interface import Interpolator
from vfi.core.metrics import interpolation_error, psnr, ssim
from vfi.pipeline.cuts import DEFAULT_THRESHOLD
from vfi.pipeline.stream import StreamStats, interpolate_stream

PROTOCOL = (
    "Videos: keep every k-th frame, interpolate back to the full rate with upsample's own code path, "
    "score only the dropped frames (t = j/k); windows across a scene cut are skipped. Triplets: the middle "
    "frame at t = 0.5. PSNR on RGB, data range 1, prediction rounded to 8 bits, mean of per-frame values. "
    "SSIM: torchmetrics structural_similarity_index_measure, 11x11 Gaussian window, sigma 1.5, RGB in [0, 1]. "
    "Middlebury IE: mean absolute difference of 0-255 values over all pixels and channels."
)


@dataclass
class Score:
    """Accumulated per-frame metrics for one method on one dataset and factor."""

    psnr: list[float] = field(default_factory=list)
    ssim: list[float] = field(default_factory=list)
    ie: list[float] = field(default_factory=list)
    per_t: dict[str, list[float]] = field(default_factory=lambda: collections.defaultdict(list))
    skipped: int = 0
    model_seconds: float = 0.0
    interpolated: int = 0
    wall_seconds: float = 0.0
    frames_out: int = 0
    worst: list[tuple[float, str, np.ndarray, np.ndarray]] = field(default_factory=list)
    sizes: set[str] = field(default_factory=set)
    watch: set[str] = field(default_factory=set)  # labels whose predictions are kept (the lead method's worst)
    watched: dict[str, np.ndarray] = field(default_factory=dict)

    def add(self, pred: np.ndarray, target: np.ndarray, t: Fraction | float, with_ssim: bool, with_ie: bool,
            label: str, keep_worst: int = 0) -> None:
        p = psnr(pred, target)
        self.sizes.add(f"{target.shape[1]}x{target.shape[0]}")
        self.psnr.append(p)
        self.per_t[f"{float(t):.3f}"].append(p)
        if with_ssim:
            self.ssim.append(ssim(pred, target))
        if with_ie:
            self.ie.append(interpolation_error(pred, target))
        if label in self.watch:
            self.watched[label] = pred
        if keep_worst:
            self.worst.append((p, label, pred, target))
            self.worst.sort(key=lambda w: w[0])
            del self.worst[keep_worst:]

    def summary(self) -> dict:
        mean = lambda xs: float(np.mean(xs)) if xs else None
        out = {"psnr": mean(self.psnr), "ssim": mean(self.ssim), "frames": len(self.psnr), "skipped": self.skipped,
               "resolution": sorted(self.sizes)[0] if len(self.sizes) == 1 else "various"}
        if self.ie:
            out["ie"] = mean(self.ie)
        if len(self.per_t) > 1:
            out["per_t_psnr"] = {t: mean(v) for t, v in sorted(self.per_t.items())}
        if self.interpolated:
            out["model_s_per_frame"] = self.model_seconds / self.interpolated
        if self.wall_seconds:
            out["stream_fps"] = self.frames_out / self.wall_seconds
        return out


def _warm_up(interpolator: Interpolator, frame: np.ndarray) -> None:
    """One call before timing, so lazy initialisation is not billed to the first frame."""
    interpolator.interpolate(frame[None], frame[None], [0.5])


def score_frames(frames: Iterable[np.ndarray], k: int, interpolator: Interpolator, score: Score,
                 batch_size: int = 4, scene_threshold: float = DEFAULT_THRESHOLD, with_ssim: bool = True,
                 label: str = "", keep_worst: int = 0) -> None:
    """Drop all but every k-th frame, interpolate them back, and score the dropped ones."""
    originals: collections.deque = collections.deque()
    frames = iter(frames)
    first = next(frames, None)
    if first is None:
        return
    _warm_up(interpolator, first)

    def kept() -> Iterator[np.ndarray]:
        for index, frame in enumerate(itertools.chain([first], frames)):
            originals.append(frame)
            if index % k == 0:
                yield frame

    stats = StreamStats()
    started = time.perf_counter()
    for m, out in enumerate(interpolate_stream(kept(), Fraction(k), interpolator, batch_size, scene_threshold, stats)):
        if not originals:
            break
        target = originals.popleft()
        pair, j = divmod(m, k)
        # j == 0: a kept frame passed through; pair + 1 == frames_in: the tail after the last kept frame
        if j == 0 or pair + 1 >= stats.frames_in:
            continue
        if pair in stats.cut_pairs:
            score.skipped += 1
            continue
        score.add(out, target, Fraction(j, k), with_ssim, False, f"{label} frame {m}", keep_worst)
    score.wall_seconds += time.perf_counter() - started
    score.frames_out += stats.frames_out
    score.model_seconds += stats.model_seconds
    score.interpolated += stats.interpolated


def score_triplets(kind: str, triplets: Sequence[Triplet], interpolator: Interpolator, score: Score,
                   max_items: Optional[int] = None, keep_worst: int = 0) -> None:
    items = list(triplets)[:max_items] if max_items else list(triplets)
    if items:
        _warm_up(interpolator, read_rgb(items[0].frame0))
    started = time.perf_counter()
    for item in items:
        f0, f1, gt = read_rgb(item.frame0), read_rgb(item.frame1), read_rgb(item.target)
        interpolator.reset()  # each triplet stands alone: no motion carried over from another
        t0 = time.perf_counter()
        pred = interpolator.interpolate(f0[None], f1[None], [0.5])[0, 0]
        score.model_seconds += time.perf_counter() - t0
        score.interpolated += 1
        score.add(pred, gt, 0.5, True, kind == "middlebury", f"{kind} {item.name}", keep_worst)
    score.wall_seconds += time.perf_counter() - started
    score.frames_out += len(items)


def run_benchmark(datasets: Sequence[Dataset], methods: dict[str, Interpolator], factors: Sequence[int],
                  batch_size: int = 4, max_items: Optional[int] = None, keep_worst: int = 0,
                  on_progress: Optional[Callable[[str], None]] = None) -> dict:
    """results[dataset][factor or 'x2'][method] -> summary dict; plus raw Score objects for examples."""
    results: dict = {"protocol": PROTOCOL, "datasets": {}}
    raw: dict = {}
    incomplete = {ds.name: list(ds.incomplete) for ds in datasets if ds.incomplete}
    if incomplete:
        results["incomplete"] = incomplete  # items not scored, each with the file it lacks
    for ds in datasets:
        fs = [2] if ds.kind in ("ucf101", "middlebury") else list(factors)
        for k in fs:
            lead_worst: set[str] = set()  # the first method's worst frames, kept from every method for examples
            for name, method in methods.items():
                if on_progress:
                    on_progress(f"{ds.name} x{k} {name}")
                score = Score(watch=lead_worst)
                if ds.kind in ("ucf101", "middlebury"):
                    score_triplets(ds.kind, ds.triplets, method, score, max_items, keep_worst)
                else:
                    score_frames(ds.frames(), k, method, score, batch_size, with_ssim=True, label=ds.name,
                                 keep_worst=keep_worst)
                results["datasets"].setdefault(ds.name, {"kind": ds.kind}).setdefault(f"x{k}", {})[name] = score.summary()
                raw[(ds.name, k, name)] = score
                lead_worst = lead_worst or {w[1] for w in score.worst}
    results["mean"] = mean_over_datasets(results["datasets"])
    return results, raw


def mean_over_datasets(per_dataset: dict) -> dict:
    """Mean PSNR/SSIM per factor and method over the video and synthetic datasets (triplet sets stand alone)."""
    acc: dict = {}
    for ds in per_dataset.values():
        if ds["kind"] in ("ucf101", "middlebury"):
            continue
        for factor, methods in ds.items():
            if factor == "kind":
                continue
            for method, s in methods.items():
                if s["psnr"] is None:
                    continue
                slot = acc.setdefault(factor, {}).setdefault(method, {"psnr": [], "ssim": []})
                slot["psnr"].append(s["psnr"])
                slot["ssim"].append(s["ssim"])
    return {f: {m: {"psnr": float(np.mean(v["psnr"])), "ssim": float(np.mean(v["ssim"]))} for m, v in ms.items()}
            for f, ms in acc.items()}
