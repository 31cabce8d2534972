"""The taught motion: an ODE in t that starts as the classical path, carries constant velocities exactly,
learns a translation from a teacher's flows in seconds, and joins `select` as one more candidate."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from vfi.models.checkpoint import load_network, save_checkpoint
from vfi.models.select import SelectConfig, SelectInterpolator, SelectNet
from vfi.models.taught import FLOW_UNIT, GRID, TaughtConfig, TaughtMotionNet, render
from vfi.models.taught_interpolator import TaughtInterpolator
from vfi.motion.prior import intermediate_flows
from vfi.training.motion_labels import MotionCrops, label_plan, label_window, load_folder, pooled, window_plan
from vfi.training.taught_fit import WindowPool, losses, train_taught
from vfi.training.teacher import Labels
from vfi.training.synthetic import Layer, Motion, Scene, random_texture

SMALL = TaughtConfig(features=8, width=16, hidden=4)


def texture_video(dx: float, dy: float, n: int, h: int = 64, w: int = 96, seed: int = 1) -> list[np.ndarray]:
    texture = random_texture(3 * h, 3 * w, np.random.default_rng(seed))
    scene = Scene(h, w, [Layer(texture, Motion(p0=(-w, -h), v=(dx, dy)))])
    return [scene.render(float(i)) for i in range(n)]


def flows_of(net, seed, times, size=32):
    torch.manual_seed(0)
    frames = torch.rand(1, 3, size, size), torch.rand(1, 3, size, size)
    with torch.no_grad():
        return net(*frames, seed, torch.tensor([times]))


def test_a_new_student_is_the_classical_path_exactly():
    seed = torch.randn(1, 4, 32, 32) * 3
    times = [0.0, 0.125, 0.5, 0.9, 1.0]
    ft0, ft1, _ = flows_of(TaughtMotionNet(SMALL), seed, times)
    for j, t in enumerate(times):
        p0, p1 = intermediate_flows(seed[:, :2], seed[:, 2:], torch.tensor(t))
        assert torch.allclose(ft0[:, j], p0, atol=1e-6) and torch.allclose(ft1[:, j], p1, atol=1e-6)
    assert ft0[:, 0].abs().max() == 0  # at t = 0 the frame is frame 0 itself


def test_the_ode_carries_a_constant_velocity_exactly():
    """A field that says 'move the correction at a constant speed' gives a correction growing linearly in t,
    at every t of the solve, also at times between the solver's steps."""
    net = TaughtMotionNet(SMALL)
    with torch.no_grad():
        net.field.out.bias[:4] = torch.tensor([0.5, -0.25, 0.125, 1.0])
    speed = torch.tensor([0.5, -0.25, 0.125, 1.0]) * FLOW_UNIT
    seed = torch.zeros(1, 4, 32, 32)
    times = [0.1, 0.3, 0.5, 0.77]
    ft0, ft1, _ = flows_of(net, seed, times)
    for j, t in enumerate(times):
        assert torch.allclose(ft0[0, j].mean((1, 2)), speed[:2] * t, atol=1e-5)
        assert torch.allclose(ft1[0, j].mean((1, 2)), speed[2:] * t, atol=1e-5)


def test_the_direct_ablation_has_the_same_weights():
    ode, direct = TaughtMotionNet(SMALL), TaughtMotionNet(TaughtConfig(**{**SMALL.to_dict(), "motion": "direct"}))
    direct.load_state_dict(ode.state_dict(), strict=True)
    seed = torch.randn(1, 4, 32, 32)
    assert torch.equal(flows_of(ode, seed, [0.5])[0], flows_of(direct, seed, [0.5])[0])  # both the classical path


