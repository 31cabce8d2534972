"""Video I/O through imageio-ffmpeg's ffmpeg binary: probing, streaming decode, streaming encode.

Frames travel as raw RGB over pipes so nothing but the frames in flight is ever held in
memory, and no temporary image folders are written.
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
import threading
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Iterator, Optional

import imageio_ffmpeg
import numpy as np

from .files import publish


class VideoError(Exception):
    """A problem with an input or output video, worded for the user."""


def ffmpeg_exe() -> str:
    return imageio_ffmpeg.get_ffmpeg_exe()


@dataclass(frozen=True)
class VideoInfo:
    path: Path
    width: int
    height: int
    fps: Fraction
    duration: Optional[float]
    codec: str
    pix_fmt: str
    has_audio: bool
    audio_codecs: tuple[str, ...] = ()

    @property
    def estimated_frames(self) -> Optional[int]:
        if self.duration is None:
            return None
        return max(1, round(self.duration * float(self.fps)))


def _split_top_level(text: str) -> list[str]:
    """Split ffmpeg's stream description on commas that are not inside parentheses."""
    parts, depth, current = [], 0, []
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append("".join(current).strip())
            current = []
        else:
            current.append(ch)
    parts.append("".join(current).strip())
    return parts


def parse_rate(text: str) -> Fraction:
    """Turn ffmpeg's printed rate ('29.97', '30', '12.05', '1k') into an exact fraction.

    ffmpeg prints rates rounded to two decimals; NTSC rates (N*1000/1001) are recovered exactly.
    """
    text = text.strip()
    if text.endswith("k"):
        return Fraction(text[:-1]) * 1000
    value = Fraction(text)
    if value.denominator == 1:
        return value
    ntsc = Fraction(round(value * 1001 / 1000) * 1000, 1001)
    if ntsc > 0 and abs(float(ntsc) - float(value)) < 0.006:
        return ntsc
    return value.limit_denominator(1000)


def parse_fps_argument(text: str) -> Fraction:
    """Parse a user-given rate: '60', '59.94', '60000/1001'."""
    try:
        if "/" in text:
            num, den = text.split("/", 1)
            rate = Fraction(int(num), int(den))
        else:
            rate = parse_rate(text)
    except (ValueError, ZeroDivisionError):
        raise VideoError(f"invalid frame rate '{text}': use a number such as 60, 59.94 or 60000/1001")
    if rate <= 0:
        raise VideoError(f"invalid frame rate '{text}': it must be positive")
    return rate


_DURATION = re.compile(r"Duration: (\d+):(\d+):(\d+(?:\.\d+)?)")
_STREAM = re.compile(r"Stream #\d+:\d+\S*: (Video|Audio): (.*)")


def probe(path: str | os.PathLike) -> VideoInfo:
    """Read a video's size, rate and streams from ffmpeg's description of it."""
    path = Path(path)
    if not path.exists():
        raise VideoError(f"{path}: no such file")
    if path.is_dir():
        raise VideoError(f"{path}: is a folder, not a video")
    if not os.access(path, os.R_OK):
        raise VideoError(f"{path}: not readable (permission denied)")
    if path.stat().st_size == 0:
        raise VideoError(f"{path}: empty file")
    proc = subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-nostdin", "-i", str(path)],
        capture_output=True, text=True, errors="replace",
    )
    text = proc.stderr
    video_line = None
    audio_codecs = []
    for match in _STREAM.finditer(text):
        kind, desc = match.groups()
        if kind == "Video" and video_line is None and "attached pic" not in desc:
            video_line = desc
        elif kind == "Audio":
            audio_codecs.append(_split_top_level(desc)[0].split(" ")[0])
    if video_line is None:
        raise VideoError(f"{path}: not a video (ffmpeg finds no video stream in it)")
    fields = _split_top_level(video_line)
    codec = fields[0].split(" ")[0]
    pix_fmt = fields[1].split("(")[0].strip() if len(fields) > 1 else "unknown"
    width = height = None
    fps = tbr = None
    for field in fields:
        size = re.match(r"(\d+)x(\d+)", field)
        if size and width is None:
            width, height = int(size.group(1)), int(size.group(2))
        rate = re.match(r"([\d.]+k?) (fps|tbr)$", field)
        if rate:
            if rate.group(2) == "fps":
                fps = rate.group(1)
            else:
                tbr = rate.group(1)
    if width is None or width <= 0 or height <= 0:
        raise VideoError(f"{path}: cannot read the video's frame size")
    rotation = re.search(r"rotation of (-?[\d.]+) degrees", text)
    if rotation and round(abs(float(rotation.group(1)))) % 180 == 90:
        width, height = height, width
    rate_text = fps or tbr
    if rate_text is None:
        raise VideoError(f"{path}: cannot read the video's frame rate")
    duration = None
    dur = _DURATION.search(text)
    if dur:
        h, m, s = dur.groups()
        duration = int(h) * 3600 + int(m) * 60 + float(s)
    return VideoInfo(
        path=path, width=width, height=height, fps=parse_rate(rate_text), duration=duration,
        codec=codec, pix_fmt=pix_fmt, has_audio=bool(audio_codecs), audio_codecs=tuple(audio_codecs),
    )


