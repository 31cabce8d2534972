"""Reading a video from near a given time: from a key frame at or before it, never from the start.

A Ray task renders one part of the output and a resumed run continues from a late one; both
need the input only from shortly before their first frame. Decoding starts at the key frame
libav seeks to, a few frames earlier than needed (the first pair's neighbour, a deinterlacer's
warm-up), and frames keep the times a read from the beginning gives them: libav's timestamps are
the stream's own, wherever a read starts. Some containers seek past the time asked for: the read
then starts further back, and after a few tries from the beginning, with a note; so it does where
the first frame after a seek lies off the frame grid.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Iterator, Optional

from vfi.io.decode import FrameReader, TimedFrame
from vfi.io.probe import VideoInfo

MARGIN_FRAMES = 4  # decoded before the first frame needed (a deinterlacer looks one frame back)
BACKOFF_SECONDS = (Fraction(1), Fraction(8), Fraction(60))  # further back each time a seek lands too late


def on_grid(ts: Fraction, rate: Fraction) -> bool:
    """Whether a time is a whole number of frames: steady video read from the beginning has its times
    snapped there, so a first frame off it means the seek did not land where a whole read would."""
    return (ts * rate).denominator == 1


def can_seek(info: VideoInfo) -> bool:
    """Seeking keeps every frame and time of a read from the beginning only where times follow a steady
    rate (they are then snapped to one grid, whatever a seek does to their rounding); an image sequence
    and variable-rate video are read from the beginning."""
    return not info.is_sequence and info.timestamps_steady and info.time_base is not None


class ReadFrom:
    """The frames of `info` from about `needed` seconds (after the first frame, whose time in the
    stream's timeline is `origin`) to the end, as TimedFrames; `decoded` counts every frame decoded for it."""

    def __init__(self, info: VideoInfo, needed: Fraction, origin: Fraction, alpha: bool = False):
        self.info, self.needed, self.origin, self.alpha = info, Fraction(needed), Fraction(origin), alpha
        self.note: Optional[str] = None
        self._readers: list[FrameReader] = []

    @property
    def decoded(self) -> int:
        return sum(r.decoded for r in self._readers)

    def _reader(self, start: Optional[Fraction]) -> FrameReader:
        reader = FrameReader(self.info, timed=True, alpha=self.alpha, start=start, origin=self.origin)
        self._readers.append(reader)
        return reader

    def __iter__(self) -> Iterator[TimedFrame]:
        margin = MARGIN_FRAMES / self.info.fps
        target = self.needed - margin
        if target > 0 and can_seek(self.info):
            for back in (Fraction(0), *BACKOFF_SECONDS):
                frames = iter(self._reader(self.origin + max(Fraction(0), target - back)))
                try:
                    first = next(frames, None)
                    if first is not None and not on_grid(first.ts, self._readers[-1].rate):
                        self.note = (f"{self.info.path.name}: a seek lands off its frame grid, so parts read it "
                                     "from the beginning")
                        break
                    if first is not None and first.ts <= self.needed:
                        yield first
                        yield from frames
                        return
                finally:
                    frames.close()
                if target - back <= 0:
                    break
            self.note = self.note or (f"{self.info.path.name}: seeking did not land at or before "
                                      f"{float(self.needed):.2f} s, so a part read it from the beginning")
        frames = iter(self._reader(None))
        try:
            yield from frames
        finally:
            frames.close()
