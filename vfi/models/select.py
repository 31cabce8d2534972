"""The `select` interpolator: several candidate motions per pair, weighed per pixel by the learned
selector into the frame at t.

Per pair, at `flow`'s working size: `seeded` DIS (as `flow` computes it, from the pair before's
motion), the candidates that find what DIS loses (`vfi.motion.candidates`), and `path`: the seeded
motion bent by the accelerations the frames before and after the pair show
(`vfi.motion.acceleration`), so motion that speeds up, slows down or curves is placed along its
path at every t. Candidates whose motion came out the same (one that could not be formed is
`seeded` again) are weighed once, with their count in the softmax.

Per t, each candidate's evidence at the selector's smaller size gives the network's weights,
brought back to the working size. The full-size frame is the heaviest candidate's warp, plus the
weighed mix of every candidate's render minus the heaviest's, made at the working size: what the
network was trained to produce (exactly so at frames no larger than the working size), at the
cost of one full-size warp.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Callable, Optional, Sequence

import cv2
import numpy as np
import torch
from torch import nn

from vfi.core.interface import Capabilities, Interpolator
from vfi.core.pixels import rgb8
from vfi.models.selector import CandidateSelector, candidate_evidence, maps_evidence
from vfi.models.taught import TaughtConfig, TaughtMotionNet
from vfi.models.taught_interpolator import Plan, student_plans
from vfi.motion.acceleration import accelerations
from vfi.motion.candidates import CANDIDATES, DOUBTING_MATCHES, Features, doubting, match_features, sift_features
from vfi.motion.compose import blend_maps, warp_and_mix
from vfi.motion.dis import REMEMBERED, VideoFlow, shrink_gray
from vfi.motion.memory import PictureMemory, picture_key
from vfi.motion.occlusion import fb_occlusion
from vfi.motion.resample import pixel_grid
from vfi.motion.scale import FLOW_MAX_SIDE, working_size

Flows = tuple[np.ndarray, ...]  # (f01, f10), or (f01, f10, a0, a1) for a path bent by accelerations
FOUR_FRAME = "path"  # the candidate that needs the frames around the pair
TAUGHT = "taught"  # the taught motion (`vfi.models.taught`): its own flows at each t, from `seeded`


@dataclass
class SelectConfig:
    width: int = 24  # the selector network's channels
    network_scale: float = 0.375  # the selector's working size, as a fraction of the motion's
    candidates: tuple[str, ...] = ("seeded", "matched", "zero", "path")  # the shipped set
    student: dict = field(default_factory=dict)  # the taught candidate's TaughtConfig, where it is one

    def __post_init__(self):
        self.candidates = tuple(self.candidates)
        known = (*CANDIDATES, FOUR_FRAME, TAUGHT)
        if set(self.candidates) - set(known) or "seeded" not in self.candidates:
            raise ValueError(f"candidates must include 'seeded' and come from {', '.join(known)}")

    def to_dict(self) -> dict:
        return asdict(self)


class SelectNet(nn.Module):
    """The selector network with the settings the interpolator around it needs."""

    def __init__(self, config: SelectConfig):
        super().__init__()
        self.config = config
        self.selector = CandidateSelector(config.width)
        self.student = TaughtMotionNet(TaughtConfig(**config.student)) if TAUGHT in config.candidates else None

    def forward(self, evidence: torch.Tensor, log_counts: Optional[torch.Tensor] = None) -> torch.Tensor:
        return self.selector(evidence, log_counts)


@dataclass
class PairCandidates:
    """One pair's distinct candidate motions at the working size, and what each stood for."""

    flows: list[Flows]
    counts: list[int]  # how many of the configured candidates each distinct motion stands for
    names: list[str]  # the first candidate each distinct motion came from
    milliseconds: dict[str, float] = field(default_factory=dict)  # what ran, and how long it took


