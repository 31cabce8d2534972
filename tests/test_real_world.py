"""What real inputs bring: variable frame rates, repeated frames, interrupted jobs, damaged files."""

from __future__ import annotations

import re
import resource
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import audio_seconds, calls_of, make_clip, moving_frames, vfi
from vfi.pipeline import segments
from vfi.core.metrics import psnr
from vfi.io.decode import read_frames
from vfi.io.encode import EncodeSettings
from vfi.io.ffmpeg import ffmpeg_exe
from vfi.io.probe import probe



def leftovers(folder: Path, keep: set[str]) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name not in keep)


def video_seconds(path: Path) -> float:
    info = probe(path)
    return len(read_frames(path)) / float(info.fps)


# -- variable frame rate --------------------------------------------------------------------------

def test_variable_frame_rate_is_interpolated_on_real_timestamps_and_stays_in_sync(tmp_path):
    truth = moving_frames(30, h=64, w=96)  # 1 s at 30 fps
    cfr = make_clip(tmp_path / "cfr.mkv", truth, fps=30)
    vfr = tmp_path / "vfr.mkv"
    # drop every third frame, keeping the others at their times (a capture that skipped frames), plus 1 s of audio
    subprocess.run([ffmpeg_exe(), "-v", "error", "-i", str(cfr), "-f", "lavfi", "-i", "sine=duration=1",
                    "-vf", "select='not(eq(mod(n,3),1))'", "-fps_mode", "vfr", "-map", "0:v", "-map", "1:a",
                    "-c:v", "libx264rgb", "-qp", "0", "-preset", "ultrafast", "-c:a", "flac", str(vfr)], check=True)
    assert len(read_frames(vfr)) == 20
    out = tmp_path / "out.mkv"
    result = vfi("upsample", vfr, "-o", out, "--fps", "30", "--lossless")
    assert result.exit_code == 0, result.output
    assert "variable frame rate" in result.output
    frames = read_frames(out)
    assert len(frames) == 30
    assert abs(video_seconds(out) - audio_seconds(out)) <= 1 / 30 + 1e-3
    for k in range(1, 28, 3):  # the dropped frames come back in their own places
        assert psnr(frames[k], truth[k]) > psnr(truth[k - 1], truth[k]) + 3
    kept = [k for k in range(30) if k % 3 != 1]
    assert all(np.array_equal(frames[k], truth[k]) for k in kept)


# -- repeated frames ----------------------------------------------------------------------------------