class FrameReader:
    """Decodes a video's first video stream to RGB24 frames (H, W, 3 uint8), one at a time."""

    def __init__(self, info: VideoInfo, max_frames: Optional[int] = None, every: int = 1):
        self.info = info
        self.max_frames = max_frames
        self.every = every
        self._proc: Optional[subprocess.Popen] = None
        self._stderr: list[bytes] = []

    def __iter__(self) -> Iterator[np.ndarray]:
        info = self.info
        cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-v", "error", "-i", str(info.path),
               "-map", "0:v:0", "-fps_mode", "passthrough", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"]
        self._proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
        drain = threading.Thread(target=lambda: self._stderr.append(self._proc.stderr.read()), daemon=True)
        drain.start()
        frame_bytes = info.width * info.height * 3
        index = produced = 0
        try:
            while self.max_frames is None or produced < self.max_frames:
                buf = self._proc.stdout.read(frame_bytes)
                if len(buf) < frame_bytes:
                    break
                if index % self.every == 0:
                    produced += 1
                    yield np.frombuffer(buf, dtype=np.uint8).reshape(info.height, info.width, 3)
                index += 1
        finally:
            self.close()

    def close(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.kill()
        if self._proc is not None:
            self._proc.wait()
            self._proc.stdout.close()


def read_frames(path: str | os.PathLike, max_frames: Optional[int] = None) -> list[np.ndarray]:
    """Decode a short video whole (for tests and small tools; streaming code uses FrameReader)."""
    return list(FrameReader(probe(path), max_frames=max_frames))


CODECS = ("libx264", "libx265", "ffv1", "prores", "vp9")


@dataclass(frozen=True)
class EncodeSettings:
    codec: str = "libx264"
    crf: int = 18
    preset: str = "medium"
    lossless: bool = False

    def __post_init__(self):
        if self.codec not in CODECS:
            raise VideoError(f"unknown codec '{self.codec}': choose one of {', '.join(CODECS)}")

    def ffmpeg_args(self, width: int, height: int) -> list[str]:
        """Encoder arguments; odd frame sizes use 4:4:4 chroma so the size is kept exactly."""
        odd = width % 2 or height % 2
        chroma = "yuv444p" if odd else "yuv420p"
        if self.codec == "libx264":
            if self.lossless:
                return ["-c:v", "libx264rgb", "-qp", "0", "-preset", self.preset, "-pix_fmt", "rgb24"]
            return ["-c:v", "libx264", "-crf", str(self.crf), "-preset", self.preset, "-pix_fmt", chroma]
        if self.codec == "libx265":
            if self.lossless:
                return ["-c:v", "libx265", "-preset", self.preset, "-x265-params", "lossless=1:log-level=error",
                        "-pix_fmt", "gbrp"]
            return ["-c:v", "libx265", "-crf", str(self.crf), "-preset", self.preset,
                    "-x265-params", "log-level=error", "-pix_fmt", chroma, "-tag:v", "hvc1"]
        if self.codec == "ffv1":
            return ["-c:v", "ffv1", "-level", "3", "-pix_fmt", "bgr0" if self.lossless else chroma]
        if self.codec == "prores":
            if self.lossless:
                raise VideoError("prores is not lossless: use --codec ffv1 or libx264 with --lossless")
            return ["-c:v", "prores_ks", "-profile:v", "3", "-pix_fmt", "yuv422p10le"]
        if self.codec == "vp9":
            if self.lossless:
                return ["-c:v", "libvpx-vp9", "-lossless", "1", "-pix_fmt", "gbrp", "-row-mt", "1"]
            return ["-c:v", "libvpx-vp9", "-crf", str(self.crf), "-b:v", "0", "-pix_fmt", chroma, "-row-mt", "1"]
        raise AssertionError(self.codec)


CONTAINERS = {".mp4": "mp4", ".mkv": "matroska", ".mov": "mov", ".webm": "webm", ".avi": "avi",
              ".m4v": "mp4", ".nut": "nut"}


def _format_for(path: Path) -> Optional[str]:
    return CONTAINERS.get(path.suffix.lower())


def audio_copy_possible(source: Path, container: Optional[str]) -> bool:
    """Whether the source's audio streams can be stream-copied into the given container."""
    cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-v", "error", "-i", str(source), "-map", "0:a",
           "-c", "copy", "-t", "0.2", "-f", container or "matroska", "-y", os.devnull]
    return subprocess.run(cmd, capture_output=True).returncode == 0


