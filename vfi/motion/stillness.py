"""Zero motion where the pixels did not change and the estimated flow explains them worse.

DIS drags the motion of a fast object into the still surroundings (on a table under a
sliding puck, tens of pixels of flow where nothing moved), and warping along it smears
what should stay put. Where the two frames agree without any motion (within camera noise)
better than they do along the flow, the flow is set to zero; moving content and content
that changed keep their flow.
"""

from __future__ import annotations

import cv2
import numpy as np

from vfi.motion.resample import pixel_grid

WINDOW = 15  # neighbourhood (pixels at the flow's scale) over which the two explanations are compared
MARGIN = 0.9  # no motion must match this much better (error ratio) to replace the flow
STILL_LEVEL = 8.0  # mean |difference| (grey levels) up to which unmoved pixels count as unchanged:
# camera noise and compression; content that really changed (new content at a border, a wrong
# flow in a moving region) differs by more and keeps its flow


def match_error(gray0: np.ndarray, gray1: np.ndarray, flow: np.ndarray | None, window: int = WINDOW) -> np.ndarray:
    """Mean |gray0(x) - gray1(x + flow(x))| over a window around x; flow None means no motion."""
    if flow is None:
        moved = gray1
    else:
        moved = cv2.remap(gray1, pixel_grid(*gray0.shape) + flow, None, cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_REPLICATE)
    return cv2.boxFilter(cv2.absdiff(gray0, moved), cv2.CV_32F, (window, window))


def prefer_stillness(gray0: np.ndarray, gray1: np.ndarray, flow: np.ndarray, window: int = WINDOW,
                     margin: float = MARGIN, still_level: float = STILL_LEVEL,
                     unmoved: np.ndarray | None = None) -> np.ndarray:
    """flow (h, w, 2) from gray0 to gray1, set to zero where the pixels look unchanged and no
    motion matches clearly better than the flow. `unmoved`: match_error(gray0, gray1, None), if known."""
    if unmoved is None:
        unmoved = match_error(gray0, gray1, None, window)
    still = (unmoved < still_level) & (unmoved < margin * match_error(gray0, gray1, flow, window))
    out = flow.copy()
    out[still] = 0.0
    return out


def keep_still(gray0: np.ndarray, gray1: np.ndarray, f01: np.ndarray, f10: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray]:
    """Both flows of a pair through `prefer_stillness`; the no-motion error is the same both ways."""
    unmoved = match_error(gray0, gray1, None)
    return (prefer_stillness(gray0, gray1, f01, unmoved=unmoved),
            prefer_stillness(gray1, gray0, f10, unmoved=unmoved))
