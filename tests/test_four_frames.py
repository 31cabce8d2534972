"""Four-frame motion: the path formulas, the network's handling of missing neighbours, the
stream's neighbours within a shot, and batches made on the training device."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
import torch

from vfi.core.interface import Capabilities, Interpolator, Neighbours
from vfi.models.adapter import ModelInterpolator
from vfi.models.architectures import build_network
from vfi.models.motion_path import MotionPath
from vfi.models.warp import backward_warp
from vfi.motion.prior import intermediate_flows, path_flows, quadratic_paths
from vfi.training.device_scenes import DeviceScenes, procedural_bank
from vfi.training.synthetic import random_texture
from vfi.training.windows import WindowMix, augment_windows
from vfi.pipeline.stream import interpolate_stream


def falling(t, p0=np.array([2.0, -3.0]), v=np.array([4.0, 1.0]), a=np.array([0.0, 6.0])):
    """Position of a point under constant acceleration at time t (frame units)."""
    return p0 + v * t + 0.5 * a * t * t


def test_the_four_frame_parabola_puts_an_accelerating_point_exactly_where_it_is():
    # flows of that point's pixel from frame 0 to frames -1 and 1, and from frame 1 to frames 0 and 2
    f01, f0p = falling(1) - falling(0), falling(-1) - falling(0)
    f10, f12 = falling(0) - falling(1), falling(2) - falling(1)
    for t in (0.25, 0.5, 0.8):
        d0, d1 = quadratic_paths(f01, f10, f01 + f0p, f10 + f12, t)
        assert np.allclose(d0, falling(t) - falling(0)) and np.allclose(d1, falling(t) - falling(1))
        linear, _ = quadratic_paths(f01, f10, 0, 0, t)
        assert np.abs(linear - (falling(t) - falling(0))).max() > 0.4  # two frames cannot see the curve


def test_steady_motion_and_a_still_pair_are_not_bent():
    from vfi.motion.acceleration import accelerations

    rng = np.random.default_rng(0)
    f01, f10 = rng.normal(0, 3, (2, 16, 24, 2)).astype(np.float32)
    a0, a1 = accelerations(f01, f10, -f01, -f10)  # the frames around the pair continue the motion
    assert not a0.any() and not a1.any()
    still = np.zeros_like(f01)
    a0, a1 = accelerations(still, still, f01, f10)  # whatever moves before and after a still pair
    assert not a0.any() and not a1.any()
    a0, _ = accelerations(f01, f10, -0.5 * f01, -f10)  # slowing down
    assert np.allclose(a0[np.abs(f01).max(axis=2) >= 0.25], 0.5 * f01[np.abs(f01).max(axis=2) >= 0.25])


def test_straight_paths_give_the_linear_prior():
    rng = np.random.default_rng(0)
    f01, f10 = rng.normal(size=(2, 4, 4)), rng.normal(size=(2, 4, 4))
    d0, d1 = quadratic_paths(f01, f10, 0, 0, 0.3)
    for a, b in zip(path_flows(d0, d1, f01, f10, 0.3), intermediate_flows(f01, f10, 0.3)):
        assert np.allclose(a, b)


def test_the_untrained_ode_is_the_parabola_and_the_ends_are_pinned():
    """A new network's ODE (zero learned field) integrates the parabola without error."""
    torch.manual_seed(0)
    path = MotionPath()
    b, h, w = 2, 32, 32
    f = lambda: torch.randn(b, 2, h, w) * 3
    f01, f10, f0p, f12 = f(), f(), f(), f()
    frames = torch.rand(b, 3, h, w), torch.rand(b, 3, h, w)
    yes = torch.ones(b, dtype=torch.bool)
    times = torch.tensor([[0.0, 0.3, 0.5, 1.0]] * b)
    d0, d1 = path(*frames, f01, f10, f0p, f12, yes, yes, times)
    gate = torch.sigmoid(torch.tensor(2.0))
    t = times[:, :, None, None, None]
    e0, e1 = quadratic_paths(f01[:, None], f10[:, None], gate * (f01 + f0p)[:, None], gate * (f10 + f12)[:, None], t)
    assert torch.allclose(d0, e0, atol=1e-4) and torch.allclose(d1, e1, atol=1e-4)
    torch.nn.init.normal_(path.field.out.weight, std=0.5)  # a loud learned field still keeps the ends
    d0, d1 = path(*frames, f01, f10, f0p, f12, yes, yes, times)
    assert torch.allclose(d0[:, 0], torch.zeros_like(f01), atol=1e-4) and torch.allclose(d0[:, 3], f01, atol=1e-4)
    assert torch.allclose(d1[:, 0], f10, atol=1e-4) and torch.allclose(d1[:, 3], torch.zeros_like(f10), atol=1e-4)
    assert (d0[:, 2] - e0[:, 2]).abs().max() > 1e-2  # and moves the middle


