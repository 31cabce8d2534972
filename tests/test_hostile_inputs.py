"""Hostile inputs, third round: checkpoints that do not fit, render-farm numbering, odd file names,
incomplete benchmark sets, leftovers and options checked too late.

Every input is generated here; each case is one a user met: a traceback, a false message, a file
left behind, or a failure that came only after the work was done."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest
import torch

from conftest import make_clip, moving_frames, vfi
from vfi.io.decode import read_frames
from vfi.io.images import write_image
from vfi.io.output_lock import lock_path
from vfi.registry import weights_dir
from vfi.pipeline import segments


def one_line_error(result, *words: str) -> None:
    """Exit 1 with one line that says what is wrong: no traceback, no uncaught exception."""
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    lines = [line for line in result.output.strip().splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    for word in words:
        assert word in lines[0], lines[0]


# -- checkpoints that do not load ---------------------------------------------------------------------

def broken_checkpoints(folder: Path) -> dict[str, Path]:
    unet = torch.load(weights_dir() / "unet.pt", map_location="cpu", weights_only=True)
    cases = {
        "mislabelled": dict(unet, arch="ode"),  # U-Net weights and config under another architecture's name
        "no_weights": {k: v for k, v in unet.items() if k != "state_dict"},
        "config_not_a_table": dict(unet, config=[1, 2, 3]),
        "weights_not_tensors": dict(unet, state_dict={"x": 1}),
    }
    paths = {}
    for name, payload in cases.items():
        paths[name] = folder / f"{name}.pt"
        torch.save(payload, paths[name])
    return paths


@pytest.fixture(scope="module")
def broken(tmp_path_factory) -> dict[str, Path]:
    return broken_checkpoints(tmp_path_factory.mktemp("checkpoints"))


@pytest.mark.parametrize("case", ["mislabelled", "no_weights", "config_not_a_table", "weights_not_tensors"])
def test_a_checkpoint_that_does_not_load_is_one_line_in_every_command(broken, tmp_path, case):
    clip = make_clip(tmp_path / "in.mkv", moving_frames(8))
    image = tmp_path / "a.png"
    write_image(image, moving_frames(1)[0])
    checkpoint = broken[case]
    commands = [
        ("upsample", clip, "-o", tmp_path / "out.mkv", "-f", "2", "-m", checkpoint),
        ("interpolate", image, image, "-o", tmp_path / "mid_%d.png", "-m", checkpoint),
        ("benchmark", clip, "--methods", f"flow,{checkpoint}"),
        ("train", clip, "-o", tmp_path / "fit.pt", "-m", checkpoint, "--steps", "1"),
    ]
    for command in commands:
        one_line_error(vfi(*command), checkpoint.name)
    assert not (tmp_path / "out.mkv").exists() and not (tmp_path / "fit.pt").exists()


# -- image sequences numbered from anywhere -------------------------------------------------------------

@pytest.mark.parametrize("first", [100, 1001, 7])
def test_an_image_sequence_is_read_from_its_first_number(tmp_path, first):
    frames = moving_frames(4)
    folder = tmp_path / "farm"
    folder.mkdir()
    for i, frame in enumerate(frames):
        write_image(folder / f"{first + i:04d}.png", frame)
    out = tmp_path / "out.mkv"
    result = vfi("upsample", folder / "%04d.png", "-o", out, "-f", "2", "-m", "blend", "--input-fps", "24",
                 "--lossless")
    assert result.exit_code == 0, result.output
    got = read_frames(out)
    assert len(got) == 8 and np.array_equal(got[0], frames[0]) and np.array_equal(got[6], frames[3])


def test_a_pattern_that_matches_nothing_says_so(tmp_path):
    (tmp_path / "empty").mkdir()
    one_line_error(vfi("upsample", tmp_path / "empty" / "%04d.png", "-o", tmp_path / "o.mkv", "-f", "2"),
                   "no images")


# -- odd names ----------------------------------------------------------------------------------------------

def test_a_newline_in_the_names_works(tmp_path):
    src = make_clip(tmp_path / "in\nput.mkv", moving_frames(6), audio=False)
    out = tmp_path / "out\nput.mkv"
    result = vfi("upsample", src, "-o", out, "-f", "2", "-m", "blend", "--lossless", "--part-frames", "4")
    assert result.exit_code == 0, result.output
    assert len(read_frames(out)) == 12
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([src.name, out.name])


# -- leftovers and late checks --------------------------------------------------------------------------------

def test_a_refused_resume_leaves_no_lock_behind(tmp_path, monkeypatch):
    from conftest import calls_of
    from vfi.classic import Blend

    monkeypatch.setattr(segments, "PART_FRAMES", 4)
    src = make_clip(tmp_path / "in.mkv", moving_frames(10))
    out = tmp_path / "out.mkv"
    calls_of(monkeypatch, Blend, fail_on=3)  # interrupted with finished parts kept
    assert vfi("upsample", src, "-o", out, "-f", "2", "-m", "blend", "-b", "1").exit_code == 130
    assert segments.parts_folder(out).is_dir()
    lock_path(out).write_text("12345\n")  # as a run killed with -9 leaves it
    for changed in (["-f", "3"], ["-f", "2", "--lossless"]):
        result = vfi("upsample", src, "-o", out, *changed, "-m", "blend", "--resume")
        one_line_error(result, "different input or settings")
        assert not lock_path(out).exists()


@pytest.fixture
def no_benchmark_work(monkeypatch):
    """A benchmark that would start scoring fails the test: its checks must come first."""
    import vfi.bench.scoring

    def started(*args, **kwargs):
        raise AssertionError("the benchmark ran before its options were checked")

    monkeypatch.setattr(vfi.bench.scoring, "run_benchmark", started)


def test_a_malformed_reference_is_refused_before_the_benchmark_runs(tmp_path, no_benchmark_work):
    reference = tmp_path / "reference.json"
    reference.write_text('{"results": [1, 2,')
    one_line_error(vfi("benchmark", "--suite", "ci", "--check", reference), "reference.json")
    reference.write_text('[1, 2, 3]')  # JSON, but not a reference
    one_line_error(vfi("benchmark", "--suite", "ci", "--check", reference), "reference.json")


@pytest.mark.parametrize("option", ["--json", "--write-reference"])
def test_a_report_into_a_missing_folder_is_refused_before_the_benchmark_runs(tmp_path, no_benchmark_work, option):
    target = tmp_path / "missing" / "report.json"
    one_line_error(vfi("benchmark", "--suite", "ci", option, target), str(target.parent))


@pytest.mark.parametrize("codec, crf, allowed", [("libx264", 60, "0..51"), ("libx265", 63, "0..51"),
                                                 ("vp9", 64, "0..63")])
def test_crf_out_of_the_codecs_range_is_refused_before_any_work(clip, tmp_path, codec, crf, allowed):
    out = tmp_path / ("o.webm" if codec == "vp9" else "o.mkv")
    one_line_error(vfi("upsample", clip, "-o", out, "-f", "2", "-m", "blend", "--codec", codec, "--crf", str(crf)),
                   allowed)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.mp4"]


def test_crf_at_the_top_of_each_codecs_range_works(clip, tmp_path):
    for codec, crf, name in (("libx264", 51, "a.mkv"), ("libx265", 51, "b.mkv"), ("vp9", 63, "c.webm")):
        result = vfi("upsample", clip, "-o", tmp_path / name, "-f", "2", "-m", "blend", "--codec", codec,
                     "--crf", str(crf), "-q")
        assert result.exit_code == 0, result.output


# -- benchmark sets with incomplete items -------------------------------------------------------------------

def ucf_set(folder: Path, complete: int, lacking: dict[str, str]) -> Path:
    """UCF101 layout; each name in `lacking` misses the file it maps to."""
    frames = moving_frames(3)
    names = {"frame_00.png": frames[0], "frame_01_gt.png": frames[1], "frame_02.png": frames[2]}
    for i in range(complete + len(lacking)):
        item = folder / f"item{i}"
        item.mkdir(parents=True)
        for name, frame in names.items():
            if lacking.get(item.name) != name:
                write_image(item / name, frame)
    return folder


def middlebury_set(folder: Path, lacking: dict[str, str]) -> Path:
    frames = moving_frames(3)
    for seq in ("Alpha", "Beta", "Gamma"):
        (folder / "input" / seq).mkdir(parents=True)
        (folder / "gt" / seq).mkdir(parents=True)
        files = {f"input/{seq}/frame10.png": frames[0], f"input/{seq}/frame11.png": frames[2],
                 f"gt/{seq}/frame10i11.png": frames[1]}
        for name, frame in files.items():
            if lacking.get(seq) != name.split("/")[-1]:
                write_image(folder / name, frame)
    return folder


@pytest.mark.parametrize("layout, make, lacking", [
    ("ucf101", lambda f: ucf_set(f, 2, {"item2": "frame_01_gt.png"}), "item2"),
    ("ucf101", lambda f: ucf_set(f, 2, {"item2": "frame_02.png"}), "item2"),
    ("middlebury", lambda f: middlebury_set(f, {"Beta": "frame10i11.png"}), "Beta"),
    ("middlebury", lambda f: middlebury_set(f, {"Gamma": "frame11.png"}), "Gamma"),
])
def test_an_incomplete_triplet_is_named_not_skipped_silently(tmp_path, layout, make, lacking):
    folder = make(tmp_path / layout)
    report = tmp_path / "r.json"
    result = vfi("benchmark", folder, "--methods", "blend", "--json", report)
    assert result.exit_code == 0, result.output
    assert lacking in result.output and "incomplete" in result.output
    scored = json.loads(report.read_text())
    assert f"{lacking}" in json.dumps(scored)  # the report keeps the note too


# -- a phone's metadata ------------------------------------------------------------------------------------

PHONE_TAGS = {"com.apple.quicktime.make": "Apple", "com.apple.quicktime.model": "iPhone 15",
              "com.apple.quicktime.location.ISO6709": "+48.8577+002.2950+035.000/", "make": "Google",
              "model": "Pixel 9", "artist": "Ana", "location": "+48.8577+002.2950/"}


@pytest.mark.parametrize("suffix", [".mp4", ".mov", ".mkv"])
def test_a_phone_clips_recording_date_make_model_and_place_survive(tmp_path, suffix):
    from vfi.io.ffmpeg import ffmpeg_exe
    from vfi.io.libav import global_tags

    plain = make_clip(tmp_path / "plain.mp4", moving_frames(6), audio=True)
    phone = tmp_path / "phone.mp4"
    tags = [arg for key, value in PHONE_TAGS.items() for arg in ("-metadata", f"{key}={value}")]
    subprocess.run([ffmpeg_exe(), "-v", "error", "-i", str(plain), "-c", "copy", "-metadata",
                    "creation_time=2026-05-04T10:20:30.000000Z", *tags, "-movflags", "use_metadata_tags",
                    str(phone)], check=True)
    assert global_tags(phone)["com.apple.quicktime.model"] == "iPhone 15"
    out = tmp_path / f"out{suffix}"
    result = vfi("upsample", phone, "-o", out, "-f", "2", "-m", "blend")
    assert result.exit_code == 0, result.output
    kept = {key.lower(): value for key, value in global_tags(out).items()}
    assert kept.get("creation_time", "").startswith("2026-05-04T10:20:30")
    for key, value in PHONE_TAGS.items():
        assert kept.get(key.lower()) == value, (key, kept)


# -- display matrices: turns and mirrors ------------------------------------------------------------------------

@pytest.mark.parametrize("rotation", [0, 90, 180, 270, 30])
@pytest.mark.parametrize("mirrored", [False, True])
def test_every_display_matrix_comes_out_meaning_what_it_meant(tmp_path, rotation, mirrored):
    from vfi.io.ffmpeg import ffmpeg_exe
    from vfi.io.libav import read_facts

    if rotation == 0 and not mirrored:
        pytest.skip("no matrix")
    plain = make_clip(tmp_path / "plain.mp4", moving_frames(4, h=48, w=96))
    src = tmp_path / "phone.mp4"
    subprocess.run([ffmpeg_exe(), "-v", "error", "-display_rotation", str(rotation),
                    *(["-display_hflip"] if mirrored else []), "-i", str(plain), "-c", "copy", str(src)], check=True)
    out = tmp_path / "out.mp4"
    result = vfi("upsample", src, "-o", out, "-f", "2", "-m", "blend", "--lossless")
    assert result.exit_code == 0, result.output
    kept, meant = read_facts(out, 0).display_matrix, read_facts(src, 0).display_matrix
    assert max(abs(a - b) for a, b in zip(kept, meant)) <= 2  # 16.16 fixed point, rebuilt from degrees
    shown_in, shown_out = read_frames(src), read_frames(out)  # as a player shows them
    assert all(np.array_equal(shown_out[2 * i], frame) for i, frame in enumerate(shown_in))


# -- --lossless at every bit depth ---------------------------------------------------------------------------

def deep_clip(path: Path, encode: list[str]) -> Path:
    """Four frames of a fine gradient that moves, encoded with `encode` from 16-bit RGB."""
    from vfi.io.ffmpeg import ffmpeg_exe

    h, w = 32, 64
    x = np.arange(w)
    raw = b"".join(np.repeat(np.repeat(((x * 997 + 4099 * i) % 65536).astype("<u2")[None, :, None], h, 0), 3, 2)
                   .tobytes() for i in range(4))
    subprocess.run([ffmpeg_exe(), "-v", "error", "-f", "rawvideo", "-pix_fmt", "rgb48le", "-s", f"{w}x{h}",
                    "-framerate", "24", "-i", "-", *encode, str(path)], input=raw, check=True)
    return path


@pytest.mark.parametrize("name, encode", [
    ("prores10.mov", ["-c:v", "prores_ks", "-pix_fmt", "yuv422p10le"]),
    ("ffv1_10.mkv", ["-c:v", "ffv1", "-pix_fmt", "gbrp10le"]),
    ("ffv1_12.mkv", ["-c:v", "ffv1", "-pix_fmt", "yuv444p12le"]),
    ("ffv1_16.mkv", ["-c:v", "ffv1", "-pix_fmt", "gbrp16le"]),
])
@pytest.mark.parametrize("suffix", [".mkv", ".mp4", ".mov"])
def test_lossless_with_the_default_codec_keeps_passed_frames_bit_identical_at_every_depth(tmp_path, name, encode,
                                                                                         suffix):
    src = deep_clip(tmp_path / name, encode)
    out = tmp_path / f"out{suffix}"
    result = vfi("upsample", src, "-o", out, "-f", "2", "-m", "blend", "--lossless")
    assert result.exit_code == 0, result.output
    decoded_in, decoded_out = read_frames(src), read_frames(out)
    assert decoded_in[0].dtype == np.uint16
    assert all(np.array_equal(decoded_out[2 * i], frame) for i, frame in enumerate(decoded_in))


@pytest.mark.parametrize("codec, suffix", [("libx265", ".mkv"), ("libx264", ".mkv"), ("vp9", ".webm")])
def test_lossless_with_a_codec_that_would_drop_low_bits_is_refused_before_any_work(tmp_path, codec, suffix):
    src = deep_clip(tmp_path / "in.mkv", ["-c:v", "ffv1", "-pix_fmt", "gbrp10le"])
    result = vfi("upsample", src, "-o", tmp_path / f"out{suffix}", "-f", "2", "-m", "blend", "--lossless",
                 "--codec", codec)
    one_line_error(result, "low bits", "ffv1")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.mkv"]


# -- animated GIF ----------------------------------------------------------------------------------------------------

def test_an_animated_gif_with_a_held_frame_keeps_the_rate_of_its_timestamps(tmp_path):
    """10 fps, frame 5 held 0.6 s: --factor 2 is 20 fps (the average, 8.3 fps, would give 16.7)."""
    from vfi.io.ffmpeg import ffmpeg_exe

    listing = ["ffconcat version 1.0"]
    for i, frame in enumerate(moving_frames(12, h=48, w=64)):
        write_image(tmp_path / f"{i:03d}.png", frame)
        listing += [f"file '{i:03d}.png'", "option framerate 100", f"duration {0.6 if i == 5 else 0.1}"]
    (tmp_path / "list.txt").write_text("\n".join(listing) + "\n")
    gif = tmp_path / "anim.gif"
    subprocess.run([ffmpeg_exe(), "-v", "error", "-safe", "0", "-f", "concat", "-i", str(tmp_path / "list.txt"),
                    "-fps_mode", "vfr", str(gif)], check=True)
    out = tmp_path / "out.mkv"
    result = vfi("upsample", gif, "-o", out, "-f", "2", "-m", "blend")
    assert result.exit_code == 0, result.output
    from vfi.io.probe import probe

    assert probe(gif).fps == 10 and probe(out).fps == 20
    assert abs(len(read_frames(out)) - 2 * (11 + 6)) <= 2  # 1.7 s of frames at 20 fps


# -- alpha beside VP9 ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("codec, suffix", [("vp9", ".webm"), ("vp9", ".mkv"), ("ffv1", ".mkv"), ("prores", ".mov")])
def test_the_alpha_of_a_vp9_webm_is_read_and_kept_by_every_codec_that_carries_alpha(tmp_path, codec, suffix):
    from vfi.io.ffmpeg import ffmpeg_exe
    from vfi.io.decode import FrameReader
    from vfi.io.probe import probe

    src = tmp_path / "alpha.webm"
    subprocess.run([ffmpeg_exe(), "-v", "error", "-f", "lavfi", "-i",
                    "testsrc2=size=64x48:rate=24:duration=0.25,format=yuva420p,geq=lum='lum(X,Y)':a='4*X'",
                    "-c:v", "libvpx-vp9", "-pix_fmt", "yuva420p", str(src)], check=True)
    alpha_in = [f[..., 3] for f in FrameReader(probe(src), alpha=True)]
    assert alpha_in[0].min() < 20 and alpha_in[0].max() > 230  # the decoder that keeps VP9's alpha read it
    out = tmp_path / f"out{suffix}"
    result = vfi("upsample", src, "-o", out, "-f", "2", "-m", "blend", "--codec", codec)
    assert result.exit_code == 0, result.output
    alpha_out = [f[..., 3] / (257 if f.dtype == np.uint16 else 1) for f in FrameReader(probe(out), alpha=True)]
    assert len(alpha_out) == 2 * len(alpha_in)
    for i, alpha in enumerate(alpha_in):
        assert np.abs(alpha_out[2 * i] - alpha).mean() < 4
