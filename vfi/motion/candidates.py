"""Candidate two-way motions for one pair of frames, each cheap on the CPU and each right where others fail.

DIS searches coarse to fine from a start and loses what moves farther than its coarsest
level can see (a small fast object), or settles on a wrong match that fetches the same
background into both warps. Each candidate here starts or searches differently:

- `seeded`: DIS from the motion the pair before ended with (today's `flow`);
- `fine`: DIS down to full resolution (finest scale 0), for thin and small structure;
- `matched`: sparse SIFT matches, made dense by normalised convolution and refined by DIS;
  far motion that DIS's pyramid never sees is found by the matches;
- `homography`: one global motion fitted to the matches (a panning, zooming camera), refined by DIS;
- `zero`: no motion, which blends: better than a wrong warp on a small fast object.

All take and give working-size grey frames and (h, w, 2) float32 flows in pixels (0 -> 1, 1 -> 0).
A candidate that cannot be formed (too few matches) returns None; the caller then leaves it out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional

import cv2
import numpy as np

from vfi.motion.dis import PRESET, reversed_motion, two_way_flow
from vfi.motion.resample import pixel_grid
from vfi.motion.stillness import keep_still

Flows = tuple[np.ndarray, np.ndarray]
MIN_MATCHES = 12  # fewer matches than this say nothing about the motion
DOUBT_PX = 3.0  # a match that moves this much farther than a flow says (working-size pixels) doubts it
DOUBTING_MATCHES = 1  # a small fast object DIS loses may carry a single match
PATCH = 9  # the side of the patches that tell a true match from a false one
RATIO = 0.75  # Lowe's ratio test: a match must be clearly better than the second best


@dataclass(frozen=True)
class Matches:
    """Point correspondences from frame 0 to frame 1, (n, 2) float32 each, in pixels (x, y)."""

    points0: np.ndarray
    points1: np.ndarray

    def __len__(self) -> int:
        return len(self.points0)

    def reversed(self) -> "Matches":
        return Matches(self.points1, self.points0)


@dataclass(frozen=True)
class Features:
    """One frame's SIFT keypoints, (n, 2) float32 (x, y), and their (n, 128) descriptors."""

    points: np.ndarray
    descriptors: Optional[np.ndarray]


