"""What real files bring besides the frames: exact and uneven timing, tags, other streams, odd sizes,
and the command-line edges around them. Every input is generated here with ffmpeg."""

from __future__ import annotations

import os
import signal
import subprocess
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from conftest import audio_seconds, make_clip, moving_frames, vfi
from vfi.io.decode import FrameReader, read_frames
from vfi.io.mux import audio_tempo_filter
from vfi.io.ffmpeg import ffmpeg_exe
from vfi.io.probe import probe


def ffmpeg(*args) -> None:
    subprocess.run([ffmpeg_exe(), "-v", "error", "-y", *map(str, args)], check=True)


def description(path: Path) -> str:
    """What ffmpeg prints of a file: streams, tags, chapters, side data."""
    return subprocess.run([ffmpeg_exe(), "-hide_banner", "-i", str(path)], capture_output=True, text=True).stderr


def frame_times(path: Path) -> list[Fraction]:
    info = probe(path)
    return [f.ts for f in FrameReader(info, timed=True)]


# -- timing ---------------------------------------------------------------------------------------

def test_a_rate_printed_rounded_follows_the_timestamps_exact_rate(tmp_path):
    """ffmpeg prints 1199/200 fps as '6': x4 must place input frame i at output 4i, not drift a slot."""
    src = tmp_path / "jit.mkv"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=96x64:rate=1199/200", "-frames:v", "13", "-c:v", "ffv1", src)
    out = tmp_path / "x4.mkv"
    result = vfi("upsample", src, "-o", out, "--factor", "4", "--lossless", "-m", "dup")
    assert result.exit_code == 0, result.output
    frames, source = read_frames(out), read_frames(src)
    assert len(frames) == 52
    assert all(np.array_equal(frames[4 * i], source[i]) for i in range(13))
    assert all(np.array_equal(frames[4 * i + 3], source[i]) for i in range(13))  # dup: each held 4 slots
    assert abs(float(probe(out).fps) - 4 * 1199 / 200) < 0.01


def test_variable_rate_input_with_b_frames_ends_with_its_audio(tmp_path):
    src = tmp_path / "vfr.mp4"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=160x90:rate=30:duration=3", "-f", "lavfi", "-i", "sine=duration=3",
           "-vf", r"select='not(between(mod(n\,15)\,4\,9))'", "-fps_mode", "vfr", "-c:v", "libx264",
           "-preset", "ultrafast", "-bf", "2", "-pix_fmt", "yuv420p", "-c:a", "aac", src)
    log = subprocess.run([ffmpeg_exe(), "-i", str(src), "-vf", "showinfo", "-f", "null", "-"], capture_output=True,
                         text=True).stderr
    assert "type:B" in log and len(read_frames(src)) == 54  # reordered frames: their durations come shuffled
    out = tmp_path / "v60.mp4"
    result = vfi("upsample", src, "-o", out, "--fps", "60", "-m", "dup")
    assert result.exit_code == 0, result.output
    assert len(read_frames(out)) == 180  # 3.00 s at 60 fps, not 3.067
    assert abs(180 / 60 - audio_seconds(out)) < 1 / 30


# -- streams and tags -----------------------------------------------------------------------------

def test_pixel_aspect_ratio_is_kept(tmp_path):
    src = tmp_path / "sar.mp4"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=160x90:rate=25:duration=0.4", "-vf", "setsar=4/3", "-c:v", "libx264",
           "-pix_fmt", "yuv420p", src)
    for codec in ("libx264", "ffv1"):
        out = tmp_path / f"out_{codec}.mkv"
        assert vfi("upsample", src, "-o", out, "-f", "2", "-m", "blend", "--codec", codec).exit_code == 0
        assert probe(out).sar == Fraction(4, 3)


