"""`vfi benchmark`: numbers that match an independent computation, dataset layouts, and the CI gate."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from conftest import make_clip, moving_frames, vfi
from test_metrics import numpy_psnr, numpy_ssim
from vfi.bench.report import markdown_report, methods_in



def test_video_protocol_matches_independent_computation(tmp_path):
    frames = moving_frames(9, h=48, w=64)
    clip = make_clip(tmp_path / "clip.mp4", frames)
    report = tmp_path / "r.json"
    result = vfi("benchmark", clip, "-f", "2", "--methods", "blend,dup", "--json", report, "-q")
    assert result.exit_code == 0, result.output
    got = json.loads(report.read_text())["datasets"]["clip.mp4"]["x2"]
    dropped = [1, 3, 5, 7]
    blend = [np.round((frames[i - 1].astype(float) + frames[i + 1]) / 2).astype(np.uint8) for i in dropped]
    assert got["blend"]["frames"] == 4
    assert abs(got["blend"]["psnr"] - np.mean([numpy_psnr(b, frames[i]) for b, i in zip(blend, dropped)])) < 1e-3
    assert abs(got["blend"]["ssim"] - np.mean([numpy_ssim(b, frames[i]) for b, i in zip(blend, dropped)])) < 1e-4
    assert abs(got["dup"]["psnr"] - np.mean([numpy_psnr(frames[i - 1], frames[i]) for i in dropped])) < 1e-3


def test_factor_4_scores_every_dropped_frame_with_per_t_values(tmp_path):
    clip = make_clip(tmp_path / "clip.mp4", moving_frames(13, h=48, w=64))
    report = tmp_path / "r.json"
    assert vfi("benchmark", clip, "-f", "4", "--methods", "blend", "--json", report, "-q").exit_code == 0
    got = json.loads(report.read_text())["datasets"]["clip.mp4"]["x4"]["blend"]
    assert got["frames"] == 9  # 3 windows x 3 dropped frames; the tail is never scored
    assert set(got["per_t_psnr"]) == {"0.250", "0.500", "0.750"}
    assert got["per_t_psnr"]["0.500"] < got["per_t_psnr"]["0.250"]  # blending sags in the middle


def test_windows_across_a_scene_cut_are_skipped_and_counted(tmp_path):
    frames = moving_frames(5, seed=1) + moving_frames(5, seed=2, scene="digits")
    clip = make_clip(tmp_path / "clip.mp4", frames)
    report = tmp_path / "r.json"
    assert vfi("benchmark", clip, "-f", "2", "--methods", "blend", "--json", report, "-q").exit_code == 0
    got = json.loads(report.read_text())["datasets"]["clip.mp4"]["x2"]["blend"]
    assert got["skipped"] == 1 and got["frames"] == 3  # dropped 1, 3, 5, 7; 5 lies across the cut (4 -> 6)


def triplet_folders(tmp_path):
    frames = moving_frames(3, h=40, w=48)
    ucf = tmp_path / "ucf"
    for i in range(2):
        d = ucf / f"{i:03d}"
        d.mkdir(parents=True)
        for name, f in zip(("frame_00.png", "frame_01_gt.png", "frame_02.png"), frames):
            cv2.imwrite(str(d / name), f[..., ::-1])
    mb = tmp_path / "middlebury"
    (mb / "input" / "Seq").mkdir(parents=True)
    (mb / "gt" / "Seq").mkdir(parents=True)
    cv2.imwrite(str(mb / "input" / "Seq" / "frame10.png"), frames[0][..., ::-1])
    cv2.imwrite(str(mb / "input" / "Seq" / "frame11.png"), frames[2][..., ::-1])
    cv2.imwrite(str(mb / "gt" / "Seq" / "frame10i11.png"), frames[1][..., ::-1])
    return frames, ucf, mb


def test_triplet_layouts_are_recognised_and_scored(tmp_path):
    frames, ucf, mb = triplet_folders(tmp_path)
    report = tmp_path / "r.json"
    assert vfi("benchmark", ucf, mb, "--methods", "blend", "--json", report, "-q").exit_code == 0
    got = json.loads(report.read_text())["datasets"]
    assert got["ucf"]["kind"] == "ucf101" and got["middlebury"]["kind"] == "middlebury"
    blend = np.round((frames[0].astype(float) + frames[2]) / 2).astype(np.uint8)
    assert got["ucf"]["x2"]["blend"]["frames"] == 2
    assert abs(got["ucf"]["x2"]["blend"]["psnr"] - numpy_psnr(blend, frames[1])) < 1e-3
    ie = np.abs(blend.astype(float) - frames[1]).mean()
    assert abs(got["middlebury"]["x2"]["blend"]["ie"] - ie) < 1e-6


def test_examples_are_written(tmp_path):
    _, ucf, _ = triplet_folders(tmp_path)
    out = tmp_path / "examples"
    assert vfi("benchmark", ucf, "--methods", "blend,dup", "--save-examples", out, "-q").exit_code == 0
    pngs = list(out.glob("*.png"))
    assert pngs and cv2.imread(str(pngs[0])).shape[1] == 48 * 4  # truth | blend | dup | error


def test_example_strips_show_every_method_on_the_same_frame(tmp_path):
    """Each strip holds the lead method's worst frame as every method drew it, not a blank
    where that frame was not among another method's own worst."""
    rng = np.random.default_rng(0)
    texture = rng.integers(80, 120, (48, 64, 3)).astype(float)
    frames = [np.clip(texture * (0.3 + 0.12 * i), 0, 255).astype(np.uint8) for i in range(9)]  # a fade
    for i in range(1, 9):  # then a small dot moving over the still picture
        f = frames[8].copy()
        f[20:22, 4 + 4 * i:6 + 4 * i] = 200
        frames.append(f)
    # blend is exact on the fade and worst on the square; dup worst on the fade
    clip = make_clip(tmp_path / "clip.mkv", frames)
    out = tmp_path / "examples"
    assert vfi("benchmark", clip, "-f", "2", "--methods", "blend,dup", "--save-examples", out, "-q").exit_code == 0
    pngs = sorted(out.glob("*.png"))
    assert len(pngs) == 2
    for png in pngs:
        strip = cv2.cvtColor(cv2.imread(str(png)), cv2.COLOR_BGR2RGB)
        truth, blend, dup = strip[:, :64], strip[:, 64:128], strip[:, 128:192]
        assert any(np.array_equal(dup, f) for f in frames[::2])  # dup repeats a kept frame
        assert not np.array_equal(blend, truth) and blend.any()


