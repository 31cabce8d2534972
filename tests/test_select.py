"""The `select` interpolator: candidate motions weighed by its network, fitted to a clip by `vfi train`."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from conftest import make_clip, moving_frames, vfi
from vfi.models.checkpoint import read_checkpoint, save_checkpoint
from vfi.models.select import SelectConfig, SelectInterpolator, SelectNet
from vfi.registry import create
from vfi.training.synthetic import fast_sprites


@pytest.fixture
def untrained(tmp_path):
    torch.manual_seed(0)
    return save_checkpoint(tmp_path / "select0.pt", SelectNet(SelectConfig(width=8, network_scale=0.5)), "select", {})


def test_a_checkpoint_loads_as_the_select_interpolator_and_records_what_ran(untrained):
    model = create(str(untrained))
    assert isinstance(model, SelectInterpolator)
    scene = fast_sprites(120, 160, np.random.default_rng(0))
    a, b = scene.render(0.0), scene.render(1.0)
    out = model.interpolate(a[None], b[None], [0.0, 0.5, 1.0])[0]
    assert np.array_equal(out[0], a) and np.array_equal(out[2], b)
    assert model.last.names[0] == "seeded" and sum(model.last.counts) == len(SelectConfig().candidates)
    assert {"matches", "matched"} <= set(model.last.milliseconds)


def test_vfi_train_fits_the_selector_to_a_clip_and_reports_the_held_out_gain(untrained, tmp_path):
    clip = make_clip(tmp_path / "clip.mkv", moving_frames(41, h=160, w=224))
    out = tmp_path / "fitted.pt"
    result = vfi("train", clip, "-o", out, "--model", untrained, "--steps", "6", "-b", "4", "--holdout-every", "3")
    assert result.exit_code == 0, result.output
    assert "held-out PSNR: flow" in result.output
    fitted, start = read_checkpoint(out), read_checkpoint(untrained)
    held = fitted["meta"]["held_out"]
    same = all(torch.equal(fitted["state_dict"][k], v) for k, v in start["state_dict"].items())
    assert same == (held["after"] < held["before"])  # the weights that scored better on held-out frames are kept
    assert fitted["meta"]["fitted"]["steps"] == 6 and isinstance(create(str(out)), SelectInterpolator)


def test_vfi_train_says_when_a_clip_is_too_small_for_the_selector(untrained, tmp_path):
    clip = make_clip(tmp_path / "small.mkv", moving_frames(25, h=96, w=128))
    result = vfi("train", clip, "-o", tmp_path / "fitted.pt", "--model", untrained, "--steps", "2")
    assert result.exit_code != 0 and "too small to fit the selector" in result.output
    assert not (tmp_path / "fitted.pt").exists()


def test_the_log_mse_loss_is_the_mean_psnr_of_the_crops_turned_round():
    """Lowering it raises the mean per-crop PSNR, the figure the benchmark reports (not the PSNR of the
    mean error, which an L1 or a plain MSE lowers)."""
    from vfi.training.losses import log_mse

    truth = torch.rand(3, 3, 8, 8, generator=torch.Generator().manual_seed(0))
    pred = truth + torch.tensor([0.01, 0.05, 0.2]).view(3, 1, 1, 1)  # 40, 26 and 14 dB
    psnr = -10 * torch.log10(((pred - truth) ** 2).mean(dim=(1, 2, 3)))
    loss = log_mse(pred, truth, floor=0.0)
    assert torch.allclose(loss, -psnr.mean() * np.log(10) / 10, atol=1e-5)
    assert log_mse(truth, truth) == pytest.approx(np.log(1e-5))  # a perfect crop is capped at 50 dB