def clip_with_everything(tmp_path: Path) -> Path:
    """Video, audio, a subtitle track, two chapters, a title and a font attachment, in Matroska."""
    subs, meta, font = tmp_path / "s.srt", tmp_path / "meta.txt", tmp_path / "font.ttf"
    subs.write_text("1\n00:00:00,200 --> 00:00:00,600\nHello\n\n2\n00:00:00,700 --> 00:00:00,900\nWorld\n")
    meta.write_text(";FFMETADATA1\ntitle=A short film\n[CHAPTER]\nTIMEBASE=1/1000\nSTART=0\nEND=500\ntitle=One\n"
                    "[CHAPTER]\nTIMEBASE=1/1000\nSTART=500\nEND=1000\ntitle=Two\n")
    font.write_bytes(b"\x00\x01\x00\x00" + bytes(range(256)))
    src = tmp_path / "full.mkv"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=96x64:rate=10:duration=1", "-f", "lavfi", "-i", "sine=duration=1",
           "-i", subs, "-i", meta, "-map", "0", "-map", "1", "-map", "2", "-map_metadata", "3", "-map_chapters", "3",
           "-c:v", "libx264", "-c:a", "aac", "-c:s", "srt", "-metadata:s:a:0", "language=fra",
           "-attach", font, "-metadata:s:t", "mimetype=font/ttf", src)
    return src


@pytest.mark.parametrize("suffix, subtitles, attachment", [(".mkv", "Subtitle: subrip", "font.ttf"),
                                                            (".mp4", "Subtitle: mov_text", None)])
def test_subtitles_chapters_attachments_and_metadata_are_copied(tmp_path, suffix, subtitles, attachment):
    """MP4 gets the subtitles as its own text format, and cannot hold the font: that is said, not hidden."""
    src = clip_with_everything(tmp_path)
    out = tmp_path / f"out{suffix}"
    result = vfi("upsample", src, "-o", out, "-f", "2", "-m", "blend")
    assert result.exit_code == 0, result.output
    text = description(out)
    assert subtitles in text and "A short film" in text and text.count("Chapter #") == 2
    assert "Audio: aac" in text and "fra" in text  # the audio keeps its language
    if attachment:
        assert "Attachment" in text and attachment in text and "note" not in result.output
    else:
        assert "attachment" in result.output and "only .mkv" in result.output


def test_other_video_streams_are_named_and_can_be_picked(tmp_path):
    src = tmp_path / "two.mkv"
    ffmpeg("-f", "lavfi", "-i", "color=red:size=64x48:rate=10:duration=0.5", "-f", "lavfi", "-i",
           "color=blue:size=96x64:rate=10:duration=0.5", "-map", "0", "-map", "1", "-c:v", "ffv1", src)
    out = tmp_path / "first.mkv"
    result = vfi("upsample", src, "-o", out, "-f", "2", "-m", "blend")
    assert result.exit_code == 0 and "--video-stream" in result.output
    assert read_frames(out)[0].shape == (48, 64, 3)
    out2 = tmp_path / "second.mkv"
    assert vfi("upsample", src, "-o", out2, "-f", "2", "-m", "blend", "--video-stream", "1").exit_code == 0
    frame = read_frames(out2)[0]
    assert frame.shape == (64, 96, 3) and frame[..., 2].mean() > 200 > frame[..., 0].mean()
    result = vfi("upsample", src, "-o", tmp_path / "third.mkv", "-f", "2", "--video-stream", "2")
    assert result.exit_code == 1 and "has 2 video stream(s)" in result.output


def test_rotation_is_kept_as_a_tag_and_the_picture_plays_upright(tmp_path):
    frames = moving_frames(6, h=48, w=96)
    plain = make_clip(tmp_path / "plain.mp4", frames)
    rotated = tmp_path / "rotated.mp4"
    ffmpeg("-display_rotation", "90", "-i", plain, "-c", "copy", rotated)
    out = tmp_path / "out.mp4"
    assert vfi("upsample", rotated, "-o", out, "-f", "2", "--lossless").exit_code == 0
    assert "rotation of 90.00 degrees" in description(out)
    upright_in, upright_out = read_frames(rotated), read_frames(out)
    assert upright_out[0].shape == (96, 48, 3)
    assert all(np.array_equal(upright_out[2 * i], upright_in[i]) for i in range(6))


