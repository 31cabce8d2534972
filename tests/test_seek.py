"""Reading from near a time: the frames and times of a read from the beginning, for a fraction of the decoding."""

from __future__ import annotations

import subprocess
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from conftest import calls_of, make_clip, moving_frames, vfi
from vfi.io.decode import FrameReader, read_frames
from vfi.io.ffmpeg import ffmpeg_exe
from vfi.io.probe import probe
from vfi.io.seek import ReadFrom, can_seek
from vfi.pipeline import segments


def reencode(source: Path, target: Path, *codec: str) -> Path:
    subprocess.run([ffmpeg_exe(), "-v", "error", "-y", "-i", str(source), *codec, str(target)], check=True)
    return target


@pytest.fixture(scope="module")
def short_gops(tmp_path_factory) -> dict[str, Path]:
    """96 frames at 24 fps with a key frame every 12 and B-frames, in three containers, with sound."""
    folder = tmp_path_factory.mktemp("seek")
    source = make_clip(folder / "source.mkv", moving_frames(96, h=64, w=96, scene="ball"), audio=True)
    mkv = reencode(source, folder / "gop.mkv", "-c:v", "libx264", "-g", "12", "-bf", "2", "-crf", "12", "-c:a", "copy")
    return {"mkv": mkv, "mp4": reencode(mkv, folder / "gop.mp4", "-c:v", "copy", "-c:a", "aac"),
            "ts": reencode(mkv, folder / "gop.ts", "-c:v", "copy", "-c:a", "aac")}


@pytest.mark.parametrize("container", ["mkv", "mp4"])
def test_a_read_from_near_a_time_gives_the_frames_and_times_of_a_whole_read(short_gops, container):
    info = probe(short_gops[container])
    assert can_seek(info)
    whole_reader = FrameReader(info, timed=True)
    whole = {frame.ts: frame.image for frame in whole_reader}
    needed = Fraction(60, 24)
    near = ReadFrom(info, needed, whole_reader.origin)
    frames = list(near)
    assert near.note is None
    assert needed - Fraction(12 + 4, 24) <= frames[0].ts <= needed  # from the key frame before, not the start
    assert near.decoded == len(frames) < len(whole)
    assert [f.ts for f in frames] == sorted(whole)[-len(frames):]
    assert all(np.array_equal(f.image, whole[f.ts]) for f in frames)


def test_mpeg_ts_which_starts_late_and_seeks_past_the_time_keeps_every_frame_and_time(short_gops):
    info = probe(short_gops["ts"])
    whole_reader = FrameReader(info, timed=True)
    whole = list(whole_reader)
    assert whole_reader.origin > 1  # MPEG-TS clocks start at 1.4 s: times count from the first frame
    near = ReadFrom(info, Fraction(60, 24), whole_reader.origin)
    frames = list(near)
    if near.note is None:  # the seek kept the times: then it must have kept them exactly
        assert frames[0].ts <= Fraction(60, 24) and near.decoded < len(whole)
        assert all(np.array_equal(f.image, whole[round(f.ts * 24)].image) for f in frames)
    else:
        assert "read it from the beginning" in near.note
        assert [f.ts for f in frames] == [f.ts for f in whole]


def test_variable_rate_video_is_not_read_by_seeking(tmp_path):
    cfr = make_clip(tmp_path / "cfr.mkv", moving_frames(30, h=48, w=64))
    vfr = reencode(cfr, tmp_path / "vfr.mkv", "-vf", "select='not(eq(mod(n,3),1))'", "-fps_mode", "vfr",
                   "-c:v", "libx264", "-g", "4")
    assert not can_seek(probe(vfr))


def test_a_resumed_run_reads_from_near_its_first_part_and_gives_the_same_frames(short_gops, tmp_path, monkeypatch):
    from vfi.classic import Blend
    from vfi.core.interrupts import ResumableInterrupt
    from vfi.io.encode import EncodeSettings
    from vfi.registry import create
    from vfi.pipeline.job import upsample

    src, lossless = short_gops["mp4"], EncodeSettings(codec="auto", lossless=True)
    run = lambda out, **kw: upsample(src, out, create("blend"), factor=2, encode=lossless, part_frames=48, **kw)
    whole = tmp_path / "whole.mkv"
    run(whole)

    calls_of(monkeypatch, Blend, fail_on=15)  # by the 15th batch of 4 pairs, two parts of 48 frames are done
    out = tmp_path / "out.mkv"
    with pytest.raises(ResumableInterrupt):
        run(out)
    monkeypatch.setattr(Blend, "interpolate", Blend.interpolate.original)
    kept = len(list(segments.parts_folder(out).glob("part_*.nut")))
    assert kept >= 2
    result = run(out, resume=True)
    assert result.resumed_frames == kept * 48
    # decoded from the key frame before the first missing part (12 frames a GOP), not from the start
    assert result.stats.frames_in <= 96 - kept * 24 + 12 + 4 + 2
    a, b = read_frames(whole), read_frames(out)
    assert len(a) == len(b) == 192 and all(np.array_equal(x, y) for x, y in zip(a, b))


def test_deep_and_alpha_frames_read_from_near_a_time_equal_a_whole_read(tmp_path):
    """16-bit RGB and RGBA, in intra-only FFV1: every frame a key frame."""
    frames = moving_frames(40, h=48, w=64)
    deep = [(f.astype(np.uint16) * 257) for f in frames]
    alpha = [np.dstack([f, np.full(f.shape[:2], 200, np.uint8)]) for f in frames]
    from vfi.io.encode import EncodeSettings

    for name, clip in (("deep.mkv", deep), ("alpha.mkv", alpha)):
        path = make_clip(tmp_path / name, clip, settings=EncodeSettings(codec="ffv1"))
        info = probe(path)
        whole_reader = FrameReader(info, timed=True, alpha=True)
        whole = {f.ts: f.image for f in whole_reader}
        near = ReadFrom(info, Fraction(30, 24), whole_reader.origin, alpha=True)
        got = list(near)
        assert near.note is None and got[0].ts <= Fraction(30, 24) and len(got) < len(whole)
        assert got[0].image.shape[-1] == (3 if name == "deep.mkv" else 4)
        assert got[0].image.dtype == (np.uint16 if name == "deep.mkv" else np.uint8)
        assert all(np.array_equal(f.image, whole[f.ts]) for f in got)