def pair_candidates(gray0: np.ndarray, gray1: np.ndarray, seeded_flows: Flows, names: tuple[str, ...],
                    around_flows: Optional[tuple[np.ndarray, np.ndarray]] = None,
                    features: Callable[[np.ndarray], Features] = sift_features) -> PairCandidates:
    """Every configured candidate for a working-size grey pair, `seeded` given; absent ones are `seeded`.
    `around_flows`: the flows from frame 0 to the frame before and from frame 1 to the frame after,
    which `path` needs; `features`: how a frame's SIFT features are found (or remembered).
    `matched` is searched only where the matches doubt `seeded` (`candidates.doubting`); the
    milliseconds record which candidates ran."""
    spent = {}
    began = time.perf_counter()
    matches = match_features(features(gray0), features(gray1)) if {"matched", "homography"} & set(names) else None
    if matches is not None:
        spent["matches"] = 1000 * (time.perf_counter() - began)
    got: dict[str, Optional[Flows]] = {}
    for name in names:
        began = time.perf_counter()
        if name == TAUGHT:
            continue  # not a two-way flow: the chooser adds it per t
        if name == "seeded":
            got[name] = seeded_flows
        elif name == "matched" and doubting(matches, seeded_flows[0], gray0, gray1) < DOUBTING_MATCHES:
            got[name] = None  # no match doubts `seeded`: it stands in, and the costly search is saved
            continue
        elif name == FOUR_FRAME:
            got[name] = None if around_flows is None else (*seeded_flows, *accelerations(*seeded_flows, *around_flows))
        else:
            got[name] = CANDIDATES[name](gray0, gray1, None, matches)
        if name != "seeded":
            spent[name] = 1000 * (time.perf_counter() - began)
    out = PairCandidates([], [], [], spent)
    for name in (n for n in names if n != TAUGHT):
        flows = got[name] if got[name] is not None else seeded_flows
        same = next((k for k, known in enumerate(out.flows)
                     if len(known) == len(flows) and all(a is b for a, b in zip(known, flows))), None)
        if same is None:
            out.flows.append(flows)
            out.counts.append(1)
            out.names.append(name)
        else:
            out.counts[same] += 1
    return out


def shrink_motion(image: np.ndarray, flows: list[Flows], scale: float) -> tuple[np.ndarray, list[Flows]]:
    """A working-size image and flows at `scale` of that size (flows in the smaller size's pixels);
    a flow shared by candidates (`path` bends `seeded`'s) stays shared."""
    if scale == 1:
        return image, flows
    h, w = max(8, round(image.shape[0] * scale)), max(8, round(image.shape[1] * scale))
    shrink = lambda a: cv2.resize(a, (w, h), interpolation=cv2.INTER_AREA)
    shrunk: dict[int, np.ndarray] = {}
    for motion in flows:
        for f in motion:
            if id(f) not in shrunk:
                shrunk[id(f)] = shrink(f) * scale
    return shrink(image), [tuple(shrunk[id(f)] for f in motion) for motion in flows]


def shrink_plan(plan: Plan, size: tuple[int, int]) -> Plan:
    """A working-size plan (maps and weight) at a smaller `size` (h, w), its maps in that size's pixels."""
    map0, map1, weight0 = plan
    h, w = map0.shape[:2]
    if (h, w) == tuple(size):
        return plan
    grid, small = pixel_grid(h, w), pixel_grid(*size)
    shrink = lambda a: cv2.resize(a, (size[1], size[0]), interpolation=cv2.INTER_AREA)
    scale = np.array([size[1] / w, size[0] / h], np.float32)
    return small + shrink(map0 - grid) * scale, small + shrink(map1 - grid) * scale, shrink(weight0)


def pair_occlusions(flows: list[Flows]) -> list[tuple[np.ndarray, np.ndarray]]:
    """Each candidate's forward-backward occlusions of frames 0 and 1, computed once for candidates
    that share their two-way motion; none where there is no motion (`zero`)."""
    out, known = [], {}
    for motion in flows:
        key = (id(motion[0]), id(motion[1]))
        if key not in known:
            if not motion[0].any() and not motion[1].any():
                still = np.zeros(motion[0].shape[:2], np.float32)
                known[key] = (still, still)
            else:
                grid = pixel_grid(*motion[0].shape[:2])
                known[key] = (fb_occlusion(motion[0], motion[1], grid), fb_occlusion(motion[1], motion[0], grid))
        out.append(known[key])
    return out


def choice_masks(choice: np.ndarray, count: int) -> list[np.ndarray]:
    """Per candidate after the first, the uint8 mask of the pixels whose `choice` names it: made once
    per t, for every `gathered` call."""
    return [(choice == k).view(np.uint8) for k in range(1, count)]


def gathered(masks: list[np.ndarray], per_candidate: list[np.ndarray]) -> np.ndarray:
    """Per pixel, the value of the candidate the `choice_masks` name (OpenCV's masked copy: NumPy's
    masked copy of a multi-channel array is ten times slower)."""
    out = per_candidate[0].copy()
    for value, mask in zip(per_candidate[1:], masks):
        cv2.copyTo(value, mask, out)
    return out


