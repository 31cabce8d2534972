"""`vfi upsample --ray`: parts rendered as Ray tasks on a local 2-CPU cluster give the single-process frames."""

from __future__ import annotations

import os
import time

import numpy as np
import pytest
import ray

from conftest import make_clip, moving_frames, vfi
from vfi.io.decode import read_frames
from vfi.io.encode import EncodeSettings
from vfi.io.probe import VideoError, probe
from vfi.registry import DEFAULT_MODEL, create
from vfi.pipeline.job import upsample

LOSSLESS = EncodeSettings(codec="auto", lossless=True)
PART = 16  # output frames per part: 30 input frames at x2 make 4 parts


@pytest.fixture(scope="module")
def cluster():
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)  # not a running cluster
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ray")
    return make_clip(folder / "ball.mkv", moving_frames(30, scene="ball"), audio=True)


@pytest.fixture(scope="module")
def single(clip):
    out = clip.with_name("single.mkv")
    upsample(clip, out, create(DEFAULT_MODEL), factor=2, encode=LOSSLESS, part_frames=PART)
    return read_frames(out)


def same_frames(a: list[np.ndarray], b: list[np.ndarray]) -> bool:
    return len(a) == len(b) and all(np.array_equal(x, y) for x, y in zip(a, b))


def test_parts_on_two_workers_give_the_single_process_frames_and_keep_the_audio(cluster, clip, single, tmp_path):
    out = tmp_path / "ray.mkv"
    result = vfi("upsample", clip, "-o", out, "-f", "2", "--lossless", "--part-frames", PART, "--ray", "-q")
    assert result.exit_code == 0, result.output
    frames = read_frames(out)
    assert len(frames) >= 3 * PART and same_frames(frames, single)
    assert [s.kind for s in probe(out).streams] == ["Audio"]
    assert not any(p.name.startswith(".") for p in tmp_path.iterdir())  # no parts folder or temporaries left


def test_a_task_whose_worker_dies_is_retried_and_the_result_is_unchanged(cluster, clip, single, tmp_path):
    from vfi.pipeline.cluster import render_part, upsample_on_ray

    marker = tmp_path / "crash-once"
    marker.touch()

    def crash_once(task):
        if task.part == 1 and os.path.exists(marker):
            os.unlink(marker)
            os._exit(1)  # the worker process dies mid-task, as on a lost node
        return render_part(task)

    out = tmp_path / "retried.mkv"
    upsample_on_ray(clip, out, DEFAULT_MODEL, factor=2, encode=LOSSLESS, part_frames=PART, runner=crash_once)
    assert not marker.exists()  # it did crash once
    assert same_frames(read_frames(out), single)


def test_a_part_that_keeps_failing_is_one_error_and_leaves_no_output(cluster, clip, tmp_path):
    from vfi.pipeline.cluster import upsample_on_ray

    def always_crash(task):
        os._exit(1)

    out = tmp_path / "failed.mkv"
    with pytest.raises(VideoError, match="failed after 3 retries"):
        upsample_on_ray(clip, out, DEFAULT_MODEL, factor=2, encode=LOSSLESS, part_frames=PART, runner=always_crash)
    assert list(tmp_path.iterdir()) == []


def test_an_unreachable_cluster_is_one_line_and_no_output(clip, tmp_path):
    out = tmp_path / "o.mkv"
    result = vfi("upsample", clip, "-o", out, "-f", "2", "--ray", "127.0.0.1:9")
    assert result.exit_code == 1 and "no Ray cluster answers" in result.output
    assert len(result.output.strip().splitlines()) == 1 and list(tmp_path.iterdir()) == []


def test_an_input_the_workers_cannot_see_is_named(clip, tmp_path):
    from vfi.pipeline.cluster import PartTask, render_part

    task = PartTask(str(tmp_path / "elsewhere.mkv"), (), 0, "auto", False, "flow", "cpu", None, None, 48, 48, 4, 0.5, False,
                    LOSSLESS, (), PART, 0, str(tmp_path / "part.nut"))
    with pytest.raises(VideoError, match="not readable on the Ray worker"):
        render_part(task)


