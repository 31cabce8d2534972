"""Reading through libav: pictures come out the way players show them, with the times players give them."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from conftest import make_clip, moving_frames
from vfi.io.decode import FrameReader, PresentationTimes, read_frames
from vfi.io.ffmpeg import ffmpeg_exe
from vfi.io.probe import probe


@pytest.mark.parametrize("degrees, turns", [(90, 1), (180, 2), (-90, -1)])
def test_a_display_rotation_turns_the_picture_the_way_players_do(tmp_path, degrees, turns):
    frames = moving_frames(3, h=48, w=96)
    plain = make_clip(tmp_path / "plain.mp4", frames)
    rotated = tmp_path / "rotated.mp4"
    subprocess.run([ffmpeg_exe(), "-v", "error", "-display_rotation", str(degrees), "-i", str(plain), "-c", "copy",
                    str(rotated)], check=True)
    info = probe(rotated)
    assert (info.rotation - degrees) % 360 == 0  # a half turn reads as -180 or 180
    upright = read_frames(rotated)
    assert all(np.array_equal(u, np.rot90(f, turns)) for u, f in zip(upright, read_frames(plain)))
    stored = list(FrameReader(info.stored()))  # what `upsample` interpolates: the frames as stored, tag kept
    assert all(np.array_equal(s, f) for s, f in zip(stored, frames))


def test_a_container_of_decode_times_gives_frames_their_decode_times():
    """AVI keeps no presentation times: frames leave the decoder in presentation order, the pts libav
    guesses come in decoding order (1, 3, 2, 5, 4), and the last frame has no decode time at all."""
    times = PresentationTimes(frame_ticks=1, decode_times_only=True)
    got = [times(pts, dts, 1) for pts, dts in [(1, 1), (3, 2), (2, 3), (5, 4), (4, 5), (6, None)]]
    assert got == [1, 2, 3, 4, 5, 6]


def test_presentation_times_follow_pts_until_they_prove_worse_than_decode_times():
    times = PresentationTimes(frame_ticks=10)
    assert [times(pts, dts, 10) for pts, dts in [(20, 0), (30, 10), (40, 20)]] == [20, 30, 40]  # B-frame delay: pts
    faulty = PresentationTimes(frame_ticks=10)
    got = [faulty(pts, dts, 10) for pts, dts in [(0, 0), (50, 10), (20, 20), (70, 30), (40, 40), (None, None)]]
    assert got[3:] == [30, 40, 50]  # pts ran backwards twice, decode times never: decode times win, then a guess
    assert PresentationTimes(frame_ticks=10)(0, 40, 10) == 40  # shown before it is decoded: a broken pts


def test_readers_closed_early_again_and_again_never_hang(tmp_path):
    """--max-frames, seeks and parts close a reader in the middle of a stream. With libav's frame
    threads, closing one hung when a thread was logging (it waits for the GIL the closer holds)."""
    clip = tmp_path / "clip.mp4"  # x264's defaults, as most files in the wild have them
    subprocess.run([ffmpeg_exe(), "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25", "-t", "2",
                    "-c:v", "libx264", "-pix_fmt", "yuv420p", str(clip)], check=True)
    script = ("import sys\nfrom vfi.io.decode import FrameReader\nfrom vfi.io.probe import probe\n"
              "info = probe(sys.argv[1])\n"
              "for i in range(60):\n    for _ in FrameReader(info, max_frames=3 + i % 7): pass\n")
    run = subprocess.run([sys.executable, "-c", script, str(clip)], timeout=120, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