def _times(image: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """A three-channel image times an (h, w) weight, in OpenCV (NumPy's broadcast is slower)."""
    return cv2.multiply(image, cv2.merge((weight, weight, weight)))


def mix_change(small0: np.ndarray, small1: np.ndarray, maps: list[tuple[np.ndarray, ...]], weights: np.ndarray,
               first: list[np.ndarray]) -> np.ndarray:
    """(h, w, 3) at the working size, in [0, 1] units: the weighed mix of every candidate's render
    minus the render of the heaviest one (`first`: its `choice_masks`). Added to the heaviest's full-size
    render, it gives the mix the network was trained to produce, with that candidate's full-size detail."""
    renders = []
    for map0, map1, weight0 in maps:
        warped0 = cv2.remap(small0, map0, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        warped1 = cv2.remap(small1, map1, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        renders.append(cv2.add(warped1, _times(cv2.subtract(warped0, warped1), weight0)))
    change = -gathered(first, renders)  # a pixel's render depends only on its own maps
    for k, render in enumerate(renders):
        change = cv2.add(change, _times(render, weights[k]))
    return change


class CandidateChooser(Interpolator):
    """The configured candidate motions of each pair, rendered as a per-pixel weighing of them; how they
    are weighed (`weights`) is the subclass's. On its own it prepares candidates (for training caches)."""

    description = "per-pixel weighing of candidate motions"
    capabilities = Capabilities(min_side=32, light_full_size=True, follows_motion=True, window=True)

    def __init__(self, config: SelectConfig, name: str = "candidates", max_side: int = FLOW_MAX_SIDE,
                 student: Optional[TaughtMotionNet] = None):
        if (TAUGHT in config.candidates) != (student is not None):
            raise ValueError("the taught candidate needs its student network, and only it does")
        self.config = config
        self.student = student
        self.name = name
        self.max_side = max_side
        self.flow = VideoFlow()
        self.features = PictureMemory(REMEMBERED)  # SIFT features of recent frames: each frame ends one pair, starts the next
        self.last: Optional[PairCandidates] = None  # the latest pair's candidates, for reports and tests

    def to(self, device) -> "CandidateChooser":
        return self  # OpenCV motion and a network of 18k weights: the CPU serves

    def reset(self) -> None:
        self.flow.forget()
        self.features.clear()

    def _features(self, gray: np.ndarray) -> Features:
        return self.features.recall(picture_key(gray), lambda: sift_features(gray))

    def _interpolate(self, frames0, frames1, times, neighbours=None):
        b, h, w, c = frames0.shape
        out = np.empty((b, times.shape[1], h, w, c), frames0.dtype)
        for i in range(b):
            whole = neighbours is not None and neighbours.has_before[i] and neighbours.has_after[i]
            around = (neighbours.before[i], neighbours.after[i]) if whole else None
            pair = self.prepare(frames0[i], frames1[i], around, [t for t in times[i].tolist() if 0 < t < 1])
            for j, t in enumerate(times[i].tolist()):
                out[i, j] = self.render(frames0[i], frames1[i], pair, t)
        return out

    def prepare(self, img0: np.ndarray, img1: np.ndarray, around: Optional[tuple[np.ndarray, np.ndarray]] = None,
                times: Sequence[float] = ()) -> dict:
        """The pair's candidates; `around`: the frames before img0 and after img1, where they exist;
        `times`: the times the taught candidate is solved for (all in one solve)."""
        rgb0, rgb1 = rgb8(img0), rgb8(img1)
        size = working_size(*rgb0.shape[:2], self.max_side, self.motion_scale)
        grey = lambda rgb: shrink_gray(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), size)
        gray0, gray1 = grey(rgb0), grey(rgb1)
        around_flows, began = None, time.perf_counter()
        if around is not None and FOUR_FRAME in self.config.candidates:
            before, after = (grey(rgb8(f)) for f in around)
            f0_before = self.flow(before, gray0, size)[1]  # the pairs around this one, each computed once a video
            seeded = self.flow(gray0, gray1, size)
            around_flows = (f0_before, self.flow(gray1, after, size)[0])
        else:
            seeded = self.flow(gray0, gray1, size)
        seconds = time.perf_counter() - began
        cands = pair_candidates(gray0, gray1, seeded, self.config.candidates, around_flows, self._features)
        cands.milliseconds["flows"] = 1000 * seconds
        self.last = cands
        small = lambda f: cv2.resize(f, (size[1], size[0]), interpolation=cv2.INTER_AREA).astype(np.float32) / 255
        pair = {"small0": small(rgb0), "small1": small(rgb1), "candidates": cands,
                "occlusions": pair_occlusions(cands.flows), "taught": {}}
        if self.student is not None and len(times):
            began = time.perf_counter()
            plans = student_plans(self.student, pair["small0"], pair["small1"], *seeded[:2], list(times))
            pair["taught"] = dict(zip(times, plans))
            cands.milliseconds[TAUGHT] = 1000 * (time.perf_counter() - began)
        return pair

    def all_maps(self, pair: dict, t: float) -> list[Plan]:
        """Each distinct candidate's sampling maps and frame-0 weight at t, the taught one last."""
        cands: PairCandidates = pair["candidates"]
        maps = [blend_maps(m[0], m[1], t, *occ, *m[2:]) for m, occ in zip(cands.flows, pair["occlusions"])]
        return maps + ([pair["taught"][t]] if self.student is not None else [])

    def log_counts(self, pair: dict) -> torch.Tensor:
        counts = pair["candidates"].counts + ([1] if self.student is not None else [])
        return torch.log(torch.tensor(counts, dtype=torch.float32))

    def weights(self, pair: dict, t: float) -> np.ndarray:
        """(K, h, w) weights of the pair's distinct candidates at the working size, summing to 1."""
        raise NotImplementedError

    def render(self, img0: np.ndarray, img1: np.ndarray, pair: dict, t: float) -> np.ndarray:
        if t <= 0:
            return img0
        if t >= 1:
            return img1
        maps = self.all_maps(pair, t)
        weights = self.weights(pair, t)
        first = choice_masks(weights.argmax(axis=0), len(maps))
        top = [gathered(first, [m[i] for m in maps]) for i in range(3)]
        if len(maps) == 1:
            return warp_and_mix(img0, img1, *top)
        return warp_and_mix(img0, img1, *top, detail=mix_change(pair["small0"], pair["small1"], maps, weights, first))


class SelectInterpolator(CandidateChooser):
    """Candidate motions chosen per pixel by a small learned network (see the module docstring)."""

    description = "learned per-pixel choice among candidate motions (seeded DIS, SIFT matches, zero, the four-frame path)"

    def __init__(self, net: SelectNet, name: str = "select", max_side: int = FLOW_MAX_SIDE, bf16: bool = True):
        super().__init__(net.config, name, max_side, student=net.student)
        self.net = net.eval()
        self.bf16 = bf16  # the network under bfloat16 autocast on the CPU (its softmax stays in fp32)

    def _network_inputs(self, pair: dict) -> tuple:
        """The pair's frames, flows and occlusions at the network's size, made once per pair."""
        if "network" not in pair:
            scale = self.config.network_scale
            n0, flows = shrink_motion(pair["small0"], pair["candidates"].flows, scale)
            n1, _ = shrink_motion(pair["small1"], [], scale)
            pair["network"] = (n0, n1, flows, pair_occlusions(flows))
        return pair["network"]

    def weights(self, pair: dict, t: float) -> np.ndarray:
        """(K, h, w) weights of the pair's distinct candidates at the working size."""
        n0, n1, flows, occlusions = self._network_inputs(pair)
        evidence = [candidate_evidence(n0, n1, *motion[:2], t, *motion[2:], occlusions=occ)[0]
                    for motion, occ in zip(flows, occlusions)]
        if self.student is not None:
            evidence.append(maps_evidence(n0, n1, *shrink_plan(pair["taught"][t], n0.shape[:2]), *occlusions[0], t)[0])
        evidence, log_counts = np.stack(evidence), self.log_counts(pair)
        with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=self.bf16):
            weights = self.net(torch.from_numpy(evidence)[None], log_counts)[0].float().numpy()
        h, w = pair["small0"].shape[:2]
        return np.stack([cv2.resize(k, (w, h), interpolation=cv2.INTER_LINEAR) for k in weights])


class AgreementChooser(CandidateChooser):
    """The hand-made rule `select` learns to beat: per 16x16 block of the working size, the candidate
    whose two warps to t agree best. It fails where a wrong motion fetches the same background into
    both warps, and seldom picks zero motion (an ablation beside `select`)."""

    description = "per 16x16 block, the candidate motion whose two warps agree best (hand-made rule; ablation)"
    BLOCK = 16

    def __init__(self, config: Optional[SelectConfig] = None, name: str = "agree"):
        super().__init__(config or SelectConfig(), name)

    def weights(self, pair: dict, t: float) -> np.ndarray:
        h, w = pair["small0"].shape[:2]
        block = lambda a: cv2.resize(a, (max(1, w // self.BLOCK), max(1, h // self.BLOCK)), interpolation=cv2.INTER_AREA)
        warp = lambda img, m: cv2.remap(img, m, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        maps = self.all_maps(pair, t)
        disagreement = [block(np.abs(warp(pair["small0"], m0) - warp(pair["small1"], m1)).mean(axis=2)) for m0, m1, _ in maps]
        best = np.argmin(np.stack(disagreement), axis=0)
        chosen = cv2.resize(best.astype(np.uint8), (w, h), interpolation=cv2.INTER_NEAREST)
        return np.stack([(chosen == k).astype(np.float32) for k in range(len(maps))])
