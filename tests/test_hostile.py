"""Hostile inputs and hostile conditions: odd geometry, interlacing, lying headers, late video, HDR side
data, absurd options, % in names, signals to the whole process group, and two runs on one output.

Every input is generated here; each case is something a user would notice: a traceback, a lost
sync, lost audio or metadata, a hang, or a run that destroys another's work."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from conftest import make_clip, moving_frames, vfi
from vfi.io.decode import read_frames
from vfi.io.ffmpeg import ffmpeg_exe
from vfi.io.libav import read_facts
from vfi.io.output_lock import lock_path
from vfi.io.probe import probe
from vfi.pipeline.segments import parts_folder


def ffmpeg(*args) -> None:
    subprocess.run([ffmpeg_exe(), "-hide_banner", "-v", "error", "-y", *map(str, args)], check=True)


def vfi_process(*args, **kwargs) -> subprocess.Popen:
    """The real command in a process group of its own, as a shell runs a foreground job."""
    return subprocess.Popen([sys.executable, "-m", "vfi", *map(str, args)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True, **kwargs)


def wait_for(condition, proc: subprocess.Popen, seconds: float = 120) -> None:
    end = time.monotonic() + seconds
    while not condition():
        assert proc.poll() is None, f"the run ended first: {proc.communicate()}"
        assert time.monotonic() < end, "timed out"
        time.sleep(0.05)


def stream_starts(path: Path) -> dict[str, float]:
    """Each stream kind's presentation start in seconds, as a player sees it."""
    import av

    with av.open(str(path)) as container:
        return {s.type: float(s.start_time * s.time_base) for s in container.streams if s.start_time is not None}


# -- 1. geometry ------------------------------------------------------------------------------------

@pytest.mark.parametrize("height, width", [(16, 2000), (2000, 16)])
def test_a_thin_strip_is_interpolated_not_a_traceback(tmp_path, height, width):
    src = make_clip(tmp_path / "strip.mkv", moving_frames(3, h=height, w=width))
    out = tmp_path / "out.mkv"
    result = vfi("upsample", src, "-o", out, "-f", "2", "--lossless")
    assert result.exit_code == 0, result.output
    frames = read_frames(out)
    assert len(frames) == 6 and frames[0].shape == (height, width, 3)


# -- 2. interlacing ---------------------------------------------------------------------------------

def combing(frame: np.ndarray) -> float:
    """How much neighbouring lines differ beyond what lines two apart do: woven fields of a moving picture."""
    f = frame.astype(np.float32).mean(axis=2)
    return float(np.abs(f[1:-1] - (f[:-2] + f[2:]) / 2).mean())


@pytest.fixture(scope="module")
def interlaced(tmp_path_factory) -> Path:
    """1 s of 25i H.264, top field first: 50 fields a second of stripes moving sideways, woven in pairs."""
    folder = tmp_path_factory.mktemp("interlaced")
    x = np.arange(160)
    rows = [(128 + 100 * np.sin((x - 6 * i) / 6)).astype(np.uint8) for i in range(50)]
    progressive = make_clip(folder / "p50.mkv", [np.broadcast_to(r[None, :, None], (96, 160, 3)) for r in rows], fps=50)
    path = folder / "tff.mp4"
    ffmpeg("-i", progressive, "-vf", "tinterlace=interleave_top,setfield=tff", "-c:v", "libx264",
           "-flags", "+ildct+ilme", "-x264-params", "tff=1", "-qp", "0", "-preset", "ultrafast", "-r", "25", path)
    return path


def test_interlaced_input_is_deinterlaced_to_one_frame_per_field_with_a_note(interlaced, tmp_path):
    assert probe(interlaced).field_order == "tff"
    out = tmp_path / "out.mp4"
    result = vfi("upsample", interlaced, "-o", out, "-f", "2", "-m", "blend", "--lossless")
    assert result.exit_code == 0, result.output
    assert "interlaced input (top field first) deinterlaced with bwdif to 50 fps" in result.output
    assert probe(out).fps == 50  # --factor multiplies the stream's 25 frames a second: its 50 fields
    assert len(read_frames(out)) == 50

    woven = tmp_path / "woven.mp4"
    result = vfi("upsample", interlaced, "-o", woven, "-f", "2", "-m", "blend", "--lossless", "--deinterlace", "off")
    assert result.exit_code == 0, result.output
    assert "--deinterlace off" in result.output and "combing" in result.output
    assert probe(woven).fps == 50
    assert np.mean([combing(f) for f in read_frames(out)]) < 1 < 20 < np.mean([combing(f) for f in read_frames(woven)])


@pytest.mark.parametrize("args, rate", [(["-f", "4"], 100), (["-f", "3"], 75), (["--fps", "50"], 50),
                                        (["--fps", "100"], 100)])
