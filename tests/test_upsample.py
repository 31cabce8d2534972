"""`vfi upsample` end to end on generated clips: counts, timing, pixels, audio, failures."""

from __future__ import annotations

import signal
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from conftest import audio_seconds, calls_of, make_clip, moving_frames, vfi
from vfi.io.decode import read_frames
from vfi.io.ffmpeg import ffmpeg_exe
from vfi.io.probe import probe



def no_leftovers(folder: Path, allowed=("in.mp4",)):
    return sorted(p.name for p in folder.iterdir() if p.name not in allowed) == []


@pytest.mark.parametrize("factor", [2, 3, 4])
def test_factor_multiplies_frames_and_rate(clip, tmp_path, factor):
    out = tmp_path / "out.mp4"
    result = vfi("upsample", clip, "-o", out, "--factor", factor, "--lossless", "-q")
    assert result.exit_code == 0, result.output
    info = probe(out)
    assert info.fps == 24 * factor
    frames_in, frames_out = read_frames(clip), read_frames(out)
    assert len(frames_out) == len(frames_in) * factor
    for i, frame in enumerate(frames_in):  # real frames pass through bit-exact
        assert np.array_equal(frames_out[i * factor], frame)


def test_the_default_model_is_select_and_flow_is_one_flag_away(tmp_path):
    src = make_clip(tmp_path / "in.mp4", moving_frames(6, scene="ball"))
    outputs = {}
    for name, model in (("default", []), ("select", ["-m", "select"]), ("flow", ["-m", "flow"])):
        outputs[name] = tmp_path / f"{name}.mkv"
        result = vfi("upsample", src, "-o", outputs[name], "-f", "2", "--lossless", *model)
        assert result.exit_code == 0, result.output
    default, select, flow = (read_frames(outputs[name]) for name in ("default", "select", "flow"))
    assert len(default) == len(select) == 12
    assert all(np.array_equal(a, b) for a, b in zip(default, select))
    assert not all(np.array_equal(a, b) for a, b in zip(default, flow))  # the check can tell two models apart


@pytest.mark.parametrize("fps_in, target, expected_fps", [
    (Fraction(24), "60", Fraction(60)),
    (Fraction(30000, 1001), "60000/1001", Fraction(60000, 1001)),
])
def test_fps_target_gives_exact_rate_and_duration(tmp_path, fps_in, target, expected_fps):
    src = make_clip(tmp_path / "in.mp4", moving_frames(12), fps=fps_in)
    assert probe(src).fps == fps_in
    out = tmp_path / "out.mp4"
    result = vfi("upsample", src, "-o", out, "--fps", target, "-q")
    assert result.exit_code == 0, result.output
    assert probe(out).fps == expected_fps
    n_out = len(read_frames(out))
    assert n_out == int(np.ceil(12 * expected_fps / fps_in))


def test_24_to_60_in_between_frames_sit_at_the_right_times(tmp_path):
    """With a linear cross-fade the exact t of every output frame can be read off its pixels."""
    frames = [np.full((16, 16, 3), v, np.uint8) for v in (0, 250, 0, 250, 0)]
    src = make_clip(tmp_path / "in.mp4", frames, fps=24)
    out = tmp_path / "out.mp4"
    assert vfi("upsample", src, "-o", out, "--fps", "60", "-m", "blend", "--lossless", "--scene-threshold", "0",
               "-q").exit_code == 0
    got = [f[..., 0].mean() for f in read_frames(out)]
    times = [Fraction(k * 24, 60) for k in range(len(got))]
    for value, time in zip(got, times):
        i, t = int(time), time - int(time)
        a, b = frames[i][0, 0, 0], frames[min(i + 1, 4)][0, 0, 0]
        assert abs(value - ((1 - t) * a + t * b)) <= 1.0


def test_audio_is_kept_and_durations_match(tmp_path):
    src = make_clip(tmp_path / "in.mp4", moving_frames(24), audio=True)
    out = tmp_path / "out.mp4"
    assert vfi("upsample", src, "-o", out, "--factor", "2", "-q").exit_code == 0
    info = probe(out)
    assert info.has_audio and info.audio_codecs == ("aac",)
    video_seconds = len(read_frames(out)) / float(info.fps)
    assert abs(audio_seconds(out) - video_seconds) <= 1 / 24 + 0.03  # one input frame, plus AAC padding
    assert abs(audio_seconds(out) - audio_seconds(src)) < 1e-3  # copied, not re-encoded


def test_no_audio_in_means_no_audio_out(clip, tmp_path):
    out = tmp_path / "out.mp4"
    assert vfi("upsample", clip, "-o", out, "--factor", "2", "-q").exit_code == 0
    assert not probe(out).has_audio


def test_odd_frame_size_survives(tmp_path):
    src = make_clip(tmp_path / "in.mp4", moving_frames(4, h=241, w=321))
    out = tmp_path / "out.mp4"
    result = vfi("upsample", src, "-o", out, "--factor", "2", "-q")
    assert result.exit_code == 0, result.output
    info = probe(out)
    assert (info.width, info.height) == (321, 241)
    assert len(read_frames(out)) == 8


@pytest.mark.parametrize("codec, suffix", [("libx265", ".mp4"), ("ffv1", ".mkv"), ("prores", ".mov"), ("vp9", ".webm")])
def test_other_codecs_write_playable_files(clip, tmp_path, codec, suffix):
    out = tmp_path / f"out{suffix}"
    result = vfi("upsample", clip, "-o", out, "--factor", "2", "--codec", codec, "-q")
    assert result.exit_code == 0, result.output
    assert len(read_frames(out)) == 20