def solid_colour_clip(path: Path, rgb: tuple[int, int, int], *encode: str) -> Path:
    raw = bytes(rgb) * (64 * 48) * 6
    subprocess.run([ffmpeg_exe(), "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", "64x48",
                    "-r", "10", "-i", "-", *encode, str(path)], input=raw, check=True)
    return path


def test_colour_tags_are_kept_and_colours_do_not_shift(tmp_path):
    rgb = (200, 50, 30)  # saturated: decoding BT.709 as BT.601 moves green by 16 levels
    src = solid_colour_clip(tmp_path / "hd.mp4", rgb, "-c:v", "libx264", "-qp", "0", "-pix_fmt", "yuv444p",
                            "-colorspace", "bt709", "-color_primaries", "bt709", "-color_trc", "bt709")
    assert probe(src).colour.matrix == "bt709"
    out = tmp_path / "out.mp4"
    assert vfi("upsample", src, "-o", out, "-f", "2", "-m", "blend", "--crf", "0").exit_code == 0
    assert probe(out).colour == probe(src).colour
    assert np.abs(read_frames(out)[1].astype(int) - rgb).max() <= 3


def test_hdr_ten_bit_tags_are_kept(tmp_path):
    src = tmp_path / "hdr.mkv"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=64x48:rate=10:duration=0.4", "-vf",
           "setparams=color_primaries=bt2020:color_trc=smpte2084:colorspace=bt2020nc:range=tv", "-c:v", "libx265",
           "-x265-params", "log-level=error", "-pix_fmt", "yuv420p10le", "-colorspace", "bt2020nc",
           "-color_primaries", "bt2020", "-color_trc", "smpte2084", src)
    out = tmp_path / "out.mkv"
    assert vfi("upsample", src, "-o", out, "-f", "2", "-m", "blend").exit_code == 0
    info = probe(out)
    assert info.high_bit_depth and info.colour == probe(src).colour
    assert (info.colour.transfer, info.colour.primaries) == ("smpte2084", "bt2020")


def test_full_range_input_stays_full_range(tmp_path):
    src = solid_colour_clip(tmp_path / "pc.mp4", (250, 250, 250), "-c:v", "libx264", "-pix_fmt", "yuvj420p")
    out = tmp_path / "out.mp4"
    assert vfi("upsample", src, "-o", out, "-f", "2", "-m", "blend").exit_code == 0
    assert probe(out).colour.range == "pc"
    assert abs(int(read_frames(out)[1].mean()) - int(read_frames(src)[0].mean())) <= 2


# -- bounds ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("model", ["select", "flow", "ode", "mci"])
def test_a_one_pixel_video_is_interpolated(tmp_path, model):
    src = tmp_path / "one.mp4"
    ffmpeg("-f", "lavfi", "-i", "color=red:size=1x1:rate=25:duration=0.2", "-c:v", "libx264", "-pix_fmt", "yuv444p",
           src)
    out = tmp_path / "out.mkv"
    result = vfi("upsample", src, "-o", out, "-f", "2", "-m", model, "--lossless")
    assert result.exit_code == 0, result.output
    frames = read_frames(out)
    assert len(frames) == 10 and frames[1].shape == (1, 1, 3) and frames[1][0, 0, 0] > 200


@pytest.mark.parametrize("args, limit", [(["--factor", "1000"], "limit of 64"), (["--fps", "1e9"], "limit of 64")])
def test_absurd_rates_are_refused_before_any_work_unless_forced(clip, tmp_path, args, limit):
    out = tmp_path / "o.mp4"
    result = vfi("upsample", clip, "-o", out, *args, "-m", "dup")
    assert result.exit_code == 1 and limit in result.output and "--force" in result.output
    assert not out.exists() and not any(p.name.startswith(".") for p in tmp_path.iterdir())


def test_the_scene_threshold_is_bounded(clip, tmp_path):
    result = vfi("upsample", clip, "-o", tmp_path / "o.mp4", "-f", "2", "--scene-threshold", "5")
    assert result.exit_code == 2 and "scene-threshold" in result.output