def test_interlaced_rates_count_from_the_streams_own_rate(interlaced, tmp_path, args, rate):
    fields = tmp_path / "fields.mkv"
    assert vfi("upsample", interlaced, "-o", fields, "-f", "2", "-m", "blend", "--lossless").exit_code == 0
    out = tmp_path / "out.mkv"
    result = vfi("upsample", interlaced, "-o", out, *args, "-m", "blend", "--lossless")
    assert result.exit_code == 0, result.output
    assert probe(out).fps == rate and len(read_frames(out)) == rate
    if rate % 50 == 0:  # the fields themselves, every (rate / 50)-th frame
        step = rate // 50
        assert all(np.array_equal(a, b) for a, b in zip(read_frames(out)[::step], read_frames(fields)))


def test_a_named_deinterlacer_is_used_and_a_wrong_name_is_one_line(interlaced, tmp_path):
    result = vfi("upsample", interlaced, "-o", tmp_path / "y.mp4", "-f", "2", "-m", "dup", "--deinterlace", "yadif")
    assert result.exit_code == 0 and "deinterlaced with yadif" in result.output, result.output
    result = vfi("upsample", interlaced, "-o", tmp_path / "z.mp4", "-f", "2", "--deinterlace", "weave")
    assert result.exit_code == 1 and "choose one of auto, off, bwdif, yadif" in result.output
    assert not (tmp_path / "z.mp4").exists()


# -- 3. a header that lies about the rate -------------------------------------------------------------

def test_the_timestamps_rate_beats_a_header_that_disagrees(tmp_path):
    truth = moving_frames(25, h=64, w=96)
    at30 = make_clip(tmp_path / "at30.mkv", truth, fps=30)
    src = tmp_path / "header30.mkv"  # the same frames re-stamped 40 ms apart; the header still says 30 fps
    ffmpeg("-i", at30, "-c", "copy", "-bsf:v", "setts=ts=N*40", src)
    assert float(probe(src).fps) == 25
    out = tmp_path / "out.mkv"
    result = vfi("upsample", src, "-o", out, "-f", "2", "-m", "blend", "--lossless")
    assert result.exit_code == 0, result.output
    assert "header says 30 fps but its timestamps are steady at 25 fps" in result.output
    assert probe(out).fps == 50
    frames = read_frames(out)
    assert len(frames) == 50
    assert all(np.array_equal(frames[2 * i], truth[i]) for i in range(25))  # every real frame in its place


# -- 4. video that starts after the audio --------------------------------------------------------------

def test_video_that_starts_after_the_audio_keeps_its_offset(tmp_path):
    video = make_clip(tmp_path / "v.mp4", moving_frames(24, h=64, w=96))
    src = tmp_path / "late.mp4"
    ffmpeg("-f", "lavfi", "-i", "sine=duration=2", "-itsoffset", "0.5", "-i", video,
           "-map", "1:v", "-map", "0:a", "-c:v", "copy", "-c:a", "aac", src)
    before = stream_starts(src)
    assert before["video"] - before["audio"] == pytest.approx(0.5, abs=0.03)
    out = tmp_path / "out.mp4"
    result = vfi("upsample", src, "-o", out, "-f", "2", "-m", "blend")
    assert result.exit_code == 0, result.output
    after = stream_starts(out)
    assert after["video"] - after["audio"] == pytest.approx(before["video"] - before["audio"], abs=1 / 48 + 0.01)


# -- 5. HDR10 side data ----------------------------------------------------------------------------------

MASTER = "G(13250,34500)B(7500,3000)R(34000,16000)WP(15635,16450)L(10000000,1)"


def test_hdr10_mastering_and_light_level_are_carried_or_named(tmp_path):
    src = tmp_path / "hdr10.mkv"
    ffmpeg("-f", "lavfi", "-i", "testsrc=size=128x72:rate=24:duration=0.25", "-pix_fmt", "yuv420p10le",
           "-c:v", "libx265", "-preset", "ultrafast", "-x265-params",
           f"log-level=error:colorprim=bt2020:transfer=smpte2084:colormatrix=bt2020nc:master-display={MASTER}:"
           "max-cll=1000,400", "-color_primaries", "bt2020", "-color_trc", "smpte2084", "-colorspace", "bt2020nc", src)
    facts = read_facts(src, 0)
    assert facts.mastering.x265() == MASTER and (facts.light_level.max_cll, facts.light_level.max_fall) == (1000, 400)

    out = tmp_path / "out.mkv"
    result = vfi("upsample", src, "-o", out, "-f", "2", "-m", "blend")
    assert result.exit_code == 0, result.output
    carried = read_facts(out, 0)
    assert carried.mastering == facts.mastering and carried.light_level == facts.light_level

    result = vfi("upsample", src, "-o", tmp_path / "out.webm", "-f", "2", "-m", "blend", "--codec", "vp9")
    assert result.exit_code == 0, result.output
    assert "mastering-display" in result.output and "light-level" in result.output


