"""The `select` interpolator: several candidate motions per pair, weighed per pixel by the learned
selector into the frame at t.

Per pair, at `flow`'s working size: `seeded` DIS (as `flow` computes it, from the pair before's
motion), the candidates that find what DIS loses (`vfi.motion.candidates`), and `path`: the seeded
motion bent by the accelerations the frames before and after the pair show
(`vfi.motion.acceleration`), so motion that speeds up, slows down or curves is placed along its
path at every t. Candidates whose motion came out the same (one that could not be formed is
`seeded` again) are weighed once, with their count in the softmax.

Per t, each candidate's evidence at the selector's smaller size gives the network's weights,
brought back to the working size. The full-size frame is the heaviest candidate's warp where the
weighed candidates sample nearly the same place (most of a frame), and the weighed mix of every
candidate's warp on the rows where they do not: what the network was trained to produce, at
the cost of one warp where the choice does not matter.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Optional

import cv2
import numpy as np
import torch
from torch import nn

from vfi.core.interface import Capabilities, Interpolator
from vfi.core.pixels import full_scale, rgb8
from vfi.models.selector import CandidateSelector, candidate_evidence
from vfi.motion.acceleration import accelerations
from vfi.motion.candidates import CANDIDATES, sift_matches
from vfi.motion.compose import blend_maps, mix
from vfi.motion.dis import VideoFlow, shrink_gray
from vfi.motion.occlusion import fb_occlusion
from vfi.motion.resample import pixel_grid, upscale_map
from vfi.motion.scale import FLOW_MAX_SIDE, working_size

Flows = tuple[np.ndarray, ...]  # (f01, f10), or (f01, f10, a0, a1) for a path bent by accelerations
FOUR_FRAME = "path"  # the candidate that needs the frames around the pair


@dataclass
class SelectConfig:
    width: int = 24  # the selector network's channels
    network_scale: float = 0.5  # the selector's working size, as a fraction of the motion's
    candidates: tuple[str, ...] = ("seeded", "matched", "homography", "zero")

    def __post_init__(self):
        self.candidates = tuple(self.candidates)
        known = (*CANDIDATES, FOUR_FRAME)
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
                    around: Optional[tuple[np.ndarray, np.ndarray]] = None) -> PairCandidates:
    """Every configured candidate for a working-size grey pair, `seeded` given; absent ones are `seeded`.
    `around`: the working-size grey frames before and after the pair, which `path` needs."""
    spent = {}
    began = time.perf_counter()
    matches = sift_matches(gray0, gray1) if {"matched", "homography"} & set(names) else None
    if matches is not None:
        spent["matches"] = 1000 * (time.perf_counter() - began)
    got: dict[str, Optional[Flows]] = {}
    for name in names:
        began = time.perf_counter()
        if name == "seeded":
            got[name] = seeded_flows
        elif name == FOUR_FRAME:
            got[name] = None if around is None else (*seeded_flows, *accelerations(around[0], gray0, gray1, around[1],
                                                                                  *seeded_flows))
        else:
            got[name] = CANDIDATES[name](gray0, gray1, None, matches)
        if name != "seeded":
            spent[name] = 1000 * (time.perf_counter() - began)
    out = PairCandidates([], [], [], spent)
    for name in names:
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
    """A working-size image and flows at `scale` of that size (flows in the smaller size's pixels)."""
    if scale == 1:
        return image, flows
    h, w = max(8, round(image.shape[0] * scale)), max(8, round(image.shape[1] * scale))
    shrink = lambda a: cv2.resize(a, (w, h), interpolation=cv2.INTER_AREA)
    return shrink(image), [tuple(shrink(f) * scale for f in motion) for motion in flows]


SPREAD = 0.1  # working-size pixels: where the weighed candidates sample further apart than this, all are mixed


def row_spans(needed: np.ndarray) -> list[tuple[int, int]]:
    """[start, stop) runs of the True entries of a 1-D mask."""
    edges = np.flatnonzero(np.diff(np.concatenate([[0], needed.astype(np.int8), [0]])))
    return list(zip(edges[::2].tolist(), edges[1::2].tolist()))


def spread(weights: np.ndarray, maps: list[tuple[np.ndarray, ...]], top0: np.ndarray, top1: np.ndarray
           ) -> np.ndarray:
    """Per pixel, how far (weighed) the candidates sample from where the heaviest one samples (top0,
    top1: its maps), in working-size pixels: where it is small, its render stands for the mix."""
    out = np.zeros(top0.shape[:2], np.float32)
    for k, (map0, map1, _) in enumerate(maps):
        apart = np.maximum(np.abs(map0 - top0).max(axis=2), np.abs(map1 - top1).max(axis=2))
        out += weights[k] * apart
    return out


def gathered(choice: np.ndarray, per_candidate: list[np.ndarray]) -> np.ndarray:
    """Per pixel, the value of the candidate `choice` names."""
    stack = np.stack(per_candidate)
    index = choice.reshape(1, *choice.shape, *([1] * (stack.ndim - 3)))
    return np.take_along_axis(stack, index, 0)[0]


class SelectInterpolator(Interpolator):
    """Candidate motions chosen per pixel by a small learned network (see the module docstring)."""

    description = "learned per-pixel choice among candidate motions (seeded DIS, SIFT matches, homography, zero)"
    capabilities = Capabilities(min_side=32, light_full_size=True, follows_motion=True, window=True)

    def __init__(self, net: SelectNet, name: str = "select", max_side: int = FLOW_MAX_SIDE, bf16: bool = True):
        self.net = net.eval()
        self.name = name
        self.max_side = max_side
        self.bf16 = bf16  # the network under bfloat16 autocast on the CPU (its softmax stays in fp32)
        self.flow = VideoFlow()
        self.last: Optional[PairCandidates] = None  # the latest pair's candidates, for reports and tests

    def to(self, device) -> "SelectInterpolator":
        return self  # OpenCV motion and a network of 18k weights: the CPU serves

    def reset(self) -> None:
        self.flow.forget()

    def _interpolate(self, frames0, frames1, times, neighbours=None):
        b, h, w, c = frames0.shape
        out = np.empty((b, times.shape[1], h, w, c), frames0.dtype)
        for i in range(b):
            whole = neighbours is not None and neighbours.has_before[i] and neighbours.has_after[i]
            around = (neighbours.before[i], neighbours.after[i]) if whole else None
            pair = self.prepare(frames0[i], frames1[i], around)
            for j, t in enumerate(times[i].tolist()):
                out[i, j] = self.render(frames0[i], frames1[i], pair, t)
        return out

    def prepare(self, img0: np.ndarray, img1: np.ndarray, around: Optional[tuple[np.ndarray, np.ndarray]] = None
                ) -> dict:
        """The pair's candidates; `around`: the frames before img0 and after img1, where they exist."""
        rgb0, rgb1 = rgb8(img0), rgb8(img1)
        gray0, gray1 = cv2.cvtColor(rgb0, cv2.COLOR_RGB2GRAY), cv2.cvtColor(rgb1, cv2.COLOR_RGB2GRAY)
        size = working_size(*gray0.shape, self.max_side, self.motion_scale)
        seeded = self.flow(gray0, gray1, size)
        if around is not None and FOUR_FRAME in self.net.config.candidates:
            around = tuple(shrink_gray(cv2.cvtColor(rgb8(f), cv2.COLOR_RGB2GRAY), size) for f in around)
        else:
            around = None
        cands = pair_candidates(shrink_gray(gray0, size), shrink_gray(gray1, size), seeded,
                                self.net.config.candidates, around)
        self.last = cands
        small = lambda f: cv2.resize(f, (size[1], size[0]), interpolation=cv2.INTER_AREA).astype(np.float32) / 255
        grid = pixel_grid(*size)
        occlusions = [(fb_occlusion(m[0], m[1], grid), fb_occlusion(m[1], m[0], grid)) for m in cands.flows]
        return {"small0": small(rgb0), "small1": small(rgb1), "candidates": cands, "occlusions": occlusions}

    def weights(self, pair: dict, t: float) -> np.ndarray:
        """(K, h, w) weights of the pair's distinct candidates at the working size."""
        cands: PairCandidates = pair["candidates"]
        scale = self.net.config.network_scale
        n0, flows = shrink_motion(pair["small0"], cands.flows, scale)
        n1, _ = shrink_motion(pair["small1"], [], scale)
        evidence = np.stack([candidate_evidence(n0, n1, *motion[:2], t, *motion[2:])[0] for motion in flows])
        log_counts = torch.log(torch.tensor(cands.counts, dtype=torch.float32))
        with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=self.bf16):
            weights = self.net(torch.from_numpy(evidence)[None], log_counts)[0].float().numpy()
        h, w = pair["small0"].shape[:2]
        return np.stack([cv2.resize(k, (w, h), interpolation=cv2.INTER_LINEAR) for k in weights])

    def render(self, img0: np.ndarray, img1: np.ndarray, pair: dict, t: float) -> np.ndarray:
        if t <= 0:
            return img0
        if t >= 1:
            return img1
        cands: PairCandidates = pair["candidates"]
        maps = [blend_maps(m[0], m[1], t, *occ, *m[2:]) for m, occ in zip(cands.flows, pair["occlusions"])]
        weights = self.weights(pair, t)
        first = weights.argmax(axis=0)
        h, w = img0.shape[:2]
        full = lambda a: cv2.resize(a, (w, h), interpolation=cv2.INTER_LINEAR)
        top = [gathered(first, [m[i] for m in maps]) for i in range(3)]
        out = self._warp(img0, img1, upscale_map(top[0], h, w), upscale_map(top[1], h, w), full(top[2]))
        if len(maps) == 1:
            return out
        apart = spread(weights, maps, top[0], top[1]) > SPREAD
        if not apart.any():
            return out
        band = cv2.resize(apart.any(axis=1).astype(np.uint8)[:, None], (1, h), interpolation=cv2.INTER_NEAREST)
        band = cv2.dilate(band, np.ones((5, 1), np.uint8))[:, 0] if h > 1 else band[:, 0]
        spans = row_spans(band > 0)
        scale = full_scale(img0.dtype)
        mixed = {span: np.zeros((span[1] - span[0], w, img0.shape[2]), np.float32) for span in spans}
        for k, (map0, map1, weight0) in enumerate(maps):
            big0, big1, big_w0, big_k = upscale_map(map0, h, w), upscale_map(map1, h, w), full(weight0), full(weights[k])
            for top_row, bottom in spans:
                rows = np.s_[top_row:bottom]
                render = self._warp(img0, img1, big0[rows], big1[rows], np.ascontiguousarray(big_w0[rows]))
                mixed[(top_row, bottom)] += big_k[rows][..., None] * render
        for (top_row, bottom), value in mixed.items():
            out[top_row:bottom] = np.clip(np.rint(value), 0, scale).astype(out.dtype)
        return out

    @staticmethod
    def _warp(img0, img1, map0, map1, weight0) -> np.ndarray:
        """Both full-size frames sampled along full-size maps and mixed by frame 0's weight."""
        warped0 = cv2.remap(img0, map0, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        warped1 = cv2.remap(img1, map1, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        return mix(warped0, warped1, weight0)


class AgreementChooser(SelectInterpolator):
    """The hand-made rule `select` learns to beat: per 16x16 block of the working size, the candidate
    whose two warps to t agree best. It fails where a wrong motion fetches the same background into
    both warps, and seldom picks zero motion (an ablation beside `select`)."""

    description = "per 16x16 block, the candidate motion whose two warps agree best (hand-made rule; ablation)"
    BLOCK = 16

    def __init__(self, config: Optional[SelectConfig] = None, name: str = "agree"):
        super().__init__(SelectNet(config or SelectConfig()), name)  # the network's settings only; it is not run

    def weights(self, pair: dict, t: float) -> np.ndarray:
        cands: PairCandidates = pair["candidates"]
        h, w = pair["small0"].shape[:2]
        block = lambda a: cv2.resize(a, (max(1, w // self.BLOCK), max(1, h // self.BLOCK)), interpolation=cv2.INTER_AREA)
        disagreement = []
        for motion, occlusions in zip(cands.flows, pair["occlusions"]):
            map0, map1, _ = blend_maps(motion[0], motion[1], t, *occlusions, *motion[2:])
            warp = lambda img, m: cv2.remap(img, m, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
            disagreement.append(block(np.abs(warp(pair["small0"], map0) - warp(pair["small1"], map1)).mean(axis=2)))
        best = np.argmin(np.stack(disagreement), axis=0)
        chosen = cv2.resize(best.astype(np.uint8), (w, h), interpolation=cv2.INTER_NEAREST)
        return np.stack([(chosen == k).astype(np.float32) for k in range(len(cands.flows))])
