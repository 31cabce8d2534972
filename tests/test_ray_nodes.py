"""`--ray` on a cluster of two Ray nodes (two raylets on this machine, one CPU each): the parts run on
both, the output equals the single-process run, a node lost mid-run costs nothing but time, and a
CUDA run asks every task for a GPU."""

from __future__ import annotations

import subprocess
from dataclasses import replace

import numpy as np
import pytest
import ray
from ray.cluster_utils import Cluster

from conftest import make_clip, moving_frames
from vfi.io.decode import read_frames
from vfi.io.encode import EncodeSettings
from vfi.io.ffmpeg import ffmpeg_exe
from vfi.registry import DEFAULT_MODEL, create
from vfi.pipeline.cluster import render_part, upsample_on_ray
from vfi.pipeline.job import upsample

LOSSLESS = EncodeSettings(codec="auto", lossless=True)
PART = 24


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    """120 frames with a key frame every 12: ten parts of 24 output frames at x2."""
    folder = tmp_path_factory.mktemp("nodes")
    source = make_clip(folder / "source.mkv", moving_frames(120, h=64, w=96, scene="ball"))
    path = folder / "gop.mp4"
    subprocess.run([ffmpeg_exe(), "-v", "error", "-i", str(source), "-c:v", "libx264", "-g", "12", str(path)],
                   check=True)
    return path


@pytest.fixture(scope="module")
def single(clip):
    out = clip.with_name("single.mkv")
    upsample(clip, out, create(DEFAULT_MODEL), factor=2, encode=LOSSLESS, part_frames=PART)
    return read_frames(out)


@pytest.fixture
def two_nodes():
    if ray.is_initialized():
        ray.shutdown()
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "include_dashboard": False})
    second = cluster.add_node(num_cpus=1, num_gpus=1)  # a GPU only in name, for the placement test
    cluster.wait_for_nodes()
    ray.init(address=cluster.address, log_to_driver=False)
    yield cluster, second
    ray.shutdown()
    cluster.shutdown()


def same(a: list[np.ndarray], b: list[np.ndarray]) -> bool:
    return len(a) == len(b) and all(np.array_equal(x, y) for x, y in zip(a, b))


def test_parts_run_on_both_nodes_and_give_the_single_process_frames(two_nodes, clip, single, tmp_path):
    out = tmp_path / "out.mkv"
    result = upsample_on_ray(clip, out, DEFAULT_MODEL, factor=2, encode=LOSSLESS, part_frames=PART)
    assert len(result.parts_by_node) == 2 and min(result.parts_by_node.values()) >= 1
    assert same(read_frames(out), single)


def test_a_node_lost_mid_run_leaves_the_job_to_the_other_with_the_same_frames(two_nodes, clip, single, tmp_path):
    cluster, second = two_nodes
    lost = []

    def stop_second_node(done_frames):  # after the first finished part, with others in flight on both nodes
        if not lost:
            lost.append(second.node_id)
            cluster.remove_node(second, allow_graceful=False)

    out = tmp_path / "out.mkv"
    result = upsample_on_ray(clip, out, DEFAULT_MODEL, factor=2, encode=LOSSLESS, part_frames=PART,
                             on_frame=stop_second_node)
    assert lost
    assert same(read_frames(out), single)
    assert sum(result.parts_by_node.values()) == len(single) // PART  # every part came back, none twice


def test_a_cuda_run_asks_each_task_for_a_gpu(two_nodes, clip, single, tmp_path):
    cluster, second = two_nodes
    on_cpu = lambda task: render_part(replace(task, device="cpu"))  # the "GPU" here is one in name only
    out = tmp_path / "out.mkv"
    result = upsample_on_ray(clip, out, DEFAULT_MODEL, device="cuda", factor=2, encode=LOSSLESS, part_frames=PART,
                             runner=on_cpu)
    assert set(result.parts_by_node) == {second.node_id}  # the only node with a GPU
    assert same(read_frames(out), single)
