"""Streaming decode: a video's frames as RGB arrays, one at a time, with their real timestamps.

libav decodes (through PyAV) one frame at a time, so nothing but the frames in flight is held in
memory; each frame keeps the presentation time its stream gives it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from fractions import Fraction
from typing import Iterator, Optional

import numpy as np

from vfi.io.frame_filters import FrameFilters, deinterlace_steps, upright_steps
from vfi.io.libav import decoded, opened, packets_end
from vfi.io.probe import VideoError, VideoInfo, probe


def raw_pix_fmt(channels: int, deep: bool) -> str:
    """The packed RGB format frames travel in between libav and vfi."""
    return {(3, False): "rgb24", (3, True): "rgb48le", (4, False): "rgba", (4, True): "rgba64le"}[(channels, deep)]


@dataclass
class TimedFrame:
    """A decoded frame and when it is shown: seconds from the first frame, exact fractions."""

    ts: Fraction
    duration: Fraction
    image: np.ndarray


def frame_layout(info: VideoInfo, alpha: bool = False) -> tuple[str, int, np.dtype]:
    """(packed pix_fmt, channels, dtype) that carries the input without loss."""
    channels = 4 if alpha and info.has_alpha else 3
    deep = info.high_bit_depth
    return raw_pix_fmt(channels, deep), channels, np.dtype(np.uint16 if deep else np.uint8)


def snap(seconds: Fraction, rate: Fraction, tolerance: float = 0.1) -> Fraction:
    """Round a timestamp to the nominal frame grid when it is that close: container time bases
    (1/1000 in Matroska, 1/12800 in MP4) blur exact times such as k * 1001/30000."""
    if rate <= 0:
        return seconds
    k = round(seconds * rate)
    return Fraction(k) / rate if abs(seconds * rate - k) < tolerance else seconds


DECODE_TIME_CONTAINERS = ("avi",)  # store no presentation times: libav's guesses at them ignore reordering


class PresentationTimes:
    """Each decoded frame's presentation time as libav judges it best (its best-effort timestamp): the
    frame's own pts, unless pts have run backwards more often than the packets' decode times, and a
    guess one frame on where both are missing. In a container that stores only decode times, frames
    leave the decoder in presentation order and their decode times are the right ones."""

    def __init__(self, frame_ticks: int, decode_times_only: bool = False):
        self.frame_ticks = max(1, frame_ticks)  # one nominal frame, in time-base ticks
        self.decode_times_only = decode_times_only
        self.faulty_pts = self.faulty_dts = 0
        self.last_pts = self.last_dts = None
        self.previous: Optional[tuple[int, int]] = None  # the last frame's time and duration

    def __call__(self, pts: Optional[int], dts: Optional[int], duration: int) -> int:
        if self.decode_times_only or (pts is not None and dts is not None and pts < dts):
            pts = None  # nothing is shown before it is decoded: such a pts is broken
        if dts is not None:
            self.faulty_dts += self.last_dts is not None and dts <= self.last_dts
            self.last_dts = dts
        elif pts is not None:
            self.last_dts = pts
        if pts is not None:
            self.faulty_pts += self.last_pts is not None and pts <= self.last_pts
            self.last_pts = pts
        elif dts is not None:
            self.last_pts = dts
        best = pts if pts is not None and (self.faulty_pts <= self.faulty_dts or dts is None) else dts
        if best is None:
            best = 0 if self.previous is None else self.previous[0] + self.previous[1]
        self.previous = (best, duration if duration > 0 else self.frame_ticks)
        return best


class FrameReader:
    """Decodes a video's video stream (`info.stream_index`) to RGB frames (H, W, 3) one at a time.

    8-bit sources give uint8, deeper ones uint16 (rgb48); `alpha=True` keeps a 4th channel
    where the source has one. `timed=True` yields TimedFrames with the real presentation
    times, so variable-frame-rate input is interpolated where its frames really are.
    A decoding error after the first frame stops the read with a VideoError instead of
    going on with damaged frames, and so does a frame of another size than the first (an image
    sequence with one odd image): it would otherwise be stretched without a word.

    `start` (seconds, in the stream's own timeline) begins decoding at the key frame at or before
    that time (check the first frame's time: some containers land after it). Times count from
    `origin`, the time of the file's first frame (`origin` after a read from the beginning).
    `decoded` counts the frames decoded so far.
    """

    def __init__(self, info: VideoInfo, max_frames: Optional[int] = None, timed: bool = False, alpha: bool = False,
                 start: Optional[Fraction] = None, origin: Optional[Fraction] = None):
        self.info = info
        self.start = Fraction(start) if start else None
        self.origin = origin
        self.decoded = 0
        self.max_frames = max_frames
        self.timed = timed
        self.pix_fmt, self.channels, self.dtype = frame_layout(info, alpha)
        self._rate: Optional[Fraction] = None  # the stream's exact nominal rate, once it is open

    @property
    def rate(self) -> Fraction:
        """The exact nominal frame rate, known once the stream is open: probing reports rates as ffmpeg
        prints them (5.995 fps as '6'), and libav's own rate replaces that when it rounds to it."""
        exact = self._rate or self.info.fps
        return exact if abs(float(exact) - float(self.info.fps)) <= 0.005 + 1e-9 else self.info.fps

    def _frames(self, container, stream) -> Iterator:
        """Decoded (and filtered) frames, with the end of the stream flushing the filters."""
        upright = upright_steps(self.info.display_matrix) if self.info.autorotate else []
        steps = upright + deinterlace_steps(self.info.deinterlace)
        time_base = Fraction(stream.time_base or Fraction(1, 1000))
        filters = FrameFilters(steps, time_base, self._rate or self.info.fps, self.pix_fmt)
        times = PresentationTimes(round(1 / ((self._rate or self.info.fps) * time_base)),
                                  container.format.name in DECODE_TIME_CONTAINERS)
        for frame in decoded(container, stream, self.info.decoder):
            frame.pts = times(frame.pts, frame.dts, frame.duration or 0)
            yield from filters(frame)
        yield from filters(None)

    def _check(self, logs: list, frames: int, errors_before: int) -> None:
        """libav logs damage it meets (and conceals) as errors: any after the first frame stop the read."""
        if len(logs) > errors_before:
            raise VideoError(f"{self.info.path}: decoding failed after {frames} frame(s) "
                             f"(damaged or truncated file?): {logs[-1][2].strip()}")

    def _check_length(self, frames: int, span: Optional[Fraction]) -> None:
        """A video that stops well short of the duration its file declares was cut off, even when
        libav says nothing (it reaches a truncated Matroska file's end without an error). With other
        streams beside it the declared duration may be theirs, so there every stream must end short."""
        info = self.info
        if info.duration is None or info.is_sequence or span is None or self.start:
            return
        short = lambda seconds: seconds < 0.9 * info.duration - 2 / float(info.fps)
        if not short(span):
            return
        if info.streams:
            end = packets_end(info.path, float(span))
            if end is None or not short(end):
                return
            raise VideoError(f"{info.path}: decoding failed after {frames} frame(s) (damaged or truncated "
                             f"file?): every stream ends by {end:.2f} s of the {info.duration:.2f} s the file declares")
        raise VideoError(f"{info.path}: decoding failed after {frames} frame(s) (damaged or truncated "
                         f"file?): the video ends at {float(span):.2f} s of the {info.duration:.2f} s the file declares")

    def __iter__(self) -> Iterator:
        info = self.info
        import av

        with opened(info.path, info.input_options, info.is_sequence) as (container, logs):
            stream = container.streams[info.stream_index]
            self._rate = Fraction(stream.guessed_rate) * (2 if info.deinterlace else 1) if stream.guessed_rate else None
            if self.start:
                container.seek(int(self.start // Fraction(stream.time_base)), stream=stream, backward=True)
            index = 0
            errors_before = None
            first = last_end = None
            try:
                for frame in self._frames(container, stream):
                    if self.max_frames is not None and index >= self.max_frames:
                        return
                    errors_before = len(logs) if errors_before is None else errors_before
                    self._check(logs, index, errors_before)
                    if (frame.width, frame.height) != (info.width, info.height):
                        raise VideoError(f"{info.path}: frame {index} is {frame.width}x{frame.height}, the first frames "
                                         f"{info.width}x{info.height}: vfi needs one frame size throughout")
                    self.decoded = index + 1
                    item = np.ascontiguousarray(frame.to_ndarray())
                    tb = Fraction(frame.time_base) if frame.time_base else Fraction(stream.time_base)
                    if frame.pts is not None:
                        first = frame.pts * tb if first is None else first
                        last_end = frame.pts * tb + max(frame.duration or 0, 0) * tb
                    if self.timed:
                        item = self._timed(frame, tb, index, item)
                    yield item
                    index += 1
            except av.FFmpegError as error:
                raise VideoError(f"{info.path}: decoding failed after {index} frame(s) "
                                 f"(damaged or truncated file?): {error}") from None
            if errors_before is not None:
                self._check(logs, index, errors_before)
            self._check_length(index, None if first is None else last_end - first)

    def _timed(self, frame, tb: Fraction, index: int, image: np.ndarray) -> TimedFrame:
        rate = self.rate
        nominal = 1 / rate
        if frame.pts is None:
            return TimedFrame(Fraction(index) * nominal, nominal, image)
        shown = frame.pts * tb
        self.origin = shown if self.origin is None else self.origin
        trusted = (frame.duration or 0) > 0 and not self.info.header_rate_wrong  # its durations are the header's
        return TimedFrame(snap(shown - self.origin, rate), snap(frame.duration * tb, rate) if trusted else nominal, image)


def read_frames(path: str | os.PathLike, max_frames: Optional[int] = None) -> list[np.ndarray]:
    """Decode a short video whole (for tests and small tools; streaming code uses FrameReader)."""
    return list(FrameReader(probe(path), max_frames=max_frames))


