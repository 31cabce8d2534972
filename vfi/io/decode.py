"""Streaming decode: a video's frames as RGB arrays, one at a time, with their real timestamps.

Frames travel as raw RGB over a pipe so nothing but the frames in flight is held in memory;
ffmpeg's showinfo log gives each frame's presentation time.
"""

from __future__ import annotations

import os
import queue
import re
import subprocess
import threading
from dataclasses import dataclass
from fractions import Fraction
from typing import Iterator, Optional

import numpy as np

from vfi.io.ffmpeg import ffmpeg_exe, file_argument, raise_if_stopped, start_ffmpeg
from vfi.io.probe import VideoError, VideoInfo, probe


def raw_pix_fmt(channels: int, deep: bool) -> str:
    """The rawvideo format frames travel in between ffmpeg and vfi."""
    return {(3, False): "rgb24", (3, True): "rgb48le", (4, False): "rgba", (4, True): "rgba64le"}[(channels, deep)]


@dataclass
class TimedFrame:
    """A decoded frame and when it is shown: seconds from the first frame, exact fractions."""

    ts: Fraction
    duration: Fraction
    image: np.ndarray


def frame_layout(info: VideoInfo, alpha: bool = False) -> tuple[str, int, np.dtype]:
    """(ffmpeg rawvideo pix_fmt, channels, dtype) that carries the input without loss."""
    channels = 4 if alpha and info.has_alpha else 3
    deep = info.high_bit_depth
    return raw_pix_fmt(channels, deep), channels, np.dtype(np.uint16 if deep else np.uint8)


_SHOWINFO = re.compile(r"n:\s*\d+\s+pts:\s*(-?\d+)\s+pts_time:\S+\s+duration:\s*(-?\d+).*?\bs:(\d+)x(\d+)")
_TIME_BASE = re.compile(r"config in time_base: (\d+)/(\d+), frame_rate: (\d+)/(\d+)")


def snap(seconds: Fraction, rate: Fraction, tolerance: float = 0.1) -> Fraction:
    """Round a timestamp to the nominal frame grid when it is that close: container time bases
    (1/1000 in Matroska, 1/12800 in MP4) blur exact times such as k * 1001/30000."""
    if rate <= 0:
        return seconds
    k = round(seconds * rate)
    return Fraction(k) / rate if abs(seconds * rate - k) < tolerance else seconds


