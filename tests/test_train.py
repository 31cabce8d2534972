"""`vfi train`: a tiny generated clip trains, checkpoints round-trip, resume and interrupt behave."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch

from conftest import make_clip, moving_frames, vfi
from vfi.training.batches import SampleMix
from vfi.training.samples import ClipWindows, Sample, SyntheticMotion, augment
from vfi.motion.dis import VideoFlow
from vfi.models.seed import batch_seed, seed_after
from vfi.models.checkpoint import load_network, read_checkpoint
from vfi.training.trainer import TrainConfig, Trainer
from vfi.training.losses import charbonnier


@pytest.fixture(scope="module")
def tiny_clip(tmp_path_factory):
    folder = tmp_path_factory.mktemp("train")
    return make_clip(folder / "tiny.mp4", moving_frames(40, h=64, w=80, scene="occlusion"))


def test_loss_falls_on_a_tiny_clip(tiny_clip, tmp_path):
    torch.manual_seed(0)
    windows = ClipWindows(tiny_clip, strides=(2,), holdout_every=10)
    config = TrainConfig(arch="unet", steps=40, crop=48, batch_size=4, lr=2e-3, bf16=False, val_every=1000)
    trainer = Trainer(config, [windows], None, [], tmp_path / "m.pt")
    # the U-Net starts as an exact cross-fade; knock it off that so there is something to learn
    torch.nn.init.normal_(trainer.net.head[-1].weight, std=0.05)
    fixed = [trainer.draw() for _ in range(8)]

    def loss_on_fixed_batch():
        with torch.no_grad():
            pred, target = trainer.forward(fixed)
            return float(charbonnier(pred, target))

    before = loss_on_fixed_batch()
    for _ in range(40):
        trainer.train_step()
    assert loss_on_fixed_batch() < 0.75 * before


def test_train_writes_a_checkpoint_that_upsample_and_benchmark_accept(tiny_clip, tmp_path):
    ckpt = tmp_path / "fitted.pt"
    result = vfi("train", tiny_clip, "-o", ckpt, "--steps", "4", "--crop", "48", "-b", "2", "--factor", "2",
                 "--val-every", "2", "-q")
    assert result.exit_code == 0, result.output
    assert "validation" in result.output and "flow" in result.output and "done: 4 steps" in result.output
    meta = read_checkpoint(ckpt)["meta"]
    assert meta["clips"] == [str(tiny_clip)] and "ode.pt" in meta["base_model"] and "val_psnr" in meta
    out = tmp_path / "up.mp4"
    assert vfi("upsample", tiny_clip, "-o", out, "--factor", "2", "-m", ckpt, "-q").exit_code == 0
    result = vfi("benchmark", tiny_clip, "-f", "2", "--methods", f"blend,{ckpt}", "-q", "--max-frames", "9")
    assert result.exit_code == 0, result.output


def test_resume_continues_from_the_same_step(tiny_clip, tmp_path):
    ckpt = tmp_path / "m.pt"
    common = ["--crop", "48", "-b", "2", "--factor", "2", "--val-every", "2", "-q", "--model", "unet", "--from-scratch"]
    assert vfi("train", tiny_clip, "-o", ckpt, "--steps", "4", *common).exit_code == 0
    resume = tmp_path / "m.pt.resume"
    assert read_checkpoint(resume)["train_state"]["step"] == 4
    result = vfi("train", tiny_clip, "-o", ckpt, "--steps", "6", "--resume", resume, *common)
    assert result.exit_code == 0, result.output
    state = read_checkpoint(resume)["train_state"]
    assert state["step"] == 6 and [h["step"] for h in state["history"]] == [0, 2, 4, 6]


def test_interrupt_leaves_a_loadable_checkpoint(tiny_clip, tmp_path, monkeypatch):
    original = Trainer.train_step

    def interrupted(self):
        if self.step == 3:
            raise KeyboardInterrupt
        return original(self)

    monkeypatch.setattr(Trainer, "train_step", interrupted)
    ckpt = tmp_path / "m.pt"
    result = vfi("train", tiny_clip, "-o", ckpt, "--steps", "10", "--crop", "48", "-b", "2", "--factor", "2",
                 "--model", "unet", "--from-scratch", "-q")
    assert result.exit_code == 130
    assert "--resume" in result.output and "kept" in result.output
    assert "no partial output" not in result.output  # it says what was kept, and nothing contrary
    load_network(ckpt)
    assert read_checkpoint(tmp_path / "m.pt.resume")["train_state"]["step"] == 3


@pytest.mark.parametrize("make_args, message", [
    (lambda d, c: [(d / "x.txt").write_text("hi") and d / "x.txt", "-o", d / "m.pt"], "not a video"),
    (lambda d, c: [c, "-o", d / "m.pt", "--crop", "512"], "larger than the frame"),
    (lambda d, c: [c, "-o", d / "m.pt", "--factor", "64"], "too few"),
    (lambda d, c: [c, "-o", d / "m.pt", "--model", (d / "bad.pt").write_text("junk") and d / "bad.pt"],
     "not a readable vfi checkpoint"),
    (lambda d, c: [c, "-o", d / "m.pt", "--model", "nonsense"], "unknown base model"),
])
def test_bad_input_gives_one_line(tiny_clip, tmp_path, make_args, message):
    result = vfi("train", *make_args(tmp_path, tiny_clip), "--steps", "1", "-q")
    assert result.exit_code == 1, result.output
    assert message in result.output and "Traceback" not in result.output


def test_a_validation_clip_is_never_trained_on_and_the_training_clips_are_used_whole(tiny_clip, tmp_path):
    other = make_clip(tmp_path / "other.mp4", moving_frames(30, h=64, w=80, seed=3, scene="occlusion"))
    val = ClipWindows(other, strides=(2, 4), validation_only=True)
    assert val.train_starts(2) == [] and val.train_starts(4) == []
    assert len(val.val_windows(2)) == 14  # every window of stride 2 in 30 frames, one frame each
    result = vfi("train", tiny_clip, "-o", tmp_path / "m.pt", "--val-clip", other, "--steps", "1", "-q",
                 "--model", "unet", "--from-scratch", "--crop", "48")
    assert result.exit_code == 0, result.output
    assert "validation: 12 held-out frames" in result.output  # 12 windows drawn from `other` alone
    result = vfi("train", tiny_clip, "-o", tmp_path / "m.pt", "--val-clip", tiny_clip, "--steps", "1", "-q")
    assert result.exit_code == 1 and "both trained on and used as a --val-clip" in result.output


def test_training_crops_of_big_clips_come_at_the_models_working_scale(tiny_clip):
    """A seeded model sees a big clip shrunk before it estimates motion: training must see the same."""
    full = ClipWindows(tiny_clip, strides=(2,))
    shrunk = ClipWindows(tiny_clip, strides=(2,), work_side=40)  # 80x64 frames -> seen at 40x32
    assert (full.shrink, shrunk.shrink) == (1, 2)
    crop = shrunk.sample(np.random.default_rng(0), 32)
    candidates = [cv2.resize(f, (40, 32), interpolation=cv2.INTER_AREA) for f in shrunk.frames]
    # the crop is a 32x32 window of some shrunk frame (a crop of the full-size frame would not be)
    found = any(np.array_equal(crop.frame0, c[:, x:x + 32]) for c in candidates for x in range(9))
    assert found


def test_a_training_pair_is_seeded_as_a_video_seeds_it(tiny_clip):
    """Along a video each pair's motion search starts from the pair before; training must see those seeds."""
    clip = ClipWindows(tiny_clip, strides=(2,))
    s = clip.window(4, 2, 1)
    assert s.before is clip.frames[2] and s.after is clip.frames[8]
    size = s.frame0.shape[:2]
    video = VideoFlow()  # what upsample's model does with frames 2, 4, 6 kept
    batch_seed(clip.frames[2][None], clip.frames[4][None], size, video)
    along = batch_seed(clip.frames[4][None], clip.frames[6][None], size, video)[0].numpy()
    np.testing.assert_array_equal(seed_after(s.before, s.frame0, s.frame1, size), along)
    assert not np.array_equal(seed_after(None, s.frame0, s.frame1, size), along)

    rng = np.random.default_rng(0)
    chained = SampleMix([clip], None, 0.0, 32, motion_seed=True, chained=1.0)
    alone = SampleMix([clip], None, 0.0, 32, motion_seed=True, chained=0.0)
    drawn = [chained.draw(rng) for _ in range(20)]
    assert sum(d.before is not None for d in drawn) >= 10  # all but windows at the clip's start
    assert all(alone.draw(rng).before is None for _ in range(20))
    batch = chained.collate(drawn[:2])
    for d, seed in zip(drawn[:2], batch.seed):
        np.testing.assert_array_equal(seed.numpy(), seed_after(d.before, d.frame0, d.frame1, (32, 32)))