@pytest.fixture(scope="module")
def random_ode4():
    """An ode4 network with loud random weights: the rules below hold by design, not by training."""
    torch.manual_seed(0)
    net = build_network("ode4")
    for p in net.parameters():
        torch.nn.init.normal_(p, std=0.02)
    return ModelInterpolator(net, "ode4", "random ode4")


def frames(seed, n=4, h=64, w=64):
    rng = np.random.default_rng(seed)
    return [rng.integers(0, 256, (1, h, w, 3), dtype=np.uint8) for _ in range(n)]


def test_a_missing_neighbour_is_ignored_whatever_its_row_holds(random_ode4):
    before, a, b, after = frames(1)
    absent = random_ode4.interpolate(a, b, [0.5])
    marked = random_ode4.interpolate(a, b, [0.5], Neighbours(before, after, np.array([False]), np.array([False])))
    assert np.array_equal(absent, marked)
    present = random_ode4.interpolate(a, b, [0.5], Neighbours(before, after, np.array([True]), np.array([True])))
    assert not np.array_equal(absent, present)  # and a real one is read


def test_a_random_four_frame_network_keeps_a_still_picture_and_the_ends(random_ode4):
    before, a, b, after = frames(2)
    outer = Neighbours(before, after, np.array([True]), np.array([True]))
    still = random_ode4.interpolate(a, a, [0.3, 0.5], Neighbours(a, a, outer.has_before, outer.has_after))
    assert np.array_equal(still[0, 0], a[0]) and np.array_equal(still[0, 1], a[0])
    out = random_ode4.interpolate(a, b, [0.0, 1.0], outer)
    assert np.array_equal(out[0, 0], a[0]) and np.array_equal(out[0, 1], b[0])


def test_the_cpu_fast_path_matches_the_tensor_path(random_ode4):
    before, a, b, after = frames(3, h=96, w=128)
    outer = Neighbours(before, after, np.array([True]), np.array([False]))
    fast = random_ode4.interpolate(a, b, [0.5], outer)
    random_ode4.opencv_compose = False
    try:
        exact = random_ode4.interpolate(a, b, [0.5], outer)
    finally:
        random_ode4.opencv_compose = True
    assert np.abs(fast.astype(int) - exact).mean() < 1.0


class Recorder(Interpolator):
    """Records the neighbours the stream hands it; interpolates by repeating frame0."""

    name = "recorder"
    capabilities = Capabilities(window=True)

    def __init__(self):
        self.calls = []

    def _interpolate(self, frames0, frames1, times, neighbours):
        self.calls.append((frames0[:, 0, 0, 0].tolist(), neighbours.before[:, 0, 0, 0].tolist(),
                           neighbours.has_before.tolist(), neighbours.after[:, 0, 0, 0].tolist(),
                           neighbours.has_after.tolist()))
        return np.repeat(frames0[:, None], times.shape[1], axis=1)