class FrameReader:
    """Decodes a video's video stream (`info.stream_index`) to RGB frames (H, W, 3) one at a time.

    8-bit sources give uint8, deeper ones uint16 (rgb48); `alpha=True` keeps a 4th channel
    where the source has one. `timed=True` yields TimedFrames with the real presentation
    times, so variable-frame-rate input is interpolated where its frames really are.
    A decoding error after the first frame stops the read with a VideoError instead of
    going on with damaged frames, and so does a frame of another size than the first (an image
    sequence with one odd image): it would otherwise be stretched without a word.

    `start` (seconds) begins decoding at the key frame ffmpeg finds for that time, usually at or
    before it (check the first frame's time: some containers land after it). Times then stay those
    of a read from the beginning, given `origin`, the time of the file's first frame (`origin`
    after such a read). `decoded` counts the frames decoded so far.
    """

    def __init__(self, info: VideoInfo, max_frames: Optional[int] = None, every: int = 1,
                 timed: bool = False, alpha: bool = False, start: Optional[Fraction] = None,
                 origin: Optional[Fraction] = None):
        self.info = info
        self.start = Fraction(round(Fraction(start) * 1_000_000), 1_000_000) if start else None  # what ffmpeg reads
        self.origin = origin
        self.decoded = 0
        self.max_frames = max_frames
        self.every = every
        self.timed = timed
        self.pix_fmt, self.channels, self.dtype = frame_layout(info, alpha)
        self._proc: Optional[subprocess.Popen] = None
        self._errors: list[str] = []
        self._size_error: Optional[str] = None
        self._logged_frames = 0
        self._span: Optional[list[int]] = None  # first pts, end pts (pts + duration) of the decoded frames
        self._stamps: queue.Queue = queue.Queue()
        self._grid = [Fraction(1), info.fps]  # time base, frame rate (from showinfo's log)

    def _command(self) -> list[str]:
        info = self.info
        rotation = [] if info.autorotate else ["-noautorotate"]
        seek = ["-noaccurate_seek", "-ss", f"{float(self.start):.6f}"] if self.start else []
        return [ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "level+info", *info.input_options, *rotation,
                *seek, "-i", file_argument(info.path), "-map", f"0:{info.stream_index}", "-fps_mode", "passthrough",
                "-vf", ",".join(self._filters()),
                "-f", "rawvideo", "-pix_fmt", self.pix_fmt, "-"]

    def _filters(self) -> list[str]:
        """A deinterlacer (one frame per field, the stream's own parity) where the input needs one,
        then showinfo, whose log gives each frame's timestamp."""
        field = [f"{self.info.deinterlace}=mode=send_field:parity=auto:deint=all"] if self.info.deinterlace else []
        return [*field, "showinfo=checksum=0"]

    def _drain(self) -> None:
        """Read ffmpeg's log: frame timestamps go to a queue, errors are kept for the message.

        Errors before the first decoded frame (a capture cut mid-GOP, leading junk) are
        harmless and ignored; any error after it means damaged frames.
        """
        for raw in self._proc.stderr:
            line = raw.decode(errors="replace").rstrip()
            if "[error]" in line or "[fatal]" in line:
                if self._logged_frames:
                    self._errors.append(line.split("] ", 2)[-1] if "] " in line else line)
            elif "showinfo" in line:
                match = _SHOWINFO.search(line)
                if match:
                    self._logged_frames += 1
                    pts, duration = int(match.group(1)), int(match.group(2))
                    size = (int(match.group(3)), int(match.group(4)))
                    if size != (self.info.width, self.info.height) and self._size_error is None:
                        self._size_error = (f"frame {self._logged_frames - 1} is {size[0]}x{size[1]}, the first frames "
                                            f"{self.info.width}x{self.info.height}: vfi needs one frame size throughout")
                    if self._span is None:
                        self._span = [pts, pts]
                    self._span[1] = max(self._span[1], pts + max(duration, 0))
                    if self.timed:
                        self._stamps.put((pts, duration))
                    continue
                base = _TIME_BASE.search(line)
                if base:
                    tb = Fraction(int(base.group(1)), int(base.group(2)))
                    rate = Fraction(int(base.group(3)), max(1, int(base.group(4))))
                    self._grid = [tb, rate if rate > 0 else self.info.fps]
        self._stamps.put(None)

    @property
    def rate(self) -> Fraction:
        """The exact nominal frame rate, known once a frame was read: ffmpeg prints rates rounded
        (5.995 fps as '6'), the decoder's own rate replaces the printed one when it rounds to it."""
        exact = self._grid[1]
        return exact if abs(float(exact) - float(self.info.fps)) <= 0.005 + 1e-9 else self.info.fps

    def _check(self, frames: int) -> None:
        if self._size_error:
            raise VideoError(f"{self.info.path}: {self._size_error}")
        if self._errors:
            raise VideoError(f"{self.info.path}: decoding failed after {frames} frame(s) "
                             f"(damaged or truncated file?): {self._errors[-1]}")

    def _check_length(self, frames: int) -> None:
        """A video that stops well short of the duration its file declares was cut off, even when
        ffmpeg says nothing (it sometimes reaches a truncated Matroska file's end without an error).
        Files with audio are not judged: their declared duration may be the audio's."""
        info = self.info
        if info.duration is None or info.has_audio or info.is_sequence or self._span is None or self.start:
            return
        decoded = float((self._span[1] - self._span[0]) * self._grid[0])
        if decoded < 0.9 * info.duration - 2 / float(info.fps):
            raise VideoError(f"{info.path}: decoding failed after {frames} frame(s) (damaged or truncated "
                             f"file?): the video ends at {decoded:.2f} s of the {info.duration:.2f} s the file declares")

    def _next_stamp(self) -> Optional[tuple[int, int]]:
        while True:
            try:
                return self._stamps.get(timeout=1.0)
            except queue.Empty:
                if self._proc.poll() is not None and self._stamps.empty():
                    return None

    def __iter__(self) -> Iterator:
        info = self.info
        self._proc = start_ffmpeg(self._command(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  stdin=subprocess.DEVNULL)
        drain = threading.Thread(target=self._drain, daemon=True)
        drain.start()
        shape = (info.height, info.width, self.channels)
        frame_bytes = int(np.prod(shape)) * self.dtype.itemsize
        index = produced = 0
        finished = False
        try:
            while self.max_frames is None or produced < self.max_frames:
                buf = self._proc.stdout.read(frame_bytes)
                if len(buf) < frame_bytes:
                    finished = True
                    break
                image = np.frombuffer(buf, dtype=self.dtype).reshape(shape)
                self._check(index)
                self.decoded = index + 1
                item = image
                if self.timed:
                    stamp = self._next_stamp()
                    tb, rate = self._grid[0], self.rate
                    nominal = 1 / rate
                    if stamp is None:
                        ts, duration = Fraction(index) * nominal, nominal
                    else:
                        # a seek's timestamps count from the seek position
                        shown = (self.start or 0) + stamp[0] * tb
                        self.origin = shown if self.origin is None else self.origin
                        ts = snap(shown - self.origin, rate)
                        trusted = stamp[1] > 0 and not info.header_rate_wrong  # its durations are the header's
                        duration = snap(stamp[1] * tb, rate) if trusted else nominal
                    item = TimedFrame(ts, duration, image)
                if index % self.every == 0:
                    produced += 1
                    yield item
                index += 1
        finally:
            self.close()
        if finished:
            raise_if_stopped(self._proc.returncode)
            drain.join(timeout=5)
            self._check(index)
            self._check_length(index)
            if self._proc.returncode not in (0, None):
                raise VideoError(f"{info.path}: decoding failed after {index} frame(s) "
                                 f"(ffmpeg exit code {self._proc.returncode})")

    def close(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.kill()
        if self._proc is not None:
            self._proc.wait()
            self._proc.stdout.close()


def read_frames(path: str | os.PathLike, max_frames: Optional[int] = None) -> list[np.ndarray]:
    """Decode a short video whole (for tests and small tools; streaming code uses FrameReader)."""
    return list(FrameReader(probe(path), max_frames=max_frames))


