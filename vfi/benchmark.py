"""Scoring interpolators: PSNR/SSIM on dropped frames of videos, on triplet sets, and on the CI suite.

Protocol for a video: keep every k-th frame, interpolate back to the full rate through the
very code `upsample` uses (`interpolate_stream`: same batching, padding, scene-cut
logic), and score only the frames that were dropped, at t = j/k. Windows across a scene
cut are skipped and counted. Frames are streamed: only a window of them is held.
"""

from __future__ import annotations

import collections
import itertools
import json
import math
import time
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Callable, Iterable, Iterator, Optional, Sequence

import cv2
import numpy as np

from .interpolator import Interpolator
from .metrics import interpolation_error, psnr, ssim
from .pipeline import StreamStats, interpolate_stream
from .scenes import DEFAULT_THRESHOLD
from .synthetic import SCENES, make_scene
from .io.decode import FrameReader
from .io.probe import probe

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
    interpolator.interpolate_frames(frame[None], frame[None], [0.5])


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


# -- datasets ---------------------------------------------------------------------------------

@dataclass
class Triplet:
    name: str
    frame0: Path
    frame1: Path
    target: Path


def find_triplets(folder: Path) -> tuple[str, list[Triplet]]:
    """Recognise the UCF101 and Middlebury layouts; return (kind, triplets)."""
    folder = Path(folder)
    if (folder / "input").is_dir() and (folder / "gt").is_dir():
        items = []
        for seq in sorted((folder / "gt").iterdir()):
            gt = seq / "frame10i11.png"
            inp = folder / "input" / seq.name
            if gt.is_file() and (inp / "frame10.png").is_file():
                items.append(Triplet(seq.name, inp / "frame10.png", inp / "frame11.png", gt))
        return "middlebury", items
    items = [Triplet(d.name, d / "frame_00.png", d / "frame_02.png", d / "frame_01_gt.png")
             for d in sorted(folder.iterdir()) if (d / "frame_01_gt.png").is_file()]
    if items:
        return "ucf101", items
    raise ValueError(f"{folder}: neither a video nor a folder of UCF101 or Middlebury triplets")


def read_rgb(path: Path) -> np.ndarray:
    img = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if img is None:
        raise ValueError(f"{path}: cannot read image")
    return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)


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
        pred = interpolator.interpolate_frames(f0[None], f1[None], [0.5])[0, 0]
        score.model_seconds += time.perf_counter() - t0
        score.interpolated += 1
        score.add(pred, gt, 0.5, True, kind == "middlebury", f"{kind} {item.name}", keep_worst)
    score.wall_seconds += time.perf_counter() - started
    score.frames_out += len(items)


CI_SCENES = tuple(SCENES)
CI_SIZE = (160, 224)  # (h, w)
CI_FRAMES = 17


def ci_clip(name: str, seed: int = 0) -> list[np.ndarray]:
    """A synthetic clip with exact frames at integer times; its dropped frames are exact ground truth."""
    return make_scene(name, *CI_SIZE, seed=seed).clip(CI_FRAMES)


# -- the run --------------------------------------------------------------------------------

@dataclass
class Dataset:
    name: str
    kind: str  # "video", "ucf101", "middlebury", "synthetic"
    frames: Optional[Callable[[], Iterable[np.ndarray]]] = None
    triplets: Sequence[Triplet] = ()


def datasets_for(paths: Sequence[Path], suite: Optional[str], max_frames: Optional[int]) -> list[Dataset]:
    out = []
    if suite == "ci":
        for name in CI_SCENES:
            out.append(Dataset(f"synthetic/{name}", "synthetic", frames=lambda n=name: ci_clip(n)))
    elif suite is not None:
        raise ValueError(f"unknown suite '{suite}': the only suite is 'ci'")
    for path in paths:
        path = Path(path)
        if path.is_dir():
            kind, triplets = find_triplets(path)
            out.append(Dataset(path.name, kind, triplets=triplets))
        else:
            info = probe(path)
            out.append(Dataset(path.name, "video", frames=lambda i=info: FrameReader(i, max_frames=max_frames)))
    if not out:
        raise ValueError("nothing to score: give videos or triplet folders, or --suite ci")
    return out


def run_benchmark(datasets: Sequence[Dataset], methods: dict[str, Interpolator], factors: Sequence[int],
                  batch_size: int = 4, max_items: Optional[int] = None, keep_worst: int = 0,
                  on_progress: Optional[Callable[[str], None]] = None) -> dict:
    """results[dataset][factor or 'x2'][method] -> summary dict; plus raw Score objects for examples."""
    results: dict = {"protocol": PROTOCOL, "datasets": {}}
    raw: dict = {}
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


# -- regression gate ---------------------------------------------------------------------------

ORDER = ("dup", "blend", "flow")


