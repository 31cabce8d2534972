"""The candidate selector learns which motion is right from the evidence each candidate gives."""

from __future__ import annotations

import cv2
import numpy as np
import torch

from vfi.models.selector import EVIDENCE, CandidateSelector, candidate_evidence, selected


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    return float(10 * np.log10(1 / np.mean((a - b) ** 2)))


def texture(h: int, w: int, rng: np.random.Generator) -> np.ndarray:
    img = sum(cv2.resize(rng.random((h // s + 1, w // s + 1), np.float32), (w, h)) for s in (2, 6, 16))
    img = np.stack([img, np.roll(img, 7, 0), np.roll(img, 5, 1)], axis=2)
    return (img - img.min()) / (img.max() - img.min())


def shifted(img: np.ndarray, dx: float, dy: float) -> np.ndarray:
    m = np.float32([[1, 0, dx], [0, 1, dy]])
    return cv2.warpAffine(img, m, img.shape[1::-1], flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)


def scene(rng: np.random.Generator, h: int = 48, w: int = 64):
    """A texture moving by d: the right candidate's motion is d, the wrong one's is off by a few
    pixels, in a random order. Returns evidence (2, E, h, w), renders (2, 3, h, w), truth, right index."""
    base = texture(h + 32, w + 32, rng)
    d = rng.uniform(-6, 6, 2)
    img0, img1 = base[16:-16, 16:-16], shifted(base, *d)[16:-16, 16:-16]
    truth = np.moveaxis(shifted(base, *(d / 2))[16:-16, 16:-16], 2, 0)
    wrong = d + rng.choice([-1, 1], 2) * rng.uniform(3, 6, 2)
    flows = [np.broadcast_to(np.float32(v), (h, w, 2)).copy() for v in (d, wrong)]
    right = int(rng.integers(2))
    order = flows if right == 0 else flows[::-1]
    pairs = [candidate_evidence(img0, img1, f, -f, 0.5) for f in order]
    return np.stack([p[0] for p in pairs]), np.stack([p[1] for p in pairs]), truth, right


def test_evidence_has_its_channels_and_the_render_of_a_still_pair_is_the_frame():
    img = texture(32, 40, np.random.default_rng(0)).astype(np.float32)
    still = np.zeros((32, 40, 2), np.float32)
    evidence, render = candidate_evidence(img, img, still, still, 0.3)
    assert evidence.shape == (EVIDENCE, 32, 40)
    assert np.allclose(render, np.moveaxis(img, 2, 0), atol=1e-5)


def test_a_selector_trained_where_one_candidate_is_right_learns_to_pick_it():
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    data = [scene(rng) for _ in range(48)]
    batch = lambda items: [torch.from_numpy(np.stack(x)) for x in zip(*[d[:3] for d in items])]
    model = CandidateSelector(width=16)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    for step in range(150):
        evidence, renders, truth = batch([data[i] for i in rng.integers(0, len(data), 8)])
        loss = (selected(renders, model(evidence)) - truth).abs().mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    fresh = [scene(np.random.default_rng(100 + i)) for i in range(8)]
    evidence, renders, truth = batch(fresh)
    with torch.no_grad():
        weights = model(evidence)
    picked = torch.stack([weights[i, d[3]].mean() for i, d in enumerate(fresh)])
    assert picked.mean() > 0.9 and picked.min() > 0.7
    out = selected(renders, weights).numpy()
    gain = [psnr(out[i], truth[i].numpy()) - psnr(renders[i, 1 - d[3]].numpy(), truth[i].numpy())
            for i, d in enumerate(fresh)]
    assert min(gain) > 3  # far better than the wrong motion's picture


def test_identical_candidates_weighed_once_get_the_weights_they_would_share():
    torch.manual_seed(0)
    net = CandidateSelector(width=8).eval()
    evidence = torch.rand(1, 3, EVIDENCE, 16, 16)
    repeated = evidence[:, [0, 0, 0, 1, 2]]  # the first candidate stands for three (two could not be formed)
    with torch.no_grad():
        each = net(repeated)
        once = net(evidence, torch.log(torch.tensor([3.0, 1.0, 1.0])))
    assert torch.allclose(once[:, 0], each[:, :3].sum(1), atol=1e-6)
    assert torch.allclose(once[:, 1:], each[:, 3:], atol=1e-6)


def test_select_renders_the_weighed_mix_of_every_candidates_render():
    """At the working size, the heaviest candidate's render plus `mix_change` is exactly what the
    network was trained to produce: every candidate's render weighed by its weight."""
    from vfi.models.select import SelectConfig, SelectInterpolator, SelectNet
    from vfi.motion.compose import blend_maps

    rng = np.random.default_rng(3)
    base = (255 * texture(96, 128, rng)).astype(np.uint8)
    img0, img1 = base[8:72, 8:104].copy(), base[12:76, 2:98].copy()  # moved by (6, -4) px
    torch.manual_seed(0)
    model = SelectInterpolator(SelectNet(SelectConfig(width=8, candidates=("seeded", "matched", "zero"))))
    pair = model.prepare(img0, img1)
    weights = model.weights(pair, 0.4)
    assert weights.shape[0] >= 2 and np.allclose(weights.sum(0), 1, atol=1e-5)
    renders = []
    for motion, occlusions in zip(pair["candidates"].flows, pair["occlusions"]):
        map0, map1, weight0 = blend_maps(*motion[:2], 0.4, *occlusions)
        warp = lambda img, m: cv2.remap(img.astype(np.float32), m, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        renders.append(weight0[..., None] * warp(img0, map0) + (1 - weight0[..., None]) * warp(img1, map1))
    expected = sum(w[..., None] * r for w, r in zip(weights, renders))
    out = model.render(img0, img1, pair, 0.4)
    assert np.abs(out - expected).max() <= 1.5  # 8-bit rounding of the parts


def test_gathered_takes_each_pixels_value_from_the_candidate_it_names():
    from vfi.models.select import choice_masks, gathered

    maps = [np.full((2, 3, 2), k, np.float32) for k in (0, 5, 7)]
    choice = np.array([[0, 1, 2], [1, 2, 0]])
    masks = choice_masks(choice, 3)
    expected = np.array([[0, 5, 7], [5, 7, 0]])
    assert np.array_equal(gathered(masks, maps)[..., 1], expected)
    assert np.array_equal(gathered(masks, [m[..., 0] for m in maps]), expected)


def test_the_match_search_runs_only_where_the_matches_doubt_the_seeded_motion():
    """A textured picture moved 6 px: DIS gets it and the matches agree, so `matched` is not searched
    (and `seeded` stands in for it); a small object 60 px away that DIS loses keeps the search."""
    from vfi.models.select import SelectConfig, SelectInterpolator, SelectNet

    rng = np.random.default_rng(3)
    base = (255 * texture(272, 352, rng)).astype(np.uint8)
    model = SelectInterpolator(SelectNet(SelectConfig(width=8)))
    model.prepare(base[8:248, 8:328].copy(), base[12:252, 2:322].copy())
    assert "matched" not in model.last.milliseconds and "matched" not in model.last.names
    assert model.last.names == ["seeded", "zero"] and model.last.counts == [3, 1]  # no frames around: no `path`
    from test_candidates import texture as grey_texture  # the scene of test_matches_find_a_small_fast_object...

    colour = lambda grey: np.ascontiguousarray(np.dstack([grey] * 3))
    background, sprite = grey_texture(240, 320, seed=2), grey_texture(32, 32, seed=3)
    img0, img1 = colour(background), colour(background)
    img0[100:132, 60:92] = colour(sprite)
    img1[100:132, 120:152] = colour(sprite)
    model.reset()
    model.prepare(img0, img1)
    assert "matched" in model.last.milliseconds and "matched" in model.last.names
