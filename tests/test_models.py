"""Every registered interpolator, learned or classical, honours the interface and its exact solutions."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch

from vfi.core.metrics import psnr
from vfi.models.architectures import build_network
from vfi.models.adapter import ModelInterpolator
from vfi.registry import available, create, weights_dir
from vfi.training.synthetic import Layer, Motion, Scene, random_texture

NAMES = [entry.name for entry in available()]
MOTION_MODELS = ["flow", "ode", "ode-linear", "select"]


@pytest.fixture(scope="module")
def models():
    return {name: create(name) for name in NAMES}


def texture_pair(dx: float, dy: float, h=96, w=128, seed=3):
    rng = np.random.default_rng(seed)
    scene = Scene(h, w, [Layer(random_texture(h * 2, w * 2, rng), Motion(p0=(-w / 2, -h / 2), v=(dx, dy)))])
    return scene.render(0.0), scene.render(1.0), scene


def test_the_model_list_shows_the_choices_first_and_ablations_only_on_request():
    from conftest import vfi

    listed = vfi("models").output
    names = [line.split()[1] for line in listed.splitlines() if line.startswith("│") and line.split()[1] in NAMES]
    assert names[:2] == ["select", "flow"]
    assert {"ode", "unet", "mci", "blend", "dup"} <= set(names)
    assert not {"agree", "ode-linear", "motion-matched"} & set(names) and "--all" in listed
    every = vfi("models", "--all").output
    assert "agree" in every and "ablation" in every
    assert "34.83 / 32.20" in listed  # measured quality beside each choice


def test_every_registered_model_loads(models):
    assert {"dup", "blend", "flow", "ode", "ode-linear", "unet", "select"} <= set(NAMES)
    for name, model in models.items():
        assert model.name == name


@pytest.mark.parametrize("name", NAMES)
def test_shapes_and_odd_sizes(models, name):
    rng = np.random.default_rng(0)
    f0, f1 = (rng.integers(0, 256, (2, 37, 53, 3), dtype=np.uint8) for _ in range(2))
    out = models[name].interpolate(f0, f1, [0.25, 0.5, 0.75])
    assert out.shape == (2, 3, 37, 53, 3) and out.dtype == np.uint8


@pytest.mark.parametrize("bad", [np.zeros((1, 8, 8, 3), np.float32), np.zeros((8, 8, 3), np.uint8),
                                 np.zeros((1, 8, 8, 2), np.uint8)])
def test_frames_the_interface_cannot_take_are_refused_with_a_message(models, bad):
    with pytest.raises(ValueError, match="expected"):
        models["blend"].interpolate(bad, bad, [0.5])


@pytest.mark.parametrize("name", NAMES)
def test_t0_and_t1_return_the_inputs(models, name):
    a, b, _ = texture_pair(5, -3)
    out = models[name].interpolate(a[None], b[None], [0.0, 1.0])
    assert np.array_equal(out[0, 0], a)
    if name != "dup":
        assert np.array_equal(out[0, 1], b)


@pytest.mark.parametrize("name", NAMES)
def test_a_still_video_stays_still(models, name):
    a, _, _ = texture_pair(0, 0)
    out = models[name].interpolate(a[None], a[None], [0.25, 0.5, 0.75])
    for frame in out[0]:
        if name == "mci":  # ffmpeg's filter: invisible to the eye, not bit-exact
            assert psnr(frame, a) > 45 and np.abs(frame.astype(int) - a).mean() < 0.5, name
        else:  # ours: bit-exact, so still frames of flat cartoons stay at their full quality
            assert np.array_equal(frame, a), name


def test_unet_leaves_what_did_not_change_untouched():
    """By design, not by training: even a network with random weights may not touch still pixels."""
    torch.manual_seed(0)
    net = build_network("unet")
    torch.nn.init.normal_(net.head[-1].weight, std=0.1)  # a loud, untrained correction
    unet = ModelInterpolator(net, "unet", "random unet")
    a, _, _ = texture_pair(0, 0)
    b = a.copy()
    b[10:30, 12:40] = 255 - b[10:30, 12:40]  # a patch changes in one corner, the rest is still
    out = unet.interpolate(a[None], b[None], [0.3, 0.5])[0]
    blend = lambda t: np.clip(np.round((1 - t) * a + t * b.astype(float)), 0, 255).astype(np.uint8)
    near = np.zeros(a.shape[:2], bool)
    near[10 - 4:30 + 4, 12 - 4:40 + 4] = True  # the gate's 9-pixel window around the change
    for frame, t in zip(out, (0.3, 0.5)):
        assert np.array_equal(frame[~near], a[~near])
        assert np.abs(frame[near].astype(int) - blend(t)[near]).max() > 8  # the correction is live there
    assert np.array_equal(unet.interpolate(a[None], a[None], [0.5])[0, 0], a)


def measured_shift(frame: np.ndarray, reference: np.ndarray) -> np.ndarray:
    g = lambda f: cv2.cvtColor(f, cv2.COLOR_RGB2GRAY).astype(np.float64)
    (sx, sy), _ = cv2.phaseCorrelate(g(reference), g(frame))
    return np.array([sx, sy])


def misalignment(name, models, dx, dy, t):
    """Sub-pixel shift between the interpolated frame and the true frame at t (borders excluded)."""
    a, b, scene = texture_pair(dx, dy)
    frame = models[name].interpolate(a[None], b[None], [t])[0, 0][16:-16, 16:-16]
    truth = scene.render(t)[16:-16, 16:-16]
    return np.abs(measured_shift(frame, truth)).max(), psnr(frame, truth)


@pytest.mark.parametrize("name", MOTION_MODELS)
@pytest.mark.parametrize("dx, dy", [(6.0, 0.0), (-4.0, 5.0)])
@pytest.mark.parametrize("t", [0.25, 0.5])
def test_a_known_translation_is_reproduced(models, name, dx, dy, t):
    shift, quality = misalignment(name, models, dx, dy, t)
    assert shift < 0.25 and quality > 30, (shift, quality)


def test_the_translation_check_catches_a_method_without_motion(models):
    shift, quality = misalignment("dup", models, -4.0, 5.0, 0.5)
    assert shift > 1.0 and quality < 30


@pytest.mark.parametrize("name", ["blend", "flow", "ode", "unet", "select"])
def test_swapping_the_frames_mirrors_time(models, name):
    a, b, _ = texture_pair(4, 2)
    forward = models[name].interpolate(a[None], b[None], [0.3])[0, 0]
    backward = models[name].interpolate(b[None], a[None], [0.7])[0, 0]
    assert psnr(forward, backward) > 35


def test_learned_weights_are_small_and_have_short_model_cards():
    for name, limit_mb in (("ode", 20), ("unet", 20), ("select", 5), ("taught", 5), ("select-taught", 5)):
        path = weights_dir() / f"{name}.pt"
        assert path.stat().st_size < limit_mb * 2 ** 20
        assert (weights_dir() / f"{name}.md").stat().st_size < 5000  # history goes to docs/training.md


def test_the_readme_quotes_the_figures_vfi_models_shows():
    from pathlib import Path

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    quoted = {}
    for row in readme.splitlines():
        cells = [cell.strip().strip("*") for cell in row.strip("|").split("|")]
        if len(cells) == 7 and cells[0].strip("`") in NAMES:
            quoted[cells[0].strip("`")] = (cells[3], cells[6])
    shown = {entry.name: entry for entry in available(ablations=False)}
    assert set(quoted) == set(shown)
    for name, (quality, speed) in quoted.items():
        measured = shown[name].measured
        assert quality == f"{measured.x2:.2f} / {measured.x4:.2f}", name
        assert float(speed.split()[0]) == measured.ms_720p, name


def test_ode_cpu_fast_path_matches_the_tensor_path(models):
    a, b, scene = texture_pair(7, -2, h=101, w=133)
    fast = models["ode"].interpolate(a[None], b[None], [0.3, 0.5])
    ode = models["ode"]
    in_torch = ModelInterpolator(ode.net, "ode", "ode", opencv_compose=False)
    assert ode.capabilities.light_full_size and not in_torch.capabilities.light_full_size
    reference = in_torch.interpolate(a[None], b[None], [0.3, 0.5])
    for j in range(2):
        assert psnr(fast[0, j], reference[0, j]) > 45


def test_motion_seeds_can_be_computed_from_several_threads_at_once():
    """One DIS instance shared by two threads crashes the process; each thread must get its own."""
    from concurrent.futures import ThreadPoolExecutor

    from vfi.models.seed import dis_flows
    from vfi.training.synthetic import make_scene

    scene = make_scene("occlusion", 180, 320, seed=1)
    a, b = scene.render(0.0), scene.render(1.0)
    alone = dis_flows(a, b, (180, 320))
    with ThreadPoolExecutor(4) as pool:
        together = list(pool.map(lambda _: dis_flows(a, b, (180, 320)), range(16)))
    assert all(np.array_equal(f, alone) for f in together)