def translation_windows(n: int, v=(6.0, -3.0), side: int = 32) -> list[MotionCrops]:
    """Windows where the classical motion failed (zero flows) and the teacher knows the exact translation."""
    out = []
    for k in range(n):
        frames = texture_video(*v, 2, h=side, w=side, seed=k)
        scene_mid = texture_video(v[0] / 2, v[1] / 2, 2, h=side, w=side, seed=k)[1]
        teacher = np.zeros((1, 1, 5, side // GRID, side // GRID), np.float16)
        teacher[0, 0, 0], teacher[0, 0, 1] = -v[0] / 2, -v[1] / 2
        teacher[0, 0, 2], teacher[0, 0, 3] = v[0] / 2, v[1] / 2
        teacher[0, 0, 4] = 0.5
        out.append(MotionCrops(np.stack(frames)[None], np.zeros((1, 4, side, side), np.float16),
                               np.array([0.5], np.float32), scene_mid[None, None], teacher))
    return out


def test_a_student_trained_for_seconds_recovers_a_translation(tmp_path):
    torch.manual_seed(0)
    pool = WindowPool(translation_windows(8))
    net = train_taught(pool, pool, tmp_path / "state", total_steps=150, minutes=1, batch=8, side=32, lr=3e-3,
                       config=SMALL, log=lambda s: None, augment=False)  # one direction: seconds, not minutes
    batch = pool.take(1, np.arange(4))
    with torch.no_grad():
        ft0, ft1, _ = net(batch.frame0, batch.frame1, batch.seed, batch.times)
    inner = np.s_[..., 8:-8, 8:-8]
    assert np.allclose(ft0[:, 0][inner].mean((0, 2, 3)).numpy(), [-3.0, 1.5], atol=0.6)
    assert np.allclose(ft1[:, 0][inner].mean((0, 2, 3)).numpy(), [3.0, -1.5], atol=0.6)
    history = torch.load(tmp_path / "state", weights_only=True)["history"]
    assert history[-1]["validation"] > history[0]["validation"] + 3  # the picture follows the motion


def test_training_goes_on_from_its_state_file(tmp_path):
    pool = WindowPool(translation_windows(2))
    kwargs = dict(batch=2, side=32, config=SMALL, log=lambda s: None)
    train_taught(pool, pool, tmp_path / "state", total_steps=4, minutes=0.0, **kwargs)  # stops at once
    train_taught(pool, pool, tmp_path / "state", total_steps=4, minutes=1, **kwargs)
    state = torch.load(tmp_path / "state", weights_only=True)
    assert state["step"] == 4
    assert [h["samples"] for h in state["history"]] == [0, 0, 8]  # cumulative over runs


def test_flips_and_reversal_keep_a_batch_consistent():
    batch = WindowPool(translation_windows(2)).take(1, np.arange(2))
    net = TaughtMotionNet(SMALL)
    for changed in (batch.flipped(-1), batch.flipped(-2), batch.reversed()):
        assert losses(net, changed, bf16=False)[1]["flow"] == pytest.approx(losses(net, batch, bf16=False)[1]["flow"])
    twice = batch.reversed().reversed()
    assert torch.equal(twice.teacher, batch.teacher) and torch.equal(twice.times, batch.times)
    mirrored = batch.flipped(-1)
    assert torch.equal(mirrored.teacher[:, :, 0], -batch.teacher[:, :, 0].flip(-1))
    assert torch.equal(mirrored.teacher[:, :, 1], batch.teacher[:, :, 1].flip(-1))


def exact_teacher(v):
    return lambda f0, f1, t: Labels(np.broadcast_to(np.array([-t * v[0], -t * v[1]], np.float32)[:, None, None],
                                                    (2, *f0.shape[:2])).copy(),
                                    np.broadcast_to(np.array([(1 - t) * v[0], (1 - t) * v[1]], np.float32)[:, None, None],
                                                    (2, *f0.shape[:2])).copy(),
                                    np.full(f0.shape[:2], 0.5, np.float32))


def test_labelled_windows_hold_pooled_labels_and_true_frames():
    frames = texture_video(4, 0, 5, h=96, w=128)
    got = label_window(exact_teacher((4, 0)), frames, 0, 4, (1, 2), crops=2, rng=np.random.default_rng(0), crop=64)
    assert got.frames.shape == (2, 2, 64, 64, 3) and got.truths.shape == (2, 2, 64, 64, 3)
    assert got.teacher.shape == (2, 2, 5, 16, 16)
    assert np.allclose(got.teacher[:, 0, 0], -4 * 0.25) and np.allclose(got.teacher[:, 1, 2], 4 * 0.5)
    assert np.abs(got.seed[:, 0, 16:-16, 16:-16].astype(np.float32).mean() - 16) < 0.5  # DIS sees 4 frames of 4 px
    assert pooled(np.arange(16, dtype=np.float32).reshape(1, 4, 4), 2).tolist() == [[[2.5, 4.5], [10.5, 12.5]]]


def test_labelling_goes_on_where_it_stopped(tmp_path):
    frames = texture_video(4, 0, 9, h=96, w=128)
    plan = window_plan({"clip.avi": 9}, [2, 4], per_step=2, rng=np.random.default_rng(0))
    calls = []
    teacher = exact_teacher((4, 0))
    counting = lambda *a: calls.append(1) or teacher(*a)
    label_plan(plan[:2], lambda name: frames, counting, tmp_path, crops=1, log=lambda s: None, crop=64)
    first = len(calls)
    label_plan(plan, lambda name: frames, counting, tmp_path, crops=1, log=lambda s: None, crop=64)
    assert len(calls) - first == sum(len(js) for *_, js in plan[2:])  # the first two were not labelled again
    assert len(load_folder(tmp_path)) == len(plan)


def test_the_interpolator_returns_the_ends_and_keeps_a_still_video_still():
    interp = TaughtInterpolator(TaughtMotionNet(SMALL))
    frames = texture_video(0, 0, 2)
    out = interp.interpolate(frames[0][None], frames[1][None], [0.0, 0.5, 1.0])[0]
    assert np.array_equal(out[0], frames[0]) and np.array_equal(out[2], frames[1])
    assert np.abs(out[1].astype(int) - frames[0]).max() <= 1


def test_a_new_student_renders_the_classical_picture_of_a_translation():
    frames = texture_video(5, 2, 3, h=96, w=128)
    interp = TaughtInterpolator(TaughtMotionNet(SMALL))
    out = interp.interpolate(frames[0][None], frames[2][None], [0.5])[0, 0]
    inner = np.s_[16:-16, 16:-16]
    assert np.abs(out[inner].astype(int) - frames[1][inner]).mean() < 4


def test_the_taught_candidate_joins_select_and_loads_strictly(tmp_path):
    config = SelectConfig(candidates=("seeded", "zero", "taught"))
    net = SelectNet(config)
    assert net.student is not None
    save_checkpoint(tmp_path / "with_taught.pt", net, "select")
    loaded, _ = load_network(tmp_path / "with_taught.pt")
    assert set(loaded.state_dict()) == set(net.state_dict())
    interp = SelectInterpolator(loaded)
    frames = texture_video(5, 2, 3, h=96, w=128)
    out = interp.interpolate(frames[0][None], frames[2][None], [0.0, 0.25, 0.5, 1.0])[0]
    assert np.array_equal(out[0], frames[0]) and np.array_equal(out[3], frames[2])
    inner = np.s_[16:-16, 16:-16]
    assert np.abs(out[2][inner].astype(int) - frames[1][inner]).mean() < 4
    assert "taught" in interp.last.milliseconds


def test_the_selector_cache_takes_the_taught_candidate():
    from vfi.training.select_fit import SelectCache, add_video

    config = SelectConfig(candidates=("seeded", "zero", "taught"), network_scale=1.0)
    frames = texture_video(3, 1, 9, h=96, w=128)
    cache = SelectCache()
    add_video(cache, frames, [0, 4], 4, config, crops=1, rng=np.random.default_rng(0), student=TaughtMotionNet(SMALL))
    evidence, renders, truths = cache.arrays()
    assert evidence.shape[1] == 3 and renders.shape[1] == 3  # seeded, zero, taught
    assert len(truths) == 2 * 3


def test_render_mixes_the_two_warps_by_the_weight():
    f0, f1 = torch.zeros(1, 3, 8, 8), torch.ones(1, 3, 8, 8)
    still = torch.zeros(1, 1, 2, 8, 8)
    out = render(f0, f1, still, still, torch.full((1, 1, 1, 8, 8), 0.25))
    assert torch.allclose(out, torch.full_like(out, 0.75))


def test_a_student_leaves_what_did_not_change_exactly_as_it_was():
    """By design, not by training: a student whose correction moves everything still keeps still pixels."""
    net = TaughtMotionNet(SMALL)
    with torch.no_grad():
        net.field.out.bias[:4] = torch.tensor([0.5, -0.25, 0.125, 1.0])
    frames = texture_video(0, 0, 2, h=96, w=128)
    changed = frames[1].copy()
    changed[40:48, 100:108] = 255 - changed[40:48, 100:108]  # a small change in the right part only
    out = TaughtInterpolator(net).interpolate(frames[0][None], changed[None], [0.5])[0, 0]
    assert np.array_equal(out[:, :48], frames[0][:, :48])
    assert not np.array_equal(out[:, 80:], frames[0][:, 80:])
