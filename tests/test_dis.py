"""Motion carried from pair to pair along a video (vfi/motion/dis.py): found where DIS alone loses it, never leaked."""

from __future__ import annotations

import math
from fractions import Fraction

import cv2
import numpy as np
import pytest

from vfi.classic import FlowWarp
from vfi.motion.dis import VideoFlow
from vfi.core.metrics import psnr
from vfi.pipeline.stream import interpolate_stream
from vfi.registry import create
from vfi.training.synthetic import make_scene, scene_translate
from vfi.io.decode import TimedFrame


def fast_pan(frames: int = 17) -> list[np.ndarray]:
    """A camera pan of 12 px per frame: 48 px between the frames kept at x4, more than DIS finds from rest."""
    return scene_translate(160, 224, np.random.default_rng(0), speed=12).clip(frames)


def scores_per_pair(outputs: list[np.ndarray], frames: list[np.ndarray], k: int) -> list[float]:
    return [float(np.mean([psnr(outputs[i + j], frames[i + j]) for j in range(1, k)]))
            for i in range(0, len(frames) - k, k)]


@pytest.mark.parametrize("model", ["flow", "ode"])
def test_a_fast_pan_is_followed_once_the_pair_before_gave_its_motion(model):
    frames, k = fast_pan(), 4
    interpolator = create(model)
    along = list(interpolate_stream(frames[::k], k, interpolator))
    alone = []
    for i in range(0, len(frames) - k, k):
        interpolator.reset()  # every pair on its own, searched from rest
        alone += [frames[i]] + list(interpolator.interpolate(frames[i][None], frames[i + k][None],
                                                                    [j / k for j in range(1, k)])[0])
    alone.append(frames[-1])
    with_memory, without = scores_per_pair(along, frames, k), scores_per_pair(alone, frames, k)
    assert with_memory[0] == pytest.approx(without[0])  # the first pair has nothing to start from
    assert np.mean(with_memory[1:]) > np.mean(without[1:]) + 5


def test_memory_continues_only_from_the_exact_frame_a_pair_ended_on():
    frames = [cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in fast_pan(4)]
    video = VideoFlow()
    video(frames[0], frames[1], frames[0].shape)
    assert video.memory.continuing(frames[1]) is not None
    assert video.memory.continuing(frames[2]) is None
    assert video.memory.continuing(frames[1][:, ::-1].copy()) is None  # a different picture of the same size
    video.forget()
    assert video.memory.continuing(frames[1]) is None


def test_a_pair_met_again_gets_the_flows_it_got_the_first_time():
    """A four-frame model asks for the pairs around its own: each pair is searched once a video."""
    frames = [cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in fast_pan(4)]
    video = VideoFlow()
    first = video(frames[1], frames[2], frames[0].shape)
    video(frames[2], frames[3], frames[0].shape)  # the memory now also holds a motion ending on frames[3]
    again = video(frames[1], frames[2], frames[0].shape)
    assert all(a is b for a, b in zip(first, again))
    video.forget()
    assert video(frames[1], frames[2], frames[0].shape)[0] is not first[0]


def test_a_stream_does_not_depend_on_what_the_interpolator_did_before():
    """The benchmark scores clip after clip with one interpolator: each must score as if it came first."""
    clip = make_scene("occlusion", 96, 128, seed=2).clip(9)
    other = fast_pan(9)
    used = FlowWarp()
    list(interpolate_stream(other[::2], 2, used))
    used.interpolate(clip[2][None], clip[0][None], [0.5])  # leaves a motion ending on clip[0] in memory
    again = list(interpolate_stream(clip[::2], 2, used))
    fresh = list(interpolate_stream(clip[::2], 2, FlowWarp()))
    assert all(np.array_equal(a, b) for a, b in zip(again, fresh))


@pytest.mark.parametrize("rate_in", [Fraction(24000, 1001), Fraction(25)])
def test_every_pair_follows_the_one_before_when_a_frame_rate_conversion_varies_the_frames_per_pair(
        rate_in, monkeypatch):
    """At 24000/1001 -> 60 fps some pairs need 2 new frames and some 3; batching them by count
    must not compute a pair before the pair it follows."""
    import vfi.motion.dis

    searches = []
    original = vfi.motion.dis.two_way_flow
    monkeypatch.setattr(vfi.motion.dis, "two_way_flow",
                        lambda g0, g1, start=None: (searches.append(start is not None), original(g0, g1, start))[1])
    frames = [TimedFrame(i / rate_in, 1 / rate_in, f) for i, f in enumerate(fast_pan(13))]
    out = list(interpolate_stream(frames, Fraction(60), FlowWarp(), batch_size=4))
    assert len(out) == math.ceil(13 / rate_in * 60)
    assert len(searches) == 12 and searches == [False] + [True] * 11  # only the first pair starts from rest