def test_the_stream_gives_each_pair_its_neighbours_within_the_shot():
    """Frames 0-4 are one shot, 5-8 another; each frame carries its number in its first pixel."""
    rng = np.random.default_rng(0)
    shots = [random_texture(32, 48, rng), random_texture(32, 48, rng) // 4]  # the second shot far darker
    video = []
    for i in range(9):
        frame = np.roll(shots[i >= 5], i, axis=1).copy()
        frame[0, 0] = i
        video.append(frame)
    rec = Recorder()
    list(interpolate_stream(video, Fraction(2), rec, batch_size=3))
    seen = {}
    for f0, before, has_before, after, has_after in rec.calls:
        for row in zip(f0, before, has_before, after, has_after):
            seen[row[0]] = (row[1] if row[2] else None, row[3] if row[4] else None)
    assert seen == {0: (None, 2), 1: (0, 3), 2: (1, 4), 3: (2, None),  # pairs (2, 3) and (3, 4) straddle a batch
                    5: (None, 7), 6: (5, 8), 7: (6, None)}  # pair (4, 5) is the cut: shown, not interpolated


def test_device_scenes_are_exact_and_a_still_scene_stays_still():
    g = torch.Generator().manual_seed(0)
    scenes = DeviceScenes(procedural_bank(4, 128, g, "cpu"), blur_share=0.0)
    t = torch.tensor([0.0, 1.0, 0.5, 0.25])
    out, flows = scenes.render(g, 4, 48, t)
    assert out.shape == (4, 5, 3, 48, 48) and flows.shape == (4, 4, 48, 48)
    assert torch.equal(out[0, 4], out[0, 1]) and torch.equal(out[1, 4], out[1, 2])  # the target at t is the frame at t
    assert (out[2, 1] - out[2, 2]).abs().mean() > 0.01  # scenes move
    still, still_flows = DeviceScenes(procedural_bank(2, 128, g, "cpu"), blur_share=0.0, still_share=1.0).render(
        g, 2, 48, t[:2])
    assert torch.equal(still[:, 0], still[:, 3]) and torch.equal(still[:, 1], still[:, 4])
    assert still_flows.abs().max() < 1e-4


def test_time_reversal_on_the_device_reverses_the_window_and_its_flags():
    frames = torch.arange(5.0).view(1, 5, 1, 1, 1).expand(64, 5, 3, 2, 2).clone() / 10
    hb = torch.ones(64, dtype=torch.bool)
    ha = torch.zeros(64, dtype=torch.bool)
    out, t, hb2, ha2, _ = augment_windows(frames, torch.full((64,), 0.25), hb, ha, torch.Generator().manual_seed(0))
    order = (out.mean((2, 3, 4)) - out.mean((2, 3, 4))[:, 4:5])  # colour shifts move all five frames alike
    reversed_ = t == 0.75
    assert 0 < int(reversed_.sum()) < 64
    assert torch.all(order[reversed_, 0] > order[reversed_, 3]) and torch.all(order[~reversed_, 0] < order[~reversed_, 3])
    assert torch.equal(ha2, reversed_) and torch.equal(hb2, ~reversed_)


def test_window_batches_come_from_the_device_with_marked_gaps():
    g = torch.Generator().manual_seed(1)
    mix = WindowMix(None, DeviceScenes(procedural_bank(4, 128, g, "cpu")), 1.0, 32, drop_outer=0.5)
    batch = mix.batch(np.random.default_rng(0), g, 16)
    assert batch.frame0.shape == (16, 3, 32, 32) and batch.times.shape == (16, 1)
    gone = ~batch.has_before
    assert 0 < int(gone.sum()) < 16
    assert torch.equal(batch.before[gone], batch.frame0[gone])  # a dropped frame is the pair's own, as at a clip's end


def test_the_exact_flows_of_synthetic_scenes_survive_the_augmentation():
    """Frame 1 warped along the flow 0 -> 1 lands on frame 0 (and back), after flips, transposes and reversal."""
    g = torch.Generator().manual_seed(0)
    mix = WindowMix(None, DeviceScenes(procedural_bank(4, 128, g, "cpu"), blur_share=0.0), 1.0, 64)
    batch = mix.batch(np.random.default_rng(0), g, 16)
    assert bool(batch.has_flows.all())
    still_error = (batch.frame1 - batch.frame0).abs().mean()
    for source, flow, target in ((batch.frame1, batch.flows[:, :2], batch.frame0),
                                 (batch.frame0, batch.flows[:, 2:], batch.frame1)):
        assert (backward_warp(source, flow) - target).abs().mean() < 0.4 * still_error  # what is left: occlusions
        assert (backward_warp(source, -flow) - target).abs().mean() > 0.8 * still_error  # a sign error would show


def test_motion_blur_averages_the_shutter_and_keeps_the_middle_flows():
    """With the same seed the blurred batch is the sharp scene seen over an open shutter."""
    g = torch.Generator().manual_seed(3)
    bank = procedural_bank(2, 128, g, "cpu")
    t = torch.tensor([0.5, 0.5])
    sharp, sharp_flows = DeviceScenes(bank, blur_share=0.0).render(torch.Generator().manual_seed(7), 2, 48, t)
    blurred, blurred_flows = DeviceScenes(bank, blur_share=1.0).render(torch.Generator().manual_seed(7), 2, 48, t)
    assert torch.equal(blurred_flows, sharp_flows)  # the flows are those of the shutter's middle
    moving = sharp_flows.abs().amax(1) > 1  # pixels that move by more than a pixel between frames 0 and 1
    differs = (blurred - sharp).abs().amax(2)[:, 1] > 1 / 255
    assert differs[moving].float().mean() > 0.5 and differs[~moving].float().mean() < differs[moving].float().mean()