def audio_args(source: Optional[VideoInfo], out_path: Path) -> tuple[list[str], list[str], Optional[str]]:
    """Input and mapping arguments that carry the source's audio over, plus a note for the user.

    Audio is copied unchanged where the container holds it; otherwise it is re-encoded
    (AAC, or Opus for WebM) and the note says so.
    """
    if source is None or not source.has_audio:
        return [], [], None
    container = _format_for(out_path)
    inputs = ["-i", str(source.path)]
    maps = ["-map", "1:a"]
    if audio_copy_possible(source.path, container):
        return inputs, maps + ["-c:a", "copy"], None
    codec = "libopus" if container == "webm" else "aac"
    note = (f"the audio ({', '.join(source.audio_codecs)}) cannot be copied into {out_path.suffix}; "
            f"re-encoded as {codec}")
    return inputs, maps + ["-c:a", codec, "-b:a", "192k"], note


class FrameWriter:
    """Encodes RGB24 frames to a file through an ffmpeg pipe, optionally muxing a source's audio.

    The file is written under a temporary name beside the target and renamed only by
    `finish()`; `abort()` (or leaving a `with` block on an exception) removes it.
    """

    def __init__(self, path: str | os.PathLike, width: int, height: int, fps: Fraction,
                 settings: EncodeSettings = EncodeSettings(), audio_from: Optional[VideoInfo] = None):
        self.path = Path(path)
        self.width, self.height, self.fps = width, height, fps
        self.settings = settings
        self.audio_from = audio_from
        self.note: Optional[str] = None
        self.frames_written = 0
        self._proc: Optional[subprocess.Popen] = None
        self._tmp: Optional[Path] = None
        self._stderr: list[bytes] = []

    def open(self) -> "FrameWriter":
        folder = self.path.parent if str(self.path.parent) else Path(".")
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.stem}.", suffix=f".partial{self.path.suffix}", dir=folder)
        os.close(fd)
        self._tmp = Path(tmp)
        a_inputs, a_maps, self.note = audio_args(self.audio_from, self.path)
        fmt = _format_for(self.path)
        cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-v", "error", "-y",
               "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{self.width}x{self.height}",
               "-framerate", f"{self.fps.numerator}/{self.fps.denominator}", "-i", "-",
               *a_inputs, "-map", "0:v", *a_maps,
               *self.settings.ffmpeg_args(self.width, self.height)]
        if fmt in ("mp4", "mov"):
            cmd += ["-movflags", "+faststart"]
        if fmt:
            cmd += ["-f", fmt]
        cmd.append(str(self._tmp))
        self._proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        threading.Thread(target=lambda: self._stderr.append(self._proc.stderr.read()), daemon=True).start()
        return self

    def write(self, frame: np.ndarray) -> None:
        if frame.shape != (self.height, self.width, 3) or frame.dtype != np.uint8:
            raise ValueError(f"frame of shape {frame.shape} {frame.dtype}, expected {(self.height, self.width, 3)} uint8")
        try:
            self._proc.stdin.write(np.ascontiguousarray(frame).data)
        except BrokenPipeError:
            self._proc.wait()
            raise VideoError(f"encoding failed: {self._error_text()}")
        self.frames_written += 1

    def _error_text(self) -> str:
        text = b"".join(self._stderr).decode(errors="replace").strip().splitlines()
        return text[-1] if text else "ffmpeg stopped"

    def finish(self) -> Path:
        self._proc.stdin.close()
        code = self._proc.wait()
        if code != 0:
            self.abort()
            raise VideoError(f"encoding failed: {self._error_text()}")
        publish(self._tmp, self.path)
        self._tmp = None
        return self.path

    def abort(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            try:
                self._proc.stdin.close()
            except OSError:
                pass
            self._proc.kill()
            self._proc.wait()
        if self._tmp is not None and self._tmp.exists():
            self._tmp.unlink()
        self._tmp = None

    def __enter__(self) -> "FrameWriter":
        return self.open()

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is not None:
            self.abort()
        elif self._tmp is not None:
            self.finish()


def write_video(path: str | os.PathLike, frames, fps: Fraction | int | float,
                settings: EncodeSettings = EncodeSettings(), audio_from: Optional[VideoInfo] = None) -> Path:
    """Encode an iterable of RGB24 frames (used by tests, examples and synthetic clips)."""
    frames = iter(frames)
    first = next(frames)
    fps = fps if isinstance(fps, Fraction) else Fraction(fps).limit_denominator(1001)
    with FrameWriter(path, first.shape[1], first.shape[0], fps, settings, audio_from) as writer:
        writer.write(first)
        for frame in frames:
            writer.write(frame)
    return Path(path)
