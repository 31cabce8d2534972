"""Two-way DIS optical flow between frames: the motion `flow` warps along and `ode` starts from.

Two things are added to OpenCV's DIS:
- still surroundings stay still (`stillness.keep_still`);
- along a video, a pair's search starts from the motion the pair before it ended with
  (`VideoFlow`). DIS searches coarse to fine from zero motion and loses objects that move
  farther than its coarsest level can see; motion is mostly steady from one pair to the
  next, so a search started from the last one finds them. The gain grows along an unbroken
  run of pairs (README.md, "Quality", gives the figures).
"""

from __future__ import annotations

import cv2
import numpy as np

from vfi.motion.memory import PictureMemory, picture_key
from vfi.motion.resample import pixel_grid
from vfi.motion.stillness import keep_still

PRESET = cv2.DISOPTICAL_FLOW_PRESET_MEDIUM
REMEMBERED = 16  # recent pairs whose end motion is kept: a batch may take its pairs out of order, tiles split them


MAX_ASPECT = 4  # DIS sizes its pyramid by the long side: a strip thinner than this shrinks to nothing


def _calc(gray0: np.ndarray, gray1: np.ndarray, start: np.ndarray | None) -> np.ndarray:
    """One DIS search with an instance of its own. A reused instance is unsafe: after a search
    given a start, its later searches differ from a fresh one's; one shared by two threads
    crashes; one reused at a size with more pyramid levels reads past its buffers
    (opencv_contrib#1355). A new instance costs well under a millisecond.

    A thin strip (8000x16) is searched padded to MAX_ASPECT, its edges repeated: DIS would
    shrink its short side to zero pixels on the coarse levels and fail."""
    h, w = gray0.shape[:2]
    pad_h, pad_w = max(0, -(-w // MAX_ASPECT) - h), max(0, -(-h // MAX_ASPECT) - w)
    if pad_h or pad_w:
        grow = lambda a: cv2.copyMakeBorder(a, 0, pad_h, 0, pad_w, cv2.BORDER_REPLICATE)
        start = None if start is None else grow(start)
        return np.ascontiguousarray(_calc(grow(gray0), grow(gray1), start)[:h, :w])
    return cv2.DISOpticalFlow_create(PRESET).calc(gray0, gray1, start)


def shrink_gray(gray: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """A grey frame at `size` (h, w), area-filtered: the scale motion is estimated at."""
    if gray.shape[:2] == tuple(size):
        return gray
    return cv2.resize(gray, (size[1], size[0]), interpolation=cv2.INTER_AREA)


def reversed_motion(f01: np.ndarray) -> np.ndarray:
    """A first guess of the 1 -> 0 flow from the 0 -> 1 flow: each motion turned round where it lands."""
    grid = pixel_grid(*f01.shape[:2])
    return -cv2.remap(f01, grid - f01, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def two_way_flow(gray0: np.ndarray, gray1: np.ndarray, start: np.ndarray | None = None
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Flows 0 -> 1 and 1 -> 0, (h, w, 2) float32 in pixels, with still surroundings kept still.

    `start`: a 0 -> 1 motion to begin the search from (the 1 -> 0 search then begins from its
    reverse); None searches from zero motion.
    """
    if start is None:
        f01, f10 = _calc(gray0, gray1, None), _calc(gray1, gray0, None)
    else:
        f01 = _calc(gray0, gray1, np.array(start, np.float32))  # DIS writes its result into the start
        f10 = _calc(gray1, gray0, reversed_motion(f01))
    return keep_still(gray0, gray1, f01, f10)


class MotionMemory:
    """The motion recent pairs ended with, looked up by the exact picture they ended on."""

    def __init__(self, size: int = REMEMBERED):
        self._ends = PictureMemory(size)

    def continuing(self, gray0: np.ndarray) -> np.ndarray | None:
        """The 0 -> 1 motion at frame `gray0` if a remembered pair ended on it (constant velocity)."""
        f10 = self._ends.get(picture_key(gray0))
        return None if f10 is None else -f10

    def remember(self, gray1: np.ndarray, f10: np.ndarray) -> None:
        self._ends.put(picture_key(gray1), f10)

    def clear(self) -> None:
        self._ends.clear()


class VideoFlow:
    """Two-way flow for the pairs of a video, each started from the motion the pair before ended with.

    A pair met again (a four-frame model asks for the pairs around its own, so each pair is met
    up to three times) gets the flows it got the first time. Calls must come one at a time.
    `forget()` starts afresh: results then do not depend on what was computed before, which a
    resumed run needs to give the frames an unbroken one would.
    """

    def __init__(self):
        self.memory = MotionMemory()
        self.pairs = PictureMemory(REMEMBERED)

    def __call__(self, gray0: np.ndarray, gray1: np.ndarray, size: tuple[int, int]
                 ) -> tuple[np.ndarray, np.ndarray]:
        """Flows of two grey frames, computed and returned at `size` (h, w), in pixels of that size."""
        gray0, gray1 = shrink_gray(gray0, size), shrink_gray(gray1, size)

        def search() -> tuple[np.ndarray, np.ndarray]:
            f01, f10 = two_way_flow(gray0, gray1, self.memory.continuing(gray0))
            self.memory.remember(gray1, f10)
            return f01, f10

        return self.pairs.recall(picture_key(gray0, gray1), search)

    def forget(self) -> None:
        self.memory.clear()
        self.pairs.clear()
