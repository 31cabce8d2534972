"""Standard output as one more kind of output (`-o -`): the interpolated stream and what travels with
it, in a streamable container, through one ffmpeg process whose output is our standard output.

Nothing but the stream reaches standard output (notes, progress and errors go to standard error).
A reader that goes away (mpv closed) ends the run with `ReaderGone`, which the command turns into a
quiet exit. Standard input is read by libav like any file (`io.libav.opened`).
"""

from __future__ import annotations

import signal
import subprocess
import threading
from fractions import Fraction
from pathlib import Path
from typing import Optional

import numpy as np

from vfi.core.errors import VfiError
from vfi.io.decode import raw_pix_fmt
from vfi.io.encode import EncodeSettings, merged_params
from vfi.io.ffmpeg import ffmpeg_exe, raise_if_stopped, start_ffmpeg, stop_ffmpeg
from vfi.io.mux import carried_streams
from vfi.io.probe import VideoError, VideoInfo

# --format: the muxer, and the file name whose container the carried streams are checked against.
# NUT is the default: it streams, holds the frames uncompressed (exact, and nothing to encode, so
# live preview costs least), and carries audio; players and ffmpeg read it from a pipe.
FORMATS = {"nut": ("nut", ".nut"), "matroska": ("matroska", ".mkv"), "y4m": ("yuv4mpegpipe", None)}
DEFAULT_FORMAT = "nut"


class ReaderGone(VfiError):
    """The program reading standard output closed it (a player was closed): not an error of the input."""

    exit_code = 128 + signal.SIGPIPE  # as a shell reports a pipeline's writer ended by its reader
    quiet = True


def check_format(name: str) -> str:
    if name not in FORMATS:
        raise VideoError(f"--format '{name}': choose one of {', '.join(FORMATS)}")
    return name


class StandardOutput:
    """Frames to standard output, with the source's audio where the format carries it; the face of the
    other outputs (`pipeline.segments`): nothing to resume, nothing to publish."""

    done = 0
    complete = False
    kept_parts = 0
    part_frames = 0

    def __init__(self, fmt: str, width: int, height: int, fps: Fraction, settings: EncodeSettings,
                 source: Optional[VideoInfo], keep_audio: bool, slowmo: Fraction, channels: int = 3,
                 deep: bool = False, tags: tuple[str, ...] = (), stretch_audio: bool = False):
        self.format = check_format(fmt)
        self.size, self.channels, self.deep = (width, height), channels, deep
        self.dtype = np.dtype(np.uint16 if deep else np.uint8)
        muxer, suffix = FORMATS[self.format]
        carried = None
        if suffix is not None:
            carried = carried_streams(source, Path("standard-output" + suffix), keep_audio, slowmo, stretch_audio)
        self.notes = list(carried.notes) if carried else []
        if suffix is None and keep_audio and source is not None and source.has_audio:
            self.notes.append("the audio is left out: y4m carries video alone")
        video = self._video_args(settings, tags)
        cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-v", "error",
               "-f", "rawvideo", "-pix_fmt", raw_pix_fmt(channels, deep), "-s", f"{width}x{height}",
               "-framerate", f"{fps.numerator}/{fps.denominator}", "-i", "-",
               *(carried.inputs if carried else []), "-map", "0:v", *(carried.maps if carried else []),
               *video, "-f", muxer, "pipe:1"]
        # stdout is inherited: ffmpeg writes the stream straight to ours
        self._proc = start_ffmpeg(cmd, stdin=subprocess.PIPE, stderr=subprocess.PIPE)
        self._stderr: list[bytes] = []
        self._reading = threading.Thread(target=lambda: self._stderr.append(self._proc.stderr.read()), daemon=True)
        self._reading.start()

    def _video_args(self, settings: EncodeSettings, tags: tuple[str, ...]) -> list[str]:
        width, height = self.size
        if self.format == "y4m":
            chroma = "yuv444p" if width % 2 or height % 2 else "yuv420p"
            return ["-c:v", "rawvideo", "-pix_fmt", chroma + ("10le" if self.deep else ""), "-strict", "-1"]
        if self.format == "nut" and settings.codec == "auto":
            return ["-c:v", "rawvideo"]  # the frames as they are
        if settings.codec == "auto":
            settings = EncodeSettings("libx264", settings.crf, settings.preset, settings.lossless)
        args = settings.ffmpeg_args(width, height, self.deep, self.channels == 4)
        return merged_params([*args, *tags])

    def write(self, frame: np.ndarray) -> None:
        expected = (self.size[1], self.size[0], self.channels)
        if frame.shape != expected or frame.dtype != self.dtype:
            raise ValueError(f"frame of shape {frame.shape} {frame.dtype}, expected {expected} {self.dtype}")
        try:
            self._proc.stdin.write(np.ascontiguousarray(frame).data)
        except BrokenPipeError:
            self._failed(self._proc.wait())

    def _failed(self, code: int) -> None:
        raise_if_stopped(code)
        self._reading.join(timeout=10)
        text = b"".join(self._stderr).decode(errors="replace")
        if code == -signal.SIGPIPE or "Broken pipe" in text:
            raise ReaderGone("the reader of standard output went away")
        lines = text.strip().splitlines()
        raise VideoError(f"writing to standard output failed: {lines[-1] if lines else f'exit code {code}'}")

    def finish(self, source: Optional[VideoInfo] = None, **carry) -> list[str]:
        try:
            self._proc.stdin.close()
        except BrokenPipeError:
            pass
        code = self._proc.wait()
        if code != 0:
            self._failed(code)
        return self.notes

    def abort(self, keep_parts: bool = False) -> None:
        stop_ffmpeg(self._proc)