def test_dedup_interpolates_across_repeats_instead_of_freezing(tmp_path):
    truth = moving_frames(24, h=64, w=96)
    on_twos = [truth[2 * (i // 2)] for i in range(24)]  # animation on twos: each drawing shown twice
    src = make_clip(tmp_path / "twos.mkv", on_twos, fps=24)
    plain, smooth = tmp_path / "plain.mkv", tmp_path / "smooth.mkv"
    assert vfi("upsample", src, "-o", plain, "-f", "2", "--lossless").exit_code == 0
    result = vfi("upsample", src, "-o", smooth, "-f", "2", "--lossless", "--dedup")
    assert result.exit_code == 0, result.output
    assert "12 repeated frame(s) dropped" in result.output
    plain_frames, smooth_frames = read_frames(plain), read_frames(smooth)
    assert len(plain_frames) == len(smooth_frames) == 48
    for i in range(1, 21, 2):  # input frame i repeats i - 1; output frame 2 i shows input time i
        assert np.array_equal(plain_frames[2 * i], truth[i - 1])  # without --dedup: a freeze
        assert psnr(smooth_frames[2 * i], truth[i]) > psnr(truth[i - 1], truth[i]) + 3


def test_dedup_keeps_a_real_pause_still(tmp_path):
    truth = moving_frames(12, h=64, w=96)
    clip = truth[:4] + [truth[4]] * 10 + truth[5:]  # moves, pauses for 10 frames, moves again
    src = make_clip(tmp_path / "pause.mkv", clip, fps=24)
    out = tmp_path / "out.mkv"
    assert vfi("upsample", src, "-o", out, "-f", "2", "--lossless", "--dedup").exit_code == 0
    frames = read_frames(out)
    assert len(frames) == 2 * len(clip)
    assert all(np.array_equal(frames[k], truth[4]) for k in range(8, 27))  # the pause is not smeared


# -- resume -------------------------------------------------------------------------------------------

def test_resume_continues_from_finished_parts_with_the_same_frames(tmp_path, monkeypatch):
    from vfi.models.select import SelectInterpolator  # the default model

    monkeypatch.setattr(segments, "PART_FRAMES", 8)
    src = make_clip(tmp_path / "in.mkv", moving_frames(20, h=64, w=96), audio=True)
    whole = tmp_path / "whole.mkv"
    assert vfi("upsample", src, "-o", whole, "-f", "3", "-b", "2").exit_code == 0

    calls_of(monkeypatch, SelectInterpolator, fail_on=6)
    out = tmp_path / "out.mkv"
    result = vfi("upsample", src, "-o", out, "-f", "3", "-b", "2")
    assert result.exit_code == 130 and "--resume" in result.output
    assert not out.exists()
    kept = sorted(p.name for p in segments.parts_folder(out).iterdir())
    assert kept[:2] == ["job.json", "part_00000.nut"] and all(not name.startswith(".") for name in kept)

    calls = calls_of(monkeypatch, SelectInterpolator)
    result = vfi("upsample", src, "-o", out, "-f", "3", "-b", "2", "--resume")
    assert result.exit_code == 0, result.output
    assert "resumed after" in result.output
    assert len(calls) < 10  # 19 pairs in batches of 2: the finished parts were not computed again
    a, b = read_frames(whole), read_frames(out)
    assert len(a) == len(b) == 60 and all(np.array_equal(x, y) for x, y in zip(a, b))
    assert abs(audio_seconds(out) - audio_seconds(whole)) < 1e-3
    assert leftovers(tmp_path, {"in.mkv", "whole.mkv", "out.mkv"}) == []


def test_resume_refuses_parts_from_other_settings(tmp_path, monkeypatch):
    monkeypatch.setattr(segments, "PART_FRAMES", 4)
    src = make_clip(tmp_path / "in.mkv", moving_frames(10))
    out = tmp_path / "out.mkv"
    folder = segments.parts_folder(out)
    folder.mkdir()
    (folder / segments.JOB_FILE).write_text('{"input": "something else"}')
    result = vfi("upsample", src, "-o", out, "-f", "2", "-m", "blend", "--resume")
    assert result.exit_code == 1 and "different input or settings" in result.output


# -- hostile input ------------------------------------------------------------------------------------

@pytest.fixture
def damaged(tmp_path) -> dict[str, Path]:
    settings = EncodeSettings(crf=18, preset="ultrafast")
    mkv = make_clip(tmp_path / "src.mkv", moving_frames(60, h=128, w=160), settings=settings)
    mp4 = make_clip(tmp_path / "src.mp4", moving_frames(60, h=128, w=160), settings=settings)
    files = {}
    data = mkv.read_bytes()
    files["truncated"] = tmp_path / "truncated.mkv"
    files["truncated"].write_bytes(data[: len(data) * 6 // 10])
    garbage = bytearray(data)
    for i in range(len(data) // 2, len(data) // 2 + 2000):
        garbage[i] = (i * 7919) % 256
    files["corrupt"] = tmp_path / "corrupt.mkv"
    files["corrupt"].write_bytes(bytes(garbage))
    files["no_index"] = tmp_path / "truncated.mp4"
    files["no_index"].write_bytes(mp4.read_bytes()[: mp4.stat().st_size // 2])
    files["empty"] = tmp_path / "empty.mp4"
    files["empty"].write_bytes(b"")
    files["huge"] = tmp_path / "huge.y4m"
    files["huge"].write_bytes(b"YUV4MPEG2 W100000 H100000 F25:1 Ip A1:1 C420jpeg\nFRAME\n" + bytes(1000))
    files["audio_only"] = tmp_path / "audio.m4a"
    subprocess.run([ffmpeg_exe(), "-v", "error", "-f", "lavfi", "-i", "sine=duration=0.5", "-c:a", "aac",
                    str(files["audio_only"])], check=True)
    mkv.unlink()
    mp4.unlink()
    return files


@pytest.mark.parametrize("kind, message", [
    ("truncated", "decoding failed"), ("corrupt", "decoding failed"), ("no_index", "decoding failed"),
    ("empty", "empty file"), ("huge", "not a video"), ("audio_only", "only audio"),
])
def test_damaged_input_gives_one_line_and_leaves_nothing(damaged, tmp_path, kind, message):
    before = set(p.name for p in tmp_path.iterdir())
    proc = subprocess.run([sys.executable, "-m", "vfi", "upsample", str(damaged[kind]), "-o", str(tmp_path / "o.mp4"),
                           "-f", "2"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1
    assert message in proc.stderr and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    assert set(p.name for p in tmp_path.iterdir()) == before


def test_a_video_that_stops_well_short_of_its_declared_duration_is_reported_as_cut_off(tmp_path):
    """ffmpeg sometimes reaches the end of a truncated Matroska file without a word: the length tells."""
    import dataclasses

    from vfi.io.decode import FrameReader
    from vfi.io.probe import VideoError

    info = probe(make_clip(tmp_path / "in.mkv", moving_frames(12, h=64, w=96)))
    assert len(list(FrameReader(info))) == 12
    with pytest.raises(VideoError, match="ends at 0.50 s of the 1.00 s the file declares"):
        list(FrameReader(dataclasses.replace(info, duration=2 * info.duration)))


def test_a_video_shorter_than_its_audio_is_read_whole(tmp_path):
    silent = make_clip(tmp_path / "video.mkv", moving_frames(12, h=64, w=96))  # 0.5 s
    src = tmp_path / "in.mkv"
    subprocess.run([ffmpeg_exe(), "-v", "error", "-i", str(silent), "-f", "lavfi", "-i", "sine=duration=2",
                    "-map", "0:v", "-map", "1:a", "-c:v", "copy", "-c:a", "flac", str(src)], check=True)
    info = probe(src)
    assert info.duration > 1.9  # the file's duration is its audio's
    assert len(read_frames(src)) == 12


@pytest.mark.parametrize("suffix", [".mkv", ".mp4"])
def test_a_file_with_audio_cut_at_half_its_size_is_refused_saying_how_far_it_got(tmp_path, suffix):
    from vfi.io.encode import EncodeSettings

    whole = make_clip(tmp_path / f"whole{suffix}", moving_frames(96, h=64, w=96), audio=True,
                      settings=EncodeSettings(codec="libx264", crf=18, preset="ultrafast"))
    cut = tmp_path / f"cut{suffix}"
    data = whole.read_bytes()
    cut.write_bytes(data[:len(data) // 2])
    result = vfi("upsample", cut, "-o", tmp_path / "out.mkv", "-f", "2", "-m", "blend")
    assert result.exit_code == 1 and "truncated" in result.output, result.output
    if suffix == ".mkv":  # (an MP4 cut in half has lost its index at the end: it does not open at all)
        assert re.search(r"decoding failed after [1-9]\d* frame.*of the 4.0\d s the file declares", result.output)
    assert len(result.output.strip().splitlines()) == 1
    assert not (tmp_path / "out.mkv").exists()


def test_absurd_frame_size_is_refused_before_reading(tmp_path, monkeypatch):
    from vfi.io import probe as probing

    monkeypatch.setattr(probing, "MAX_PIXELS", 64 * 64)
    src = make_clip(tmp_path / "in.mkv", moving_frames(4, h=64, w=96))
    result = vfi("upsample", src, "-o", tmp_path / "o.mp4", "-f", "2")
    assert result.exit_code == 1 and "beyond what vfi handles" in result.output


def test_full_disk_gives_a_clear_message_and_no_partial_file(tmp_path):
    src = make_clip(tmp_path / "in.mkv", moving_frames(48, h=128, w=160))
    out = tmp_path / "out.mkv"

    def small_disk():
        resource.setrlimit(resource.RLIMIT_FSIZE, (20_000, 20_000))

    proc = subprocess.run([sys.executable, "-m", "vfi", "upsample", str(src), "-o", str(out), "-f", "4",
                           "-m", "blend", "--codec", "ffv1", "--lossless"],
                          capture_output=True, text=True, timeout=120, preexec_fn=small_disk)
    assert proc.returncode == 1, proc.stderr
    assert "file-size limit" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert leftovers(tmp_path, {"in.mkv"}) == []


def test_a_stream_cut_mid_gop_is_read_from_its_first_whole_frame(tmp_path):
    """Decoder errors before the first decodable frame (a capture cut mid-GOP) are not damage."""
    whole = tmp_path / "gop.h264"
    subprocess.run([ffmpeg_exe(), "-v", "error", "-f", "lavfi", "-i", "testsrc2=s=160x128:r=24:d=3", "-c:v", "libx264",
                    "-preset", "ultrafast", "-x264-params", "keyint=12:repeat-headers=1", "-f", "h264", str(whole)],
                   check=True)
    data = whole.read_bytes()
    cut = tmp_path / "cut.h264"
    cut.write_bytes(data[len(data) // 7:])
    out = tmp_path / "out.mp4"
    result = vfi("upsample", cut, "-o", out, "-f", "2", "-m", "blend")
    assert result.exit_code == 0, result.output
    assert len(read_frames(out)) > 40