def test_a_model_without_seeds_draws_what_it_drew_before_chaining(tiny_clip):
    """--chained means nothing to unet: its runs must draw the same samples whatever it says."""
    clip = ClipWindows(tiny_clip, strides=(2,))
    draws = lambda chained: [SampleMix([clip], None, 0.0, 32, motion_seed=False, chained=chained).draw(rng)
                             for rng in [np.random.default_rng(1)] for _ in range(8)]
    for a, b in zip(draws(0.0), draws(0.8)):
        assert np.array_equal(a.target, b.target) and a.t == b.t and a.before is b.before is None


def test_time_reversal_swaps_the_neighbours_too():
    frame = lambda v: np.full((8, 8, 3), v, np.uint8)
    s = Sample(frame(2), frame(3), frame(4), 0.25, frame(1), frame(5))
    seen = set()
    for seed in range(16):
        a = augment(s, np.random.default_rng(seed))
        order = tuple(int(f[0, 0, 0]) for f in (a.before, a.frame0, a.frame1, a.target, a.after))
        assert (order, a.t) in {((1, 2, 3, 4, 5), 0.25), ((5, 3, 2, 4, 1), 0.75)}
        seen.add(order)
    assert len(seen) == 2


def test_neighbours_never_cross_the_validation_split(tiny_clip):
    clip = ClipWindows(tiny_clip, strides=(2,), holdout_every=2)
    assert clip.is_val.any() and not clip.is_val.all()
    for k in (2,):
        for i in clip.train_starts(k):
            s = clip.window(i, k, 1)
            for j, f in ((i - k, s.before), (i + 2 * k, s.after)):
                if f is not None:
                    assert not clip.is_val[j]
        for i, j in clip.val_windows(k):
            s = clip.window(i, k, j)
            assert s.before is None or clip.is_val[i - k]


