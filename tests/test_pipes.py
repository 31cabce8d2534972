"""vfi between other tools: y4m and NUT through real pipes, in and out, frame-identical to the file-based
run; a reader that goes away; what needs a second read refused at once."""

from __future__ import annotations

import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from conftest import audio_seconds, make_clip, moving_frames, vfi
from vfi.io.decode import read_frames
from vfi.io.ffmpeg import ffmpeg_exe
from vfi.io.probe import probe

VFI = [sys.executable, "-m", "vfi"]


def ffmpeg(*args) -> list[str]:
    return [ffmpeg_exe(), "-hide_banner", "-v", "error", "-nostdin", *map(str, args)]


def pipe(writer: list[str], reader: list[str], timeout: float = 120) -> tuple[subprocess.CompletedProcess, bytes]:
    """writer | reader, as a shell runs them: (the reader's result, the writer's stderr)."""
    first = subprocess.Popen(writer, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    second = subprocess.run(reader, stdin=first.stdout, capture_output=True, timeout=timeout)
    first.stdout.close()
    _, first_err = first.communicate(timeout=timeout)
    assert first.returncode == 0, first_err
    return second, first_err


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    """1 s of a moving ball at 24 fps with a tone, lossless."""
    return make_clip(tmp_path_factory.mktemp("pipes") / "ball.mkv", moving_frames(24, scene="ball"), audio=True)


@pytest.mark.parametrize("fmt, encode", [("yuv4mpegpipe", ["-pix_fmt", "yuv444p"]), ("nut", ["-c:v", "ffv1"])])
def test_a_stream_on_standard_input_gives_the_frames_of_the_same_stream_in_a_file(clip, tmp_path, fmt, encode):
    stored = tmp_path / f"stream.{'y4m' if fmt == 'yuv4mpegpipe' else 'nut'}"
    subprocess.run(ffmpeg("-i", clip, "-map", "0:v", *encode, "-f", fmt, stored), check=True)
    from_file = tmp_path / "file.mkv"
    assert vfi("upsample", stored, "-o", from_file, "-f", "2", "-m", "flow", "--lossless").exit_code == 0

    from_pipe = tmp_path / "pipe.mkv"
    result, _ = pipe(ffmpeg("-i", clip, "-map", "0:v", *encode, "-f", fmt, "-"),
                     [*VFI, "upsample", "-", "-o", from_pipe, "-f", "2", "-m", "flow", "--lossless"])
    assert result.returncode == 0, result.stderr
    a, b = read_frames(from_pipe), read_frames(from_file)
    assert len(a) == len(b) == 48 and probe(from_pipe).fps == 48
    assert all(np.array_equal(x, y) for x, y in zip(a, b))


def test_a_y4m_headers_rate_aspect_and_range_are_followed(clip, tmp_path):
    out = tmp_path / "out.mkv"
    result, _ = pipe(ffmpeg("-i", clip, "-map", "0:v", "-vf", "setsar=4/3", "-pix_fmt", "yuv420p", "-color_range", "pc",
                            "-r", "30000/1001",
                            "-f", "yuv4mpegpipe", "-"),
                     [*VFI, "upsample", "-", "-o", out, "-f", "2", "-m", "blend"])
    assert result.returncode == 0, result.stderr
    info = probe(out)
    assert info.fps == Fraction(60000, 1001) and info.sar == Fraction(4, 3) and info.colour.range == "pc"


def test_standard_output_carries_the_file_runs_frames_and_the_audio(clip, tmp_path):
    from_file = tmp_path / "file.mkv"
    assert vfi("upsample", clip, "-o", from_file, "-f", "2", "-m", "flow", "--lossless").exit_code == 0
    received = tmp_path / "received.mkv"
    result, stderr = pipe([*VFI, "upsample", clip, "-o", "-", "-f", "2", "-m", "flow"],
                          ffmpeg("-i", "-", "-c:v", "ffv1", "-c:a", "copy", received))
    assert result.returncode == 0, result.stderr
    assert b"->" in stderr  # the summary went to standard error, the stream alone to standard output
    a, b = read_frames(received), read_frames(from_file)
    assert len(a) == len(b) == 48 and probe(received).fps == 48
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert abs(audio_seconds(received) - 1.0) < 0.05


def test_y4m_on_standard_output_is_video_alone_with_a_note(clip, tmp_path):
    received = tmp_path / "received.y4m"
    with open(received, "wb") as sink:
        proc = subprocess.run([*VFI, "upsample", clip, "-o", "-", "-f", "2", "-m", "blend", "--format", "y4m"],
                              stdout=sink, stderr=subprocess.PIPE, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert received.read_bytes().startswith(b"YUV4MPEG2 W96 H64 F48:1")
    assert len(read_frames(received)) == 48
    assert "audio is left out" in proc.stderr


def test_a_reader_that_goes_away_ends_vfi_quietly_with_a_non_zero_exit(clip, tmp_path):
    long = make_clip(tmp_path / "long.mkv", moving_frames(48, h=128, w=160))
    writer = subprocess.Popen([*VFI, "upsample", long, "-o", "-", "-f", "8", "-m", "blend"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    writer.stdout.read(10_000)  # a player that saw the first frames, then was closed
    writer.stdout.close()
    _, stderr = writer.communicate(timeout=120)
    assert writer.returncode == 141
    assert b"Traceback" not in stderr and b"error" not in stderr.lower()


@pytest.mark.parametrize("args, words", [
    (["-", "-o", "OUT", "-f", "2", "--resume"], "--resume needs a file"),
    (["-", "-o", "OUT", "-f", "2", "--ray"], "--ray"),
    (["IN", "-o", "-", "-f", "2", "--resume"], "--resume needs a file"),
    (["IN", "-o", "OUT", "-f", "2", "--format", "y4m"], "--format is for standard output"),
    (["IN", "-o", "-", "-f", "2", "--format", "avi"], "choose one of nut"),
])
def test_what_a_pipe_cannot_do_is_refused_in_one_line_before_any_work(clip, tmp_path, args, words):
    args = [str(clip) if a == "IN" else str(tmp_path / "out.mkv") if a == "OUT" else a for a in args]
    proc = subprocess.run([*VFI, "upsample", *args], stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 1 and proc.stdout == ""
    assert words in proc.stderr and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_standard_input_that_is_no_video_is_one_line(tmp_path):
    proc = subprocess.run([*VFI, "upsample", "-", "-o", tmp_path / "out.mkv", "-f", "2"], input=b"not a video\n",
                          capture_output=True, timeout=60)
    assert proc.returncode == 1 and b"standard input" in proc.stderr and b"Traceback" not in proc.stderr
    assert list(tmp_path.iterdir()) == []