@pytest.fixture
def reference(tmp_path):
    clip = make_clip(tmp_path / "clip.mp4", moving_frames(9, h=64, w=96))
    ref = tmp_path / "ref.json"
    result = vfi("benchmark", clip, "-f", "2", "--methods", "dup,blend,flow", "--write-reference", ref, "-q")
    assert result.exit_code == 0, result.output
    return clip, ref


def test_gate_passes_on_unchanged_code(reference):
    clip, ref = reference
    result = vfi("benchmark", clip, "-f", "2", "--methods", "dup,blend,flow", "--check", ref, "-q")
    assert result.exit_code == 0, result.output
    assert "quality gate passed" in result.output


def test_gate_fails_when_a_method_gets_worse(reference, monkeypatch):
    from vfi.classic import FlowWarp

    original = FlowWarp.warp_blend

    def worse(self, img0, img1, pair, t):  # a deliberate regression: a slight blur
        return cv2.blur(original(self, img0, img1, pair, t), (3, 3))

    monkeypatch.setattr(FlowWarp, "warp_blend", worse)
    clip, ref = reference
    result = vfi("benchmark", clip, "-f", "2", "--methods", "dup,blend,flow", "--check", ref, "-q")
    assert result.exit_code == 1
    assert "regression" in result.output and "flow" in result.output


def test_gate_fails_when_the_ordering_breaks(reference, monkeypatch):
    from vfi.classic import Blend, Duplicate

    monkeypatch.setattr(Blend, "interpolate", lambda self, f0, f1, t: Duplicate().interpolate(f0, f1, t))
    clip, ref = reference
    result = vfi("benchmark", clip, "-f", "2", "--methods", "dup,blend,flow", "--check", ref, "--margin", "100", "-q")
    assert result.exit_code == 1 and "expected dup < blend" in result.output


@pytest.mark.parametrize("report", sorted(p.stem for p in (Path(__file__).parent.parent / "reports").glob("*.json")))
def test_each_committed_report_table_is_its_json_rendered(report):
    """reports/X.md is what `--markdown` prints for reports/X.json: a table never lags its numbers."""
    folder = Path(__file__).parent.parent / "reports"
    results = json.loads((folder / f"{report}.json").read_text())
    expected = markdown_report(results, methods_in(results))
    assert (folder / f"{report}.md").read_text().rstrip("\n") == expected