def test_worker_processes_draw_repeatable_seeded_batches(tiny_clip, tmp_path):
    """--workers moves sampling (and DIS seeds) into other processes; the same run draws the same batches."""
    windows = ClipWindows(tiny_clip, strides=(2,), holdout_every=10)

    def first_batches(n):
        config = TrainConfig(arch="ode", steps=10, crop=48, batch_size=2, workers=2, val_every=1000)
        trainer = Trainer(config, [windows], None, [], tmp_path / "m.pt")
        return [trainer.next_batch() for _ in range(n)]

    a, b = first_batches(3), first_batches(3)
    assert all(torch.equal(x.target, y.target) and torch.equal(x.seed, y.seed) for x, y in zip(a, b))
    assert not torch.equal(a[0].target, a[1].target)  # the two workers do not repeat each other
    assert a[0].seed.shape == (2, 4, 48, 48)


def test_training_with_workers_finishes_and_checkpoints(tiny_clip, tmp_path):
    ckpt = tmp_path / "w.pt"
    result = vfi("train", tiny_clip, "-o", ckpt, "--steps", "3", "--crop", "48", "-b", "2", "--factor", "2",
                 "--val-every", "3", "--workers", "2", "--model", "unet", "--from-scratch", "-q")
    assert result.exit_code == 0, result.output
    assert read_checkpoint(ckpt.with_name("w.pt.resume"))["train_state"]["step"] == 3


def test_the_four_frame_model_learns_from_batches_made_on_the_device(tiny_clip, tmp_path):
    torch.manual_seed(0)
    windows = ClipWindows(tiny_clip, strides=(2,), holdout_every=10)
    config = TrainConfig(arch="ode4", steps=30, crop=64, batch_size=4, lr=2e-3, val_every=1000)
    trainer = Trainer(config, [windows], None, [], tmp_path / "m.pt")
    fixed = trainer.next_batch()
    assert fixed.before.shape == (4, 3, 64, 64) and bool(fixed.has_before.any())

    def loss_on_fixed_batch():
        with torch.no_grad():
            return float(charbonnier(*trainer.forward_batch(fixed)))

    before = loss_on_fixed_batch()
    trainer.next_batch = lambda: fixed  # fit one batch: the gradients reach the motion and the fusion
    for _ in range(30):
        trainer.train_step()
    assert loss_on_fixed_batch() < 0.8 * before
    assert trainer.timing["steps"] == 30 and 0 < trainer.timing["data"] < trainer.timing["step"]


def test_a_resumed_device_data_run_repeats_the_unbroken_one(tiny_clip, tmp_path):
    """Each step's batch comes from seeds of its own: 2 steps, a resume, 2 more give what 4 steps give."""
    windows = ClipWindows(tiny_clip, strides=(2,), holdout_every=10)
    synth = SyntheticMotion()
    config = lambda: TrainConfig(arch="unet", steps=4, crop=32, batch_size=2, device_data=True,
                                 synthetic_fraction=0.5, val_every=1000)
    straight = Trainer(config(), [windows], synth, [], tmp_path / "a.pt")
    for _ in range(4):
        straight.train_step()
    first = Trainer(config(), [windows], synth, [], tmp_path / "b.pt")
    for _ in range(2):
        first.train_step()
    first.save_resume()
    resumed = Trainer(config(), [windows], synth, [], tmp_path / "b.pt")
    resumed.load_resume(first.resume_path)
    for _ in range(2):
        resumed.train_step()
    a, b = straight.net.state_dict(), resumed.net.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_train_reports_samples_per_second_and_the_data_share(tiny_clip, tmp_path):
    result = vfi("train", tiny_clip, "-o", tmp_path / "m.pt", "--steps", "2", "--crop", "32", "-b", "2", "--factor", "2",
                 "--val-every", "2", "-q", "--model", "ode4", "--from-scratch")
    assert result.exit_code == 0, result.output
    assert "samples/s" in result.output and "data " in result.output