def check_against(results: dict, reference: dict, margin: float = 0.3) -> list[str]:
    """Problems found: a method's PSNR dropped more than `margin` dB, or dup < blend < flow broke."""
    problems = []
    for ds_name, ds in reference["datasets"].items():
        for factor, methods in ds.items():
            if factor == "kind":
                continue
            for method, ref in methods.items():
                got = results["datasets"].get(ds_name, {}).get(factor, {}).get(method)
                if got is None or ref.get("psnr") is None:
                    continue
                if got["psnr"] < ref["psnr"] - margin:
                    problems.append(f"{ds_name} {factor} {method}: PSNR {got['psnr']:.2f} dB is more than "
                                    f"{margin} dB below the reference {ref['psnr']:.2f} dB")
    for factor, methods in results["mean"].items():
        present = [m for m in ORDER if m in methods]
        for lo, hi in zip(present, present[1:]):
            if not methods[lo]["psnr"] < methods[hi]["psnr"]:
                problems.append(f"mean {factor}: expected {lo} < {hi}, got {methods[lo]['psnr']:.2f} >= "
                                f"{methods[hi]['psnr']:.2f} dB")
    return problems


def strip_for_reference(results: dict) -> dict:
    """Only the quality numbers go into the committed reference (timings are machine noise)."""
    keep = ("psnr", "ssim", "ie")
    ref = {"protocol": results["protocol"], "datasets": {}, "mean": results["mean"]}
    for name, ds in results["datasets"].items():
        ref["datasets"][name] = {"kind": ds["kind"]}
        for factor, methods in ds.items():
            if factor != "kind":
                ref["datasets"][name][factor] = {m: {k: s[k] for k in keep if k in s} for m, s in methods.items()}
    return ref


# -- reports ---------------------------------------------------------------------------------

def markdown_table(results: dict, methods: Sequence[str]) -> str:
    """One row per dataset and factor, one column per method: PSNR / SSIM (IE for Middlebury); best in bold."""
    lines = ["| dataset | factor | " + " | ".join(methods) + " |", "|---|---|" + "---|" * len(methods)]

    def row(name, factor, cells, kind):
        vals = [c.get("ie") if kind == "middlebury" else c.get("psnr") for c in cells]
        valid = [v for v in vals if v is not None]
        best = (min(valid) if kind == "middlebury" else max(valid)) if valid else None
        out = []
        for c, v in zip(cells, vals):
            if v is None:
                out.append("—")
                continue
            text = f"IE {v:.2f}" if kind == "middlebury" else f"{v:.2f} / {c['ssim']:.3f}" if c.get("ssim") is not None else f"{v:.2f}"
            out.append(f"**{text}**" if v == best else text)
        return f"| {name} | {factor} | " + " | ".join(out) + " |"

    for name, ds in results["datasets"].items():
        for factor, ms in ds.items():
            if factor == "kind":
                continue
            lines.append(row(name, factor, [ms.get(m, {}) for m in methods], ds["kind"]))
    for factor, ms in results["mean"].items():
        lines.append(row("**mean**", factor, [ms.get(m, {}) for m in methods], "video"))
    return "\n".join(lines)


def methods_in(results: dict) -> list[str]:
    """The methods a results dict scores, in the order they were run."""
    for ds in results["datasets"].values():
        for factor, ms in ds.items():
            if factor != "kind":
                return list(ms)
    return []


def markdown_report(results: dict, methods: Sequence[str]) -> str:
    """What `--markdown` prints and reports/*.md hold: quality, then model time per frame."""
    return "\n".join([markdown_table(results, methods), "", "Model time per interpolated frame:",
                      speed_table(results, methods)])


def speed_table(results: dict, methods: Sequence[str]) -> str:
    lines = ["| dataset | factor | " + " | ".join(methods) + " |", "|---|---|" + "---|" * len(methods)]
    for name, ds in results["datasets"].items():
        for factor, ms in ds.items():
            if factor == "kind":
                continue
            cells = []
            for m in methods:
                s = ms.get(m, {})
                cells.append(f"{1000 * s['model_s_per_frame']:.1f} ms" if s.get("model_s_per_frame") else "—")
            lines.append(f"| {name} | {factor} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def save_examples(raw: dict, folder: Path, methods: Sequence[str], per_dataset: int = 2) -> list[Path]:
    """For the worst frames of the first method: ground truth | each method | error map of the first, as PNG."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    lead = methods[0]
    for (ds_name, k, method), score in raw.items():
        if method != lead:
            continue
        for rank, (p, label, pred, target) in enumerate(score.worst[:per_dataset]):
            panels = [target, pred]
            for other in methods[1:]:
                panels.append(raw[(ds_name, k, other)].watched.get(label, np.zeros_like(target)))
            err = np.abs(pred.astype(np.int16) - target.astype(np.int16)).max(axis=2).astype(np.uint8)
            panels.append(cv2.applyColorMap(np.clip(err * 4, 0, 255).astype(np.uint8), cv2.COLORMAP_INFERNO)[..., ::-1])
            strip = np.concatenate(panels, axis=1)
            safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in f"{ds_name}_x{k}_{rank}")
            path = folder / f"{safe}.png"
            cv2.imwrite(str(path), cv2.cvtColor(strip, cv2.COLOR_RGB2BGR))
            written.append(path)
    return written


def to_json(results: dict) -> str:
    return json.dumps(results, indent=2, sort_keys=False, default=lambda o: None if isinstance(o, float) and math.isnan(o) else o)