def sift_features(gray: np.ndarray, features: int = 2000) -> Features:
    """The frame's strongest SIFT keypoints (a flat frame has none). OpenCV's SIFT doubles the
    picture for its first octave; given the frame halved, it works at the frame's own size, four
    times faster (points in the frame's pixels)."""
    h, w = gray.shape[:2]
    half = cv2.resize(gray, (max(1, w // 2), max(1, h // 2)), interpolation=cv2.INTER_AREA)
    keypoints, descriptors = cv2.SIFT_create(nfeatures=features).detectAndCompute(half, None)
    scale = np.float32([w / half.shape[1], h / half.shape[0]])
    points = np.float32([k.pt for k in keypoints]).reshape(-1, 2)
    return Features((points + 0.5) * scale - 0.5, descriptors)


def match_features(features0: Features, features1: Features) -> Matches:
    """Mutually best matches between two frames' features that pass the ratio test."""
    d0, d1 = features0.descriptors, features1.descriptors
    empty = Matches(np.zeros((0, 2), np.float32), np.zeros((0, 2), np.float32))
    if d0 is None or d1 is None or len(d0) < 2 or len(d1) < 2:
        return empty
    matcher = cv2.BFMatcher(cv2.NORM_L2)
    forward = matcher.knnMatch(d0, d1, k=2)
    backward = {m.queryIdx: m.trainIdx for m in matcher.match(d1, d0)}
    kept = [m for m, n in (pair for pair in forward if len(pair) == 2)
            if m.distance < RATIO * n.distance and backward.get(m.trainIdx) == m.queryIdx]
    if not kept:
        return empty
    return Matches(features0.points[[m.queryIdx for m in kept]], features1.points[[m.trainIdx for m in kept]])


def sift_matches(gray0: np.ndarray, gray1: np.ndarray, features: int = 2000) -> Matches:
    """Mutually best SIFT matches between two frames that pass the ratio test."""
    return match_features(sift_features(gray0, features), sift_features(gray1, features))


def doubting(matches: Matches, f01: np.ndarray, gray0: np.ndarray, gray1: np.ndarray,
             tolerance: float = DOUBT_PX) -> int:
    """How many matches doubt the flow 0 -> 1: they move more than `tolerance` pixels away from where
    the flow takes their start, and the patch they land on resembles the start's at least as well
    as the flow's does (a false match, however far off, lands on a patch less alike; a tie, as on
    flat or repeating picture, leaves the doubt). Where none do, a motion made from the matches
    would find nothing new."""
    if len(matches) == 0:
        return 0
    starts = np.ascontiguousarray(matches.points0[:, None, :], np.float32)
    said = cv2.remap(f01, starts, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)[:, 0]
    moved = matches.points1 - matches.points0
    patch = lambda img, at: cv2.getRectSubPix(img, (PATCH, PATCH), tuple(map(float, at))).astype(np.float32)
    count = 0
    for k in np.flatnonzero(np.linalg.norm(moved - said, axis=1) > tolerance):
        start = patch(gray0, matches.points0[k])
        count += np.abs(patch(gray1, matches.points1[k]) - start).mean() <= np.abs(
            patch(gray1, matches.points0[k] + said[k]) - start).mean()
    return int(count)


def densify(matches: Matches, shape: tuple[int, int], spacing: int = 8) -> Optional[np.ndarray]:
    """A dense flow from sparse matches by normalised convolution: each pixel takes the
    distance-weighted mean motion of the matches near it, from ever wider neighbourhoods where
    none are near. Worked out on a grid `spacing` pixels apart, then resized."""
    if len(matches) < MIN_MATCHES:
        return None
    h, w = shape
    gh, gw = max(1, -(-h // spacing)), max(1, -(-w // spacing))
    motion = matches.points1 - matches.points0
    cells = np.clip((matches.points0 / spacing).astype(int), 0, [gw - 1, gh - 1])
    total = np.zeros((gh, gw, 2), np.float32)
    weight = np.zeros((gh, gw), np.float32)
    np.add.at(total, (cells[:, 1], cells[:, 0]), motion)
    np.add.at(weight, (cells[:, 1], cells[:, 0]), 1.0)
    flow = np.zeros((gh, gw, 2), np.float32)
    filled = np.zeros((gh, gw), bool)
    for sigma in (1.0, 2.5, 6.0, 16.0, 48.0):
        blur = lambda a: cv2.GaussianBlur(a, (0, 0), sigma, borderType=cv2.BORDER_CONSTANT)
        num, den = blur(total), blur(weight)
        ready = (den > 1e-3) & ~filled
        flow[ready] = num[ready] / den[ready, None]
        filled |= ready
    if not filled.all():
        flow[~filled] = np.median(motion, axis=0)
    return cv2.resize(flow, (w, h), interpolation=cv2.INTER_LINEAR)


def _refined(gray0: np.ndarray, gray1: np.ndarray, start01: np.ndarray, start10: Optional[np.ndarray] = None) -> Flows:
    """DIS both ways from the given starts (DIS weighs a start as a candidate at every level)."""
    dis = lambda a, b, s: cv2.DISOpticalFlow_create(PRESET).calc(a, b, np.ascontiguousarray(s, np.float32))
    f01 = dis(gray0, gray1, start01)
    f10 = dis(gray1, gray0, reversed_motion(f01) if start10 is None else start10)
    return keep_still(gray0, gray1, f01, f10)


def seeded(gray0: np.ndarray, gray1: np.ndarray, start: Optional[np.ndarray] = None) -> Flows:
    """DIS from `start` (the motion the pair before ended with), as `flow` computes it."""
    return two_way_flow(gray0, gray1, start)


def fine(gray0: np.ndarray, gray1: np.ndarray, start: Optional[np.ndarray] = None) -> Flows:
    """DIS refined down to full resolution (finest scale 0)."""
    def dis(a, b, s):
        search = cv2.DISOpticalFlow_create(PRESET)
        search.setFinestScale(0)
        return search.calc(a, b, None if s is None else np.ascontiguousarray(s, np.float32))

    f01 = dis(gray0, gray1, start)
    f10 = dis(gray1, gray0, reversed_motion(f01))
    return keep_still(gray0, gray1, f01, f10)


def matched(gray0: np.ndarray, gray1: np.ndarray, matches: Optional[Matches] = None) -> Optional[Flows]:
    """Sparse matches made dense, then refined by DIS; None where there are too few matches."""
    matches = sift_matches(gray0, gray1) if matches is None else matches
    start01 = densify(matches, gray0.shape[:2])
    start10 = densify(matches.reversed(), gray0.shape[:2])
    if start01 is None or start10 is None:
        return None
    return _refined(gray0, gray1, start01, start10)


def homography(gray0: np.ndarray, gray1: np.ndarray, matches: Optional[Matches] = None) -> Optional[Flows]:
    """One global motion (a homography fitted by RANSAC to the matches), refined by DIS; None where
    there are too few matches or no consistent fit."""
    matches = sift_matches(gray0, gray1) if matches is None else matches
    if len(matches) < MIN_MATCHES:
        return None
    h01, inliers = cv2.findHomography(matches.points0, matches.points1, cv2.RANSAC, 3.0)
    if h01 is None or inliers is None or int(inliers.sum()) < MIN_MATCHES:
        return None
    grid = pixel_grid(*gray0.shape[:2])
    start01 = cv2.perspectiveTransform(grid.reshape(-1, 1, 2), h01).reshape(grid.shape) - grid
    start10 = cv2.perspectiveTransform(grid.reshape(-1, 1, 2), np.linalg.inv(h01)).reshape(grid.shape) - grid
    return _refined(gray0, gray1, start01, start10)


def zero(gray0: np.ndarray, gray1: np.ndarray) -> Flows:
    """No motion: the warps are the frames themselves, so the frame at t is their blend."""
    still = np.zeros((*gray0.shape[:2], 2), np.float32)
    return still, still.copy()


# name -> how the candidate is computed from (gray0, gray1, seed, matches); a plain registry
CANDIDATES: dict[str, Callable[..., Optional[Flows]]] = {
    "seeded": lambda g0, g1, seed, matches: seeded(g0, g1, seed),
    "fine": lambda g0, g1, seed, matches: fine(g0, g1, seed),
    "matched": lambda g0, g1, seed, matches: matched(g0, g1, matches),
    "homography": lambda g0, g1, seed, matches: homography(g0, g1, matches),
    "zero": lambda g0, g1, seed, matches: zero(g0, g1),
}


def all_candidates(gray0: np.ndarray, gray1: np.ndarray, seed: Optional[np.ndarray] = None,
                   names: tuple[str, ...] = tuple(CANDIDATES)) -> dict[str, Flows]:
    """Every candidate that can be formed for this pair, by name (the matches are found once)."""
    needs_matches = {"matched", "homography"} & set(names)
    matches = sift_matches(gray0, gray1) if needs_matches else None
    out = {}
    for name in names:
        flows = CANDIDATES[name](gray0, gray1, seed, matches)
        if flows is not None:
            out[name] = flows
    return out
