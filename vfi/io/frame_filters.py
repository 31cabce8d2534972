"""The libav filters between the decoder and vfi, chosen as ffmpeg's command line chooses them: the
turn (or flip) a stream's display matrix asks for, so frames come out upright, a deinterlacer that
makes one frame of each field, and the conversion to packed RGB with the command line's scaler
settings (bicubic), whose chroma upsampling keeps 10-bit 4:2:0 video closer to its source than
PyAV's own conversion (bilinear; docs/design.md).
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Optional, Sequence

Step = tuple[str, Optional[str]]  # a filter's name and its arguments


def display_rotation(matrix: Sequence[int]) -> float:
    """Counter-clockwise degrees a display matrix (3x3, 16.16 fixed point, row by row) turns the
    picture, as libav measures it; 0 for a matrix that collapses the picture."""
    fixed = [value / 65536 for value in matrix]
    scale_x, scale_y = math.hypot(fixed[0], fixed[3]), math.hypot(fixed[1], fixed[4])
    if not scale_x or not scale_y:
        return 0.0
    return -math.degrees(math.atan2(fixed[1] / scale_y, fixed[0] / scale_x))


def display_options(matrix: Sequence[int]) -> tuple[float, bool]:
    """(rotation, horizontal flip) from which ffmpeg's -display_rotation and -display_hflip build this
    very matrix again (it sets the rotation, then negates the first column for the flip), so that a
    mirrored picture is not tagged as a half turn."""
    fixed = [value / 65536 for value in matrix]
    if fixed[0] * fixed[4] - fixed[1] * fixed[3] >= 0:
        return display_rotation(matrix), False
    return -math.degrees(math.atan2(fixed[1], -fixed[0])), True


def upright_steps(matrix: Optional[Sequence[int]]) -> list[Step]:
    """The filters that show a stored picture the way its display matrix says: quarter turns by
    transposing (with the flip a mirrored matrix adds), a half turn by flipping both ways, and any
    other angle by rotating."""
    if matrix is None:
        return []
    clockwise = -round(display_rotation(matrix))
    clockwise -= 360 * math.floor(clockwise / 360 + 0.9 / 360)
    if abs(clockwise - 90) < 1:
        return [("transpose", "cclock_flip" if matrix[3] > 0 else "clock")]
    if abs(clockwise - 180) < 1:
        return [step for step, needed in ((("hflip", None), matrix[0] < 0), (("vflip", None), matrix[4] < 0)) if needed]
    if abs(clockwise - 270) < 1:
        return [("transpose", "clock_flip" if matrix[3] < 0 else "cclock")]
    if abs(clockwise) > 1:
        return [("rotate", f"{clockwise:f}*PI/180")]
    return [("vflip", None)] if matrix[4] < 0 else []


def deinterlace_steps(deinterlacer: Optional[str]) -> list[Step]:
    """One frame per field, each field's parity as the stream marks it."""
    return [(deinterlacer, "mode=send_field:parity=auto:deint=all")] if deinterlacer else []


SCALER = "flags=bicubic"  # ffmpeg's command line converts with these settings


class FrameFilters:
    """Runs decoded frames through a chain of libav filters ending in `pix_fmt`. The chain is built on
    the first frame, whose size and format it takes, and built again when they change (an image
    sequence may mix formats), as the command line does."""

    def __init__(self, steps: Sequence[Step], time_base: Fraction, frame_rate: Fraction, pix_fmt: str):
        self.steps = [*steps, ("scale", SCALER), ("format", pix_fmt)]
        self.time_base, self.frame_rate = time_base, frame_rate
        self._graph = None
        self._input: Optional[tuple[int, int, str]] = None

    def _build(self, frame) -> None:
        import av.filter

        graph = av.filter.Graph()
        nodes = [graph.add("buffer", video_size=f"{frame.width}x{frame.height}", pix_fmt=frame.format.name,
                           time_base=str(self.time_base), frame_rate=str(self.frame_rate), pixel_aspect="1/1")]
        nodes += [graph.add(name, args) for name, args in self.steps]
        nodes.append(graph.add("buffersink"))
        graph.link_nodes(*nodes).configure()
        self._graph, self._input = graph, (frame.width, frame.height, frame.format.name)

    def _run(self, frame) -> list:
        import av

        self._graph.vpush(frame)
        out = []
        while True:
            try:
                out.append(self._graph.vpull())
            except (av.BlockingIOError, av.EOFError):
                return out

    def __call__(self, frame) -> list:
        """The frames that come out for one frame in (None: the end of the stream, flushing the rest)."""
        if frame is None:
            return self._run(None) if self._graph is not None else []
        out = []
        if self._input != (frame.width, frame.height, frame.format.name):
            out = self._run(None) if self._graph is not None else []
            self._build(frame)
        return out + self._run(frame)
