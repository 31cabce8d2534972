"""Candidate motions (vfi.motion.candidates) on cases with exact answers."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from vfi.motion.candidates import CANDIDATES, all_candidates, densify, doubting, sift_matches, Matches


def texture(h: int, w: int, seed: int = 0) -> np.ndarray:
    """A grey photo-like texture: blurred noise at several scales."""
    rng = np.random.default_rng(seed)
    img = sum(cv2.resize(rng.random((h // s + 1, w // s + 1), np.float32), (w, h)) for s in (2, 8, 32))
    img = cv2.GaussianBlur(img, (0, 0), 1.0)
    return np.uint8(255 * (img - img.min()) / (img.max() - img.min()))


def shifted(img: np.ndarray, dx: float, dy: float) -> np.ndarray:
    m = np.float32([[1, 0, dx], [0, 1, dy]])
    return cv2.warpAffine(img, m, img.shape[::-1], flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)


def inside(flow: np.ndarray, margin: int = 24) -> np.ndarray:
    return flow[margin:-margin, margin:-margin].reshape(-1, 2)


@pytest.mark.parametrize("name", ["seeded", "fine", "matched", "homography"])
def test_a_known_translation_is_recovered(name):
    g0 = texture(160, 224)
    g1 = shifted(g0, 7, -3)
    f01, f10 = CANDIDATES[name](g0, g1, None, None)
    assert np.allclose(np.median(inside(f01), axis=0), [7, -3], atol=0.25)
    assert np.allclose(np.median(inside(f10), axis=0), [-7, 3], atol=0.25)


@pytest.mark.parametrize("name", list(CANDIDATES))
def test_a_still_frame_has_no_motion(name):
    g0 = texture(96, 128, seed=1)
    flows = CANDIDATES[name](g0, g0.copy(), None, None)
    assert flows is not None
    assert all(np.abs(f).max() < 0.05 for f in flows)


def test_frames_without_matches_leave_the_match_candidates_out():
    flat = np.full((96, 128), 128, np.uint8)
    assert len(sift_matches(flat, flat)) == 0
    got = all_candidates(flat, flat)
    assert set(got) == {"seeded", "fine", "zero"}


def test_too_few_matches_make_no_dense_motion():
    few = Matches(np.float32([[10, 10], [20, 20]]), np.float32([[12, 10], [22, 20]]))
    assert densify(few, (64, 64)) is None


def test_dense_motion_from_matches_follows_each_region():
    """Matches of two regions moving differently: each region takes its own motion."""
    left = np.float32([[x, y] for x in range(4, 60, 8) for y in range(4, 124, 8)])
    right = left + [64, 0]
    points0 = np.concatenate([left, right])
    points1 = np.concatenate([left + [5, 0], right + [0, -9]])
    flow = densify(Matches(points0, points1), (128, 128))
    assert np.allclose(flow[60, 20], [5, 0], atol=0.5) and np.allclose(flow[60, 100], [0, -9], atol=0.5)


def test_matches_find_a_small_fast_object_that_dis_loses():
    """A 32 px textured square 60 px farther in frame 1, over a still textured background."""
    background, sprite = texture(240, 320, seed=2), texture(32, 32, seed=3)
    g0, g1 = background.copy(), background.copy()
    g0[100:132, 60:92] = sprite
    g1[100:132, 120:152] = sprite
    at_object = lambda f: np.median(f[104:128, 64:88].reshape(-1, 2), axis=0)
    dis, _ = CANDIDATES["seeded"](g0, g1, None, None)
    found, _ = CANDIDATES["matched"](g0, g1, None, None)
    assert np.allclose(at_object(found), [60, 0], atol=1.0)
    assert not np.allclose(at_object(dis), [60, 0], atol=5.0)


def test_matches_doubt_a_flow_only_where_they_show_it_wrong():
    g0 = texture(128, 128, seed=4)
    g1 = shifted(g0, 5, -2)
    points0 = np.float32([[x, y] for x in range(16, 112, 16) for y in range(16, 112, 16)])
    matches = Matches(points0, points0 + [5, -2])
    flow = np.zeros((128, 128, 2), np.float32)
    assert doubting(matches, flow, g0, g1) == len(matches)
    flow[...] = [5, -2]
    assert doubting(matches, flow, g0, g1) == 0
    false = Matches(np.float32([[30, 30], [90, 40]]), np.float32([[100, 90], [20, 100]]))  # far off, and wrong
    assert doubting(false, flow, g0, g1) == 0
    flow[:, 64:] = [5, 4]  # wrong by 6 px on the right half
    assert doubting(matches, flow, g0, g1) == int((points0[:, 0] >= 64).sum())
    assert doubting(Matches(np.zeros((0, 2), np.float32), np.zeros((0, 2), np.float32)), flow, g0, g1) == 0