def test_a_folder_becomes_one_task_per_video(cluster, clip, single, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    for name in ("a.mkv", "b.mkv"):
        (folder / name).write_bytes(clip.read_bytes())
    result = vfi("upsample", folder, "-o", tmp_path / "out", "-f", "2", "--lossless", "--part-frames", PART,
                 "--ray", "-q")
    assert result.exit_code == 0, result.output
    assert "2 done" in result.output
    for name in ("a.mkv", "b.mkv"):
        assert same_frames(read_frames(tmp_path / "out" / name), single)


def test_without_ray_installed_the_option_says_how_to_get_it(monkeypatch):
    import sys

    from vfi.pipeline.cluster import connect

    monkeypatch.setitem(sys.modules, "ray", None)  # what an install without the extra has
    with pytest.raises(VideoError, match=r"pip install 'vfi\[ray\]'"):
        connect("local")


def test_an_error_inside_a_task_reaches_the_user_as_its_own_line_and_leaves_nothing(cluster, clip, tmp_path):
    from vfi.pipeline.cluster import upsample_on_ray

    def cannot_see(task):
        raise VideoError(f"{task.input}: not readable on the Ray worker at node-7; put the input on storage "
                         "every node sees")

    out = tmp_path / "o.mkv"
    with pytest.raises(VideoError, match="not readable on the Ray worker at node-7") as caught:
        upsample_on_ray(clip, out, DEFAULT_MODEL, factor=2, part_frames=PART, runner=cannot_see)
    assert "Traceback" not in str(caught.value) and list(tmp_path.iterdir()) == []


def test_when_one_part_fails_the_running_parts_stop_themselves_and_nothing_is_left(cluster, clip, tmp_path_factory,
                                                                                    tmp_path):
    from vfi.pipeline.cluster import PartStopped, render_part, upsample_on_ray

    seen = tmp_path_factory.mktemp("seen")

    def first_fails(task):
        if task.part == 0:
            while not (seen / "started").exists():  # the other worker is on a part by now
                time.sleep(0.05)
            raise VideoError("part 0 cannot be read")
        (seen / "started").touch()
        time.sleep(2.0)  # a long part: still running when part 0 fails
        try:
            return render_part(task)
        except PartStopped:
            (seen / f"stopped-{task.part}").touch()
            raise

    out = tmp_path / "o.mkv"
    with pytest.raises(VideoError, match="part 0 cannot be read"):
        upsample_on_ray(clip, out, "select", factor=2, part_frames=PART, runner=first_fails)
    assert list(tmp_path.iterdir()) == []
    assert any(p.name.startswith("stopped") for p in seen.iterdir())  # it ended early instead of running on


def test_each_part_decodes_only_from_the_key_frame_before_it(cluster, tmp_path):
    """240 frames with a key frame every 12: ten parts decode about their own stretch each, not the
    input up to their part, and give the single-process frames."""
    import subprocess

    from vfi.io.ffmpeg import ffmpeg_exe
    from vfi.pipeline.cluster import upsample_on_ray

    source = make_clip(tmp_path / "source.mkv", moving_frames(240, h=48, w=64, scene="ball"))
    clip = tmp_path / "gop.mp4"
    subprocess.run([ffmpeg_exe(), "-v", "error", "-i", str(source), "-c:v", "libx264", "-g", "12", "-bf", "2",
                    str(clip)], check=True)
    single = tmp_path / "single.mkv"
    upsample(clip, single, create(DEFAULT_MODEL), factor=2, encode=LOSSLESS, part_frames=48)
    out = tmp_path / "ray.mkv"
    result = upsample_on_ray(clip, out, DEFAULT_MODEL, factor=2, encode=LOSSLESS, part_frames=48)
    assert same_frames(read_frames(out), read_frames(single))
    assert result.stats.frames_in == 240
    assert result.decoded < 2.5 * 240  # from the start each time: 24 + 48 + ... + 240 = 1,320