@pytest.mark.parametrize("model", [["-m", "blend"], []])  # the blend shows any mixing plainly; the default
def test_scene_cut_is_never_blended(tmp_path, model):
    a, b = moving_frames(5, seed=1), moving_frames(5, seed=2, scene="digits")
    src = make_clip(tmp_path / "in.mp4", a + b)
    out = tmp_path / "out.mp4"
    assert vfi("upsample", src, "-o", out, "--factor", "4", *model, "--lossless", "-q").exit_code == 0
    frames = read_frames(out)
    between = frames[4 * 4 + 1: 4 * 4 + 4]  # the in-between frames of the pair (a[4], b[0])
    for frame in between:
        assert np.array_equal(frame, a[4]) or np.array_equal(frame, b[0])
    # away from the cut the blend does blend
    assert not any(np.array_equal(frames[5], f) for f in (a[1], a[2]))


def test_existing_output_needs_force(clip, tmp_path):
    out = tmp_path / "out.mp4"
    out.write_bytes(b"precious")
    result = vfi("upsample", clip, "-o", out, "--factor", "2", "-q")
    assert result.exit_code == 1 and "--force" in result.output
    assert out.read_bytes() == b"precious"
    assert vfi("upsample", clip, "-o", out, "--factor", "2", "-q", "--force").exit_code == 0
    assert len(read_frames(out)) == 20


def test_input_is_never_overwritten(clip):
    before = clip.read_bytes()
    for extra in ([], ["--force"]):
        result = vfi("upsample", clip, "-o", clip, "--factor", "2", "-q", *extra)
        assert result.exit_code == 1 and "overwrite the input" in result.output
    assert clip.read_bytes() == before


def one_frame_clip(tmp_path):
    return make_clip(tmp_path / "one.mp4", moving_frames(1))


@pytest.mark.parametrize("make_args, message", [
    (lambda d, c: [d / "missing.mp4", "-o", d / "o.mp4", "--factor", "2"], "no such file"),
    (lambda d, c: [d, "-o", d / "o.mp4", "--factor", "2"], "needs a folder"),
    (lambda d, c: [(d / "notes.txt").write_text("hello") and d / "notes.txt", "-o", d / "o.mp4", "--factor", "2"],
     "not a video"),
    (lambda d, c: [one_frame_clip(d), "-o", d / "o.mp4", "--factor", "2"], "at least 2"),
    (lambda d, c: [c, "-o", d / "o.mp4", "--factor", "1"], "at least 2"),
    (lambda d, c: [c, "-o", d / "o.mp4", "--fps", "20"], "is below"),
    (lambda d, c: [c, "-o", d / "o.mp4", "--fps", "fast"], "invalid frame rate"),
    (lambda d, c: [c, "-o", d / "nowhere" / "o.mp4", "--factor", "2"], "does not exist"),
    (lambda d, c: [c, "-o", d / "o.mp4", "--factor", "2", "-m", "magic"], "unknown model"),
    (lambda d, c: [c, "-o", d / "o.mp4", "--factor", "2", "--codec", "mpeg2"], "unknown codec"),
    (lambda d, c: [c, "-o", d / "o.mp4"], "--factor"),
])
def test_bad_input_gives_one_line_and_exit_1(clip, tmp_path, make_args, message):
    result = vfi("upsample", *make_args(tmp_path, clip))
    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output and len(result.output.strip().splitlines()) == 1
    assert not (tmp_path / "o.mp4").exists()


def test_failure_midway_leaves_no_output(clip, tmp_path, monkeypatch):
    from vfi.classic import Blend

    calls_of(monkeypatch, Blend, fail_on=2, error=OSError("disk on fire"))
    out = tmp_path / "out.mp4"
    result = vfi("upsample", clip, "-o", out, "--factor", "2", "-m", "blend", "-b", "1", "-q")
    assert result.exit_code == 1 and "disk on fire" in result.output
    assert no_leftovers(tmp_path)


def test_ctrl_c_stops_cleanly_and_leaves_nothing(tmp_path):
    src = make_clip(tmp_path / "in.mp4", moving_frames(240, h=256, w=320))
    out = tmp_path / "out.mp4"
    proc = subprocess.Popen([sys.executable, "-m", "vfi", "upsample", str(src), "-o", str(out), "--factor", "8",
                             "-m", "flow", "-b", "1"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    # wait until encoding has started (the partial file appears), then interrupt
    for _ in range(300):
        if any(p.name.startswith(".out.") for p in tmp_path.iterdir()) or proc.poll() is not None:
            break
        subprocess.run(["sleep", "0.1"])
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr.decode()
    assert b"interrupted" in stderr and b"Traceback" not in stderr
    assert no_leftovers(tmp_path)


def test_audio_the_container_cannot_hold_is_reencoded_with_a_note(tmp_path):
    silent = make_clip(tmp_path / "silent.mkv", moving_frames(12))
    src = tmp_path / "in.mkv"
    subprocess.run([ffmpeg_exe(), "-v", "error", "-i", str(silent), "-f", "lavfi", "-i", "sine=duration=0.5",
                    "-map", "0:v", "-map", "1:a", "-c:v", "copy", "-c:a", "pcm_s16le", str(src)], check=True)
    out = tmp_path / "out.webm"
    result = vfi("upsample", src, "-o", out, "--factor", "2", "--codec", "vp9")
    assert result.exit_code == 0, result.output
    assert "note" in result.output and "re-encoded as libopus" in result.output
    assert probe(out).audio_codecs == ("opus",)
