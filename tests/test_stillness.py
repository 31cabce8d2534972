"""Still background that a flow estimate dragged along with a moving object gets its zero motion back."""

import cv2
import numpy as np

from vfi.motion.stillness import prefer_stillness

SHIFT = 6  # the square moves this many pixels right between the frames


def noisy_pair_with_a_moving_square(shift=SHIFT, seed=0):
    """A textured static background with camera noise, and a textured square at x = 30 and 30 + shift."""
    rng = np.random.default_rng(seed)
    background = cv2.GaussianBlur(rng.uniform(0, 255, (96, 128)).astype(np.float32), (0, 0), 1.0)
    background = cv2.normalize(background, None, 40, 200, cv2.NORM_MINMAX)
    texture = rng.uniform(0, 255, (24, 24)).astype(np.float32)
    frames = []
    for x in (30, 30 + shift):
        f = background.copy()
        f[36:60, x:x + 24] = texture
        f += rng.normal(0, 3, f.shape)  # fresh noise in every frame
        frames.append(np.clip(f, 0, 255).astype(np.uint8))
    return frames


def test_motion_bled_into_the_still_background_is_removed_and_the_square_keeps_its_own():
    g0, g1 = noisy_pair_with_a_moving_square()
    # what DIS does near a fast object: its motion spills well into the still background around it
    spill = np.zeros(g0.shape, bool)
    spill[20:76, 14:76] = True
    bled = np.zeros((*g0.shape, 2), np.float32)
    bled[spill, 0] = SHIFT
    flow = prefer_stillness(g0, g1, bled)
    square = np.zeros(g0.shape, np.uint8)
    square[36:60, 30:30 + 24 + SHIFT] = 1  # where the square is, in either frame
    near = cv2.dilate(square, np.ones((17, 17), np.uint8)) > 0  # within the comparison window
    background = spill & ~near
    assert (flow[background] == 0).all(axis=1).mean() > 0.95
    inside = (slice(40, 56), slice(34, 50))  # inside the square in frame 0, away from its edges
    assert np.array_equal(flow[inside], bled[inside])


def test_a_flow_that_explains_the_motion_is_never_replaced():
    g0, _ = noisy_pair_with_a_moving_square(shift=0)
    g1 = np.roll(g0, 5, axis=1)  # the whole frame moves 5 px right
    true = np.zeros((*g0.shape, 2), np.float32)
    true[..., 0] = 5
    flow = prefer_stillness(g0, g1, true)
    assert np.array_equal(flow[:, 8:-8], true[:, 8:-8])


def test_content_that_really_changed_keeps_its_flow_even_when_the_flow_is_poor():
    g0, _ = noisy_pair_with_a_moving_square(seed=1)
    g1, _ = noisy_pair_with_a_moving_square(seed=2)  # unrelated content: nothing here is still
    poor = np.full((*g0.shape, 2), 3.0, np.float32)
    assert np.array_equal(prefer_stillness(g0, g1, poor), poor)