# -- 6. absurd option values ----------------------------------------------------------------------------

@pytest.mark.parametrize("option", [["--tile", "1"], ["--tile", "127"], ["--batch-size", "100000"]])
def test_an_absurd_option_is_refused_at_once(clip, tmp_path, option):
    started = time.monotonic()
    result = vfi("upsample", clip, "-o", tmp_path / "out.mp4", "-f", "2", *option)
    assert result.exit_code in (1, 2) and time.monotonic() - started < 20
    assert "Traceback" not in result.output and not (tmp_path / "out.mp4").exists()
    if option[0] == "--tile":
        assert result.exit_code == 1 and "at least 128 pixels" in result.output


# -- 7, 8. odd characters in file names -------------------------------------------------------------------

@pytest.mark.parametrize("source, target", [("50%.mp4", "out 100%.mp4"), ("pipe:0.mp4", "http:out.mp4"),
                                            ("-clip.mp4", "-out.mp4")])
def test_names_that_look_like_patterns_protocols_or_options_are_plain_files(tmp_path, monkeypatch, source, target):
    """'%' is a sequence only as a printf number; 'pipe:' and 'http:' are no protocols, '-x' no option."""
    monkeypatch.chdir(tmp_path)
    make_clip(tmp_path / source, moving_frames(8), audio=True)
    result = vfi("upsample", "-o", target, "-f", "2", "-m", "blend", "--", source)
    assert result.exit_code == 0, result.output
    info = probe(tmp_path / target)
    assert info.audio_codecs == ("aac",) and len(read_frames(tmp_path / target)) == 16


# -- 9, 10. signals -----------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def long_clip(tmp_path_factory) -> Path:
    return make_clip(tmp_path_factory.mktemp("long") / "in.mp4", moving_frames(40, h=128, w=160))


@pytest.mark.parametrize("sig, code, word", [(signal.SIGINT, 130, "interrupted"), (signal.SIGTERM, 143, "terminated"),
                                             (signal.SIGHUP, 129, "terminated")])
def test_a_signal_to_the_whole_process_group_keeps_finished_parts(long_clip, tmp_path, sig, code, word):
    """As a terminal sends Ctrl-C (or SIGHUP when it closes, and a service manager SIGTERM) to every
    process of the job."""
    out = tmp_path / "out.mp4"
    args = [long_clip, "-o", out, "-f", "8", "-b", "1", "--part-frames", "16"]
    proc = vfi_process("upsample", *args)
    wait_for(lambda: any(parts_folder(out).glob("part_*.nut")), proc)
    os.killpg(proc.pid, sig)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == code, stderr
    assert word in stderr and "--resume" in stderr and "Traceback" not in stderr
    assert any(parts_folder(out).glob("part_*.nut")) and not out.exists()
    assert not lock_path(out).exists()

    result = vfi("upsample", *args, "--resume", "-q")
    assert result.exit_code == 0, result.output
    assert len(read_frames(out)) == 320


# -- 11. two runs on one output --------------------------------------------------------------------------------

def test_a_second_run_on_the_same_output_is_refused_and_the_first_finishes(long_clip, tmp_path):
    out = tmp_path / "out.mp4"
    args = [long_clip, "-o", out, "-f", "8", "-b", "1", "--part-frames", "32", "--lossless"]
    first = vfi_process("upsample", *args)
    wait_for(lambda: parts_folder(out).is_dir(), first)
    second = vfi("upsample", *args)
    assert second.exit_code == 1
    assert f"another vfi run (pid {first.pid}) is writing this output" in second.output
    assert len(second.output.strip().splitlines()) == 1
    _, stderr = first.communicate(timeout=300)
    assert first.returncode == 0, stderr
    assert len(read_frames(out)) == 320 and not lock_path(out).exists()


def test_a_lock_left_by_a_killed_run_is_taken_over_with_a_note(long_clip, tmp_path):
    out = tmp_path / "out.mp4"
    args = [long_clip, "-o", out, "-f", "2", "--part-frames", "16"]
    killed = vfi_process("upsample", *args, "-b", "1")
    wait_for(lambda: lock_path(out).exists() and lock_path(out).read_text().strip(), killed)
    os.killpg(killed.pid, signal.SIGKILL)
    killed.communicate(timeout=60)
    assert lock_path(out).exists()
    result = vfi("upsample", *args, "-m", "blend")
    assert result.exit_code == 0, result.output
    assert f"an earlier run (pid {killed.pid}) ended without releasing its lock" in result.output
    assert len(read_frames(out)) == 80 and not lock_path(out).exists()