def test_a_codec_the_container_cannot_hold_is_refused_up_front(clip, tmp_path):
    out = tmp_path / "o.mp4"
    result = vfi("upsample", clip, "-o", out, "-f", "2", "--codec", "prores", "-m", "dup")
    assert result.exit_code == 1 and "cannot hold prores" in result.output and ".mov" in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.mp4"]


def test_folder_and_image_sequence_outputs_create_their_folder(clip, tmp_path):
    out = tmp_path / "new" / "%03d.png"
    assert vfi("upsample", clip, "-o", out, "-f", "2", "-m", "blend").exit_code == 0
    assert len(list(out.parent.glob("*.png"))) == 20
    videos = tmp_path / "videos"
    videos.mkdir()
    (videos / "a.mp4").write_bytes(clip.read_bytes())
    result = vfi("upsample", videos, "-o", tmp_path / "made" / "here", "-f", "2", "-m", "dup")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "made" / "here" / "a.mp4").is_file()


def test_a_failed_run_leaves_no_folder_it_made(tmp_path):
    src = tmp_path / "one_frame.mp4"
    make_clip(src, moving_frames(1))
    out = tmp_path / "made" / "%03d.png"
    assert vfi("upsample", src, "-o", out, "-f", "2").exit_code == 1
    assert not out.parent.exists()


def test_an_image_sequence_with_an_odd_sized_frame_is_refused_not_stretched(tmp_path):
    import cv2

    frames = moving_frames(5, h=64, w=96)
    folder = tmp_path / "in"
    folder.mkdir()
    for i, frame in enumerate(frames):
        cv2.imwrite(str(folder / f"{i:03d}.png"), frame if i != 3 else frame[:48, :80])
    out = tmp_path / "out.mkv"
    result = vfi("upsample", folder / "%03d.png", "-o", out, "-f", "2", "-m", "dup")
    assert result.exit_code == 1 and "frame 3 is 80x48" in result.output
    assert not out.exists()


# -- commands -------------------------------------------------------------------------------------

def test_slow_motion_makes_the_video_longer_and_leaves_the_audio_out_unless_stretched(tmp_path):
    src = make_clip(tmp_path / "in.mp4", moving_frames(10), fps=10, audio=True)
    out = tmp_path / "slow.mp4"
    result = vfi("upsample", src, "-o", out, "--slowmo", "4", "-m", "blend")
    assert result.exit_code == 0, result.output
    assert "--stretch-audio" in result.output
    info = probe(out)
    assert len(read_frames(out)) == 40 and info.fps == 10 and not info.has_audio
    out2 = tmp_path / "slow_audio.mp4"
    result = vfi("upsample", src, "-o", out2, "--slowmo", "4", "--stretch-audio", "-m", "blend")
    assert result.exit_code == 0, result.output
    assert abs(audio_seconds(out2) - 4.0) < 0.15


def test_atempo_steps_stay_within_range_and_multiply_to_the_slowdown():
    for slowmo in (Fraction(2), Fraction(5, 2), Fraction(4), Fraction(10)):
        steps = [float(s.split("=")[1]) for s in audio_tempo_filter(slowmo).split(",")]
        assert all(0.5 <= s <= 1 for s in steps)
        assert abs(np.prod(steps) - 1 / float(slowmo)) < 1e-5


def test_sigterm_stops_cleanly_with_exit_code_143(clip, tmp_path, monkeypatch):
    from vfi.pipeline import job

    def killed(*args, **kwargs):
        os.kill(os.getpid(), signal.SIGTERM)

    previous = signal.getsignal(signal.SIGTERM)
    monkeypatch.setattr(job, "upsample", killed)
    try:
        result = vfi("upsample", clip, "-o", tmp_path / "o.mp4", "-f", "2")
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert result.exit_code == 143 and "terminated" in result.output


def test_on_off_flags_show_no_value_placeholder_in_help():
    for command in ("upsample", "train", "benchmark", "interpolate"):
        text = vfi(command, "--help").output
        assert "--force" in text or "--quiet" in text or "--from-scratch" in text
        assert "<bool>" not in text and "BOOLEAN" not in text
