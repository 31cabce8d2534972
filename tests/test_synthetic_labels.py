"""Synthetic motion labelled with its truth, for the taught motion's student: the labels must be exact."""

from __future__ import annotations

import numpy as np
import torch

from vfi.models.taught import GRID, TaughtConfig, TaughtMotionNet, render
from vfi.models.warp import backward_warp
from vfi.training.device_scenes import DeviceScenes, procedural_bank
from vfi.training.motion_labels import load_folder
from vfi.training.synthetic_labels import frame0_weight, random_times, synthesise, synthetic_windows
from vfi.training.taught_fit import PoolMix, WindowPool, train_taught

BANK = procedural_bank(4, 256, torch.Generator().manual_seed(0), "cpu")


def test_the_paths_carry_each_frame_at_t_back_to_both_frames():
    scenes = DeviceScenes(BANK, max_shift=0.1, blur_share=0.0)
    frames, paths, top = scenes.render_paths(torch.Generator().manual_seed(3), 3, 96, torch.tensor([[0.25, 0.5]] * 3))
    assert frames.shape == (3, 4, 3, 96, 96) and paths.shape == (3, 4, 4, 96, 96) and top.shape == (3, 4, 96, 96)
    right = lambda x, j: ((x - frames[:, j]).abs().amax(1) < 0.02).float().mean()  # share of pixels right
    for j in (2, 3):
        assert right(frames[:, 0], j) < 0.7 and right(frames[:, 1], j) < 0.7  # the scenes move
        assert right(backward_warp(frames[:, 0], paths[:, j, :2]), j) > 0.93  # all but what is hidden in frame 0
        assert right(backward_warp(frames[:, 1], paths[:, j, 2:]), j) > 0.93


def test_each_end_frame_stays_where_it_is():
    scenes = DeviceScenes(BANK, max_shift=0.2, blur_share=0.0)
    _, paths, _ = scenes.render_paths(torch.Generator().manual_seed(5), 2, 64, torch.tensor([[0.5], [0.5]]))
    assert paths[:, 0, :2].abs().max() < 1e-3 and paths[:, 1, 2:].abs().max() < 1e-3  # F_0->0 = F_1->1 = 0
    assert paths[:, 0, 2:].abs().mean() > 1.0  # but frame 0 moves to frame 1


def test_frame0_weight_follows_what_is_seen():
    h = w = 8
    times = torch.tensor([[0.25]])
    paths = torch.zeros(1, 3, 4, h, w)
    top = torch.zeros(1, 3, h, w, dtype=torch.uint8)
    top[0, 2, :, :4] = 1  # at t a sprite covers the left half; frame 0 shows it there too, frame 1 nowhere
    top[0, 0, :, :4] = 1
    weight = frame0_weight(paths, top, times)[0, 0]
    assert torch.all(weight[:, :4] == 1.0)  # seen only in frame 0
    assert torch.all(weight[:, 4:] == 0.75)  # seen in both: 1 - t
    paths[0, 2, 0] = -100.0  # every pixel at t comes from outside frame 0
    assert torch.all(frame0_weight(paths, top, times)[0, 0][:, 4:] == 0.0)


def test_synthetic_labels_render_the_true_frame_where_the_classical_motion_does_not():
    scenes = DeviceScenes(BANK, max_shift=0.2, blur_share=0.0, view=192)
    rng = np.random.default_rng(0)
    windows = synthetic_windows(scenes, torch.Generator().manual_seed(1), 4, 192, torch.tensor([0.5]), 1, rng, crop=160)
    batch = WindowPool(windows).take(1, np.arange(4))
    size = batch.frame0.shape[-2:]
    up = torch.nn.functional.interpolate(batch.teacher.flatten(0, 1), size=size, mode="bilinear").view(4, 1, 5, *size)
    by_labels = render(batch.frame0, batch.frame1, up[:, :, :2], up[:, :, 2:4], up[:, :, 4:5])
    with torch.no_grad():
        by_classical = render(batch.frame0, batch.frame1, *TaughtMotionNet(TaughtConfig())(
            batch.frame0, batch.frame1, batch.seed, batch.times))
    error = lambda x: (x - batch.truths).abs().mean().item()
    assert error(by_labels) < 0.6 * error(by_classical)
    assert windows[0].teacher.shape == (1, 1, 5, 160 // GRID, 160 // GRID)


def test_synthesis_goes_on_where_it_stopped(tmp_path):
    scenes = DeviceScenes(BANK, max_shift=0.1, blur_share=0.0, view=160)
    first = synthesise(tmp_path, scenes, 2, side=160, crops=1, per_call=2, log=lambda s: None)
    more = synthesise(tmp_path, scenes, 4, side=160, crops=1, per_call=2, log=lambda s: None)
    assert first["windows"] == 2 and more["windows"] == 2
    again = synthesise(tmp_path / "again", scenes, 4, side=160, crops=1, per_call=2, log=lambda s: None)
    assert again["windows"] == 4
    for a, b in zip(load_folder(tmp_path), load_folder(tmp_path / "again")):
        assert np.array_equal(a.frames, b.frames)  # the same scenes whether or not it stopped


def test_random_times_are_distinct_sorted_and_hold_the_middle():
    times = random_times(np.random.default_rng(4), 3, 16)
    assert 0.5 in times.tolist() and times.tolist() == sorted(set(times.tolist())) and len(times) == 3


def test_a_mix_draws_from_each_pool_by_share():
    scenes = DeviceScenes(BANK, max_shift=0.1, blur_share=0.0, view=160)
    one = synthetic_windows(scenes, torch.Generator().manual_seed(0), 1, 160, torch.tensor([0.5]), 1,
                            np.random.default_rng(0))
    three = synthetic_windows(scenes, torch.Generator().manual_seed(0), 1, 160, torch.tensor([0.25, 0.5, 0.75]), 1,
                              np.random.default_rng(0))
    mix, rng = PoolMix([WindowPool(one), WindowPool(three)], [0.8, 0.2]), np.random.default_rng(0)
    counts = [mix.draw(rng, 1, 32).times.shape[1] for _ in range(200)]
    assert 0.7 < counts.count(1) / 200 < 0.9


def test_training_starts_from_given_weights(tmp_path):
    config = TaughtConfig(features=8, width=8, hidden=2, steps=2)
    scenes = DeviceScenes(BANK, max_shift=0.1, blur_share=0.0, view=160)
    pool = WindowPool(synthetic_windows(scenes, torch.Generator().manual_seed(0), 1, 160, torch.tensor([0.5]), 1,
                                        np.random.default_rng(0)))
    start = TaughtMotionNet(config)
    torch.nn.init.normal_(start.field.out.weight, std=0.01)  # not the classical start
    net = train_taught(pool, pool, tmp_path / "state", total_steps=1, minutes=0.0, batch=1, side=32, config=config,
                       log=lambda s: None, init=start.state_dict())
    assert torch.equal(net.field.out.weight, start.field.out.weight)
