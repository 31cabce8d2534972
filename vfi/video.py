"""Video I/O through imageio-ffmpeg's ffmpeg binary: probing, streaming decode, streaming encode.

Frames travel as raw RGB over pipes so nothing but the frames in flight is ever held in
memory, and no temporary image folders are written.
"""

from __future__ import annotations

import os
import queue
import re
import shutil
import signal
import subprocess
import tempfile
import threading
from dataclasses import dataclass, replace
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
    input_options: tuple[str, ...] = ()  # e.g. ("-framerate", "30") for an image sequence

    @property
    def high_bit_depth(self) -> bool:
        """More than 8 bits per sample: decoded to 16-bit RGB so no precision is lost."""
        return pixel_bits(self.pix_fmt) > 8

    @property
    def has_alpha(self) -> bool:
        return bool(_ALPHA_FORMATS.match(self.pix_fmt))

    @property
    def is_sequence(self) -> bool:
        return "%" in self.path.name

    @property
    def estimated_frames(self) -> Optional[int]:
        if self.duration is None:
            return None
        return max(1, round(self.duration * float(self.fps)))


_ALPHA_FORMATS = re.compile(r"^(yuva|rgba|bgra|argb|abgr|gbrap|ya\d|pal8)")
MAX_PIXELS = 16384 * 16384  # refuse absurd sizes up front instead of trying to allocate them


def pixel_bits(pix_fmt: str) -> int:
    """Bits per sample of an ffmpeg pixel format name: yuv420p -> 8, yuv420p10le -> 10, rgb48le -> 16."""
    if re.match(r"^(rgb|bgr)(48|a64)", pix_fmt) or pix_fmt.startswith(("rgba64", "bgra64")):
        return 16
    match = re.search(r"(\d+)(le|be)$", pix_fmt)
    return int(match.group(1)) if match and int(match.group(1)) <= 16 else 8


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


def _check_readable(path: Path) -> None:
    if "%" in path.name:
        if not path.parent.is_dir():
            raise VideoError(f"{path.parent}: no such folder")
        return
    if not path.exists():
        raise VideoError(f"{path}: no such file")
    if path.is_dir():
        raise VideoError(f"{path}: is a folder, not a video")
    if not os.access(path, os.R_OK):
        raise VideoError(f"{path}: not readable (permission denied)")
    if path.stat().st_size == 0:
        raise VideoError(f"{path}: empty file")


def probe(path: str | os.PathLike, input_options: tuple[str, ...] = ()) -> VideoInfo:
    """Read a video's size, rate and streams from ffmpeg's description of it.

    A path with a printf pattern (frames/%05d.png) is an image sequence; `input_options`
    such as ("-framerate", "30") give its rate.
    """
    path = Path(path)
    _check_readable(path)
    proc = subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-nostdin", *input_options, "-i", str(path)],
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
        if "%" in path.name:
            raise VideoError(f"{path}: no images match this pattern")
        if audio_codecs:
            raise VideoError(f"{path}: has only audio ({', '.join(audio_codecs)}), no video stream")
        if "Invalid data" in text or "moov atom not found" in text:
            raise VideoError(f"{path}: not a readable video (damaged, truncated or not a video file)")
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
    if width * height > MAX_PIXELS:
        raise VideoError(f"{path}: frame size {width}x{height} is beyond what vfi handles (at most 16384x16384)")
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
        input_options=tuple(input_options),
    )


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


_SHOWINFO = re.compile(r"n:\s*\d+\s+pts:\s*(-?\d+)\s+pts_time:\S+\s+duration:\s*(-?\d+)")
_TIME_BASE = re.compile(r"config in time_base: (\d+)/(\d+), frame_rate: (\d+)/(\d+)")


def snap(seconds: Fraction, rate: Fraction, tolerance: float = 0.1) -> Fraction:
    """Round a timestamp to the nominal frame grid when it is that close: container time bases
    (1/1000 in Matroska, 1/12800 in MP4) blur exact times such as k * 1001/30000."""
    if rate <= 0:
        return seconds
    k = round(seconds * rate)
    return Fraction(k) / rate if abs(seconds * rate - k) < tolerance else seconds


class FrameReader:
    """Decodes a video's first video stream to RGB frames (H, W, 3) one at a time.

    8-bit sources give uint8, deeper ones uint16 (rgb48); `alpha=True` keeps a 4th channel
    where the source has one. `timed=True` yields TimedFrames with the real presentation
    times, so variable-frame-rate input is interpolated where its frames really are.
    A decoding error after the first frame stops the read with a VideoError instead of
    going on with damaged frames.
    """

    def __init__(self, info: VideoInfo, max_frames: Optional[int] = None, every: int = 1,
                 timed: bool = False, alpha: bool = False):
        self.info = info
        self.max_frames = max_frames
        self.every = every
        self.timed = timed
        self.pix_fmt, self.channels, self.dtype = frame_layout(info, alpha)
        self._proc: Optional[subprocess.Popen] = None
        self._errors: list[str] = []
        self._logged_frames = 0
        self._span: Optional[list[int]] = None  # first pts, end pts (pts + duration) of the decoded frames
        self._stamps: queue.Queue = queue.Queue()
        self._grid = [Fraction(1), info.fps]  # time base, frame rate (from showinfo's log)

    def _command(self) -> list[str]:
        info = self.info
        return [ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "level+info", *info.input_options,
                "-i", str(info.path), "-map", "0:v:0", "-fps_mode", "passthrough", "-vf", "showinfo=checksum=0",
                "-f", "rawvideo", "-pix_fmt", self.pix_fmt, "-"]

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

    def _check(self, frames: int) -> None:
        if self._errors:
            raise VideoError(f"{self.info.path}: decoding failed after {frames} frame(s) "
                             f"(damaged or truncated file?): {self._errors[-1]}")

    def _check_length(self, frames: int) -> None:
        """A video that stops well short of the duration its file declares was cut off, even when
        ffmpeg says nothing (it sometimes reaches a truncated Matroska file's end without an error).
        Files with audio are not judged: their declared duration may be the audio's."""
        info = self.info
        if info.duration is None or info.has_audio or info.is_sequence or self._span is None:
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
        self._proc = subprocess.Popen(self._command(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                      stdin=subprocess.DEVNULL)
        drain = threading.Thread(target=self._drain, daemon=True)
        drain.start()
        shape = (info.height, info.width, self.channels)
        frame_bytes = int(np.prod(shape)) * self.dtype.itemsize
        index = produced = 0
        first_pts = None
        finished = False
        try:
            while self.max_frames is None or produced < self.max_frames:
                buf = self._proc.stdout.read(frame_bytes)
                if len(buf) < frame_bytes:
                    finished = True
                    break
                image = np.frombuffer(buf, dtype=self.dtype).reshape(shape)
                self._check(index)
                item = image
                if self.timed:
                    stamp = self._next_stamp()
                    tb, rate = self._grid
                    nominal = 1 / rate
                    if stamp is None:
                        ts, duration = Fraction(index) * nominal, nominal
                    else:
                        first_pts = stamp[0] if first_pts is None else first_pts
                        ts = snap((stamp[0] - first_pts) * tb, rate)
                        duration = snap(stamp[1] * tb, rate) if stamp[1] > 0 else nominal
                    item = TimedFrame(ts, duration, image)
                if index % self.every == 0:
                    produced += 1
                    yield item
                index += 1
        finally:
            self.close()
        if finished:
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


CODECS = ("libx264", "libx265", "ffv1", "prores", "vp9")
ALPHA_CODECS = ("ffv1", "prores", "vp9")  # video codecs that can carry an alpha channel


def default_codec(info: VideoInfo) -> str:
    """libx264 for ordinary input; 10-bit HEVC for deeper input, so it stays deep by default."""
    return "libx265" if info.high_bit_depth else "libx264"


@dataclass(frozen=True)
class EncodeSettings:
    codec: str = "libx264"
    crf: int = 18
    preset: str = "medium"
    lossless: bool = False

    def __post_init__(self):
        if self.codec not in CODECS and self.codec != "auto":
            raise VideoError(f"unknown codec '{self.codec}': choose one of {', '.join(CODECS)}")

    def for_input(self, info: VideoInfo) -> "EncodeSettings":
        """Resolve codec 'auto' from the input (its bit depth)."""
        return replace(self, codec=default_codec(info)) if self.codec == "auto" else self

    def ffmpeg_args(self, width: int, height: int, deep: bool = False, alpha: bool = False) -> list[str]:
        """Encoder arguments; odd frame sizes use 4:4:4 chroma so the size is kept exactly.

        `deep` (16-bit frames in) picks a 10-bit or 16-bit pixel format, `alpha` one with alpha.
        """
        odd = width % 2 or height % 2
        chroma = ("yuv444p" if odd else "yuv420p") + ("10le" if deep else "")
        if self.codec == "libx264":
            if self.lossless:
                if deep:
                    return ["-c:v", "libx264", "-qp", "0", "-preset", self.preset, "-pix_fmt", "yuv444p10le"]
                return ["-c:v", "libx264rgb", "-qp", "0", "-preset", self.preset, "-pix_fmt", "rgb24"]
            return ["-c:v", "libx264", "-crf", str(self.crf), "-preset", self.preset, "-pix_fmt", chroma]
        if self.codec == "libx265":
            if self.lossless:
                return ["-c:v", "libx265", "-preset", self.preset, "-x265-params", "lossless=1:log-level=error",
                        "-pix_fmt", "gbrp12le" if deep else "gbrp"]
            return ["-c:v", "libx265", "-crf", str(self.crf), "-preset", self.preset,
                    "-x265-params", "log-level=error", "-pix_fmt", chroma]
        if self.codec == "ffv1":
            if deep:
                fmt = "gbrap16le" if alpha else "gbrp16le"
            else:
                fmt = "bgra" if alpha else ("bgr0" if self.lossless else chroma)
            return ["-c:v", "ffv1", "-level", "3", "-pix_fmt", fmt]
        if self.codec == "prores":
            if self.lossless:
                raise VideoError("prores is not lossless: use --codec ffv1 or libx264 with --lossless")
            if alpha:
                return ["-c:v", "prores_ks", "-profile:v", "4", "-pix_fmt", "yuva444p10le"]
            return ["-c:v", "prores_ks", "-profile:v", "3", "-pix_fmt", "yuv422p10le"]
        if self.codec == "vp9":
            if self.lossless:
                return ["-c:v", "libvpx-vp9", "-lossless", "1", "-pix_fmt", "gbrp10le" if deep else "gbrp",
                        "-row-mt", "1"]
            fmt = "yuva420p" if alpha else chroma
            return ["-c:v", "libvpx-vp9", "-crf", str(self.crf), "-b:v", "0", "-pix_fmt", fmt, "-row-mt", "1"]
        raise AssertionError(self.codec)


CONTAINERS = {".mp4": "mp4", ".mkv": "matroska", ".mov": "mov", ".webm": "webm", ".avi": "avi",
              ".m4v": "mp4", ".nut": "nut"}
IMAGE_FORMATS = {".png": "png", ".tif": "tiff", ".tiff": "tiff"}  # for image-sequence output (%05d.png)


def is_sequence_path(path: Path) -> bool:
    return "%" in Path(path).name


def sequence_files(pattern: Path) -> list[Path]:
    """Files a printf pattern such as %05d.png would name, that exist now."""
    regex = re.compile(re.sub(r"%0?(\d*)d", lambda m: r"\d{%s,}" % (m.group(1) or 1),
                              re.escape(pattern.name).replace("%", "%")))
    folder = pattern.parent if str(pattern.parent) else Path(".")
    return [p for p in folder.iterdir() if regex.fullmatch(p.name)] if folder.is_dir() else []


def _format_for(path: Path) -> Optional[str]:
    return CONTAINERS.get(path.suffix.lower())


def container_args(path: Path, codec: str) -> list[str]:
    """Muxer arguments: the container by extension, streaming-friendly MP4/MOV, Apple's HEVC tag."""
    fmt = _format_for(path)
    args = []
    if fmt in ("mp4", "mov"):
        args += ["-movflags", "+faststart"] + (["-tag:v", "hvc1"] if codec == "libx265" else [])
    return args + (["-f", fmt] if fmt else [])


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
    if source is None or not source.has_audio or source.is_sequence or is_sequence_path(out_path):
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


def raw_pix_fmt(channels: int, deep: bool) -> str:
    return {(3, False): "rgb24", (3, True): "rgb48le", (4, False): "rgba", (4, True): "rgba64le"}[(channels, deep)]


def _image_args(path: Path, deep: bool, alpha: bool) -> list[str]:
    codec = IMAGE_FORMATS.get(path.suffix.lower())
    if codec is None:
        raise VideoError(f"{path}: image sequences are written as .png or .tif")
    fmt = {(False, False): "rgb24", (True, False): "rgb48be", (False, True): "rgba", (True, True): "rgba64be"}
    return ["-c:v", codec, "-pix_fmt", fmt[(deep, alpha)], "-start_number", "1", "-f", "image2"]


class FrameWriter:
    """Encodes RGB frames (uint8 or uint16, optionally RGBA) through an ffmpeg pipe, optionally
    muxing a source's audio.

    A video file is written under a temporary name beside the target and renamed only by
    `finish()`; an image sequence (name with %05d) goes to a temporary folder whose files
    are moved into place by `finish()`. `abort()` (or leaving a `with` block on an
    exception) removes what was written.
    """

    def __init__(self, path: str | os.PathLike, width: int, height: int, fps: Fraction,
                 settings: EncodeSettings = EncodeSettings(), audio_from: Optional[VideoInfo] = None,
                 channels: int = 3, deep: bool = False):
        self.path = Path(path)
        self.width, self.height, self.fps = width, height, fps
        self.settings = settings
        self.audio_from = audio_from
        self.channels, self.deep = channels, deep
        self.dtype = np.dtype(np.uint16 if deep else np.uint8)
        self.note: Optional[str] = None
        self.frames_written = 0
        self._proc: Optional[subprocess.Popen] = None
        self._tmp: Optional[Path] = None
        self._stderr: list[bytes] = []

    def _target_args(self) -> list[str]:
        alpha = self.channels == 4
        if is_sequence_path(self.path):
            self._tmp = Path(tempfile.mkdtemp(prefix=".vfi-partial-", dir=self.path.parent))
            return [*_image_args(self.path, self.deep, alpha), str(self._tmp / self.path.name)]
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.stem}.", suffix=f".partial{self.path.suffix}",
                                   dir=self.path.parent)
        os.close(fd)
        self._tmp = Path(tmp)
        args = self.settings.ffmpeg_args(self.width, self.height, self.deep, alpha)
        return [*args, *container_args(self.path, self.settings.codec), str(self._tmp)]

    def open(self) -> "FrameWriter":
        target = self._target_args()
        a_inputs, a_maps, self.note = audio_args(self.audio_from, self.path)
        cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-v", "error", "-y",
               "-f", "rawvideo", "-pix_fmt", raw_pix_fmt(self.channels, self.deep),
               "-s", f"{self.width}x{self.height}",
               "-framerate", f"{self.fps.numerator}/{self.fps.denominator}", "-i", "-",
               *a_inputs, "-map", "0:v", *a_maps, *target]
        self._proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        threading.Thread(target=lambda: self._stderr.append(self._proc.stderr.read()), daemon=True).start()
        return self

    def write(self, frame: np.ndarray) -> None:
        expected = (self.height, self.width, self.channels)
        if frame.shape != expected or frame.dtype != self.dtype:
            raise ValueError(f"frame of shape {frame.shape} {frame.dtype}, expected {expected} {self.dtype}")
        try:
            self._proc.stdin.write(np.ascontiguousarray(frame).data)
        except BrokenPipeError:
            self._proc.wait()
            raise VideoError(f"encoding failed: {self._error_text()}")
        self.frames_written += 1

    def _error_text(self) -> str:
        return encoder_error(b"".join(self._stderr), self._proc.returncode)

    def finish(self) -> Path:
        self._proc.stdin.close()
        code = self._proc.wait()
        if code != 0:
            self.abort()
            raise VideoError(f"encoding failed: {self._error_text()}")
        if is_sequence_path(self.path):
            for item in sorted(self._tmp.iterdir()):
                publish(item, self.path.parent / item.name)
            self._tmp.rmdir()
        else:
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
        remove_quietly(self._tmp)
        self._tmp = None

    def __enter__(self) -> "FrameWriter":
        return self.open()

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is not None:
            self.abort()
        elif self._tmp is not None:
            self.finish()


def encoder_error(stderr: bytes, returncode: Optional[int]) -> str:
    """ffmpeg's last complaint, with a plain explanation for the full-disk cases."""
    lines = stderr.decode(errors="replace").strip().splitlines()
    text = lines[-1] if lines else f"ffmpeg stopped (exit code {returncode})"
    if returncode == -signal.SIGXFSZ or "File too large" in text:
        return "the output file hit the file-size limit (disk quota or filesystem limit)"
    if "No space left" in stderr.decode(errors="replace"):
        return "no space left on the output disk"
    return text


def remove_quietly(path: Optional[Path]) -> None:
    """Remove a temporary file or folder if it is there."""
    if path is None or not path.exists():
        return
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink()


def join_parts(parts: list[Path], part_seconds: list[Fraction], output: Path, codec: str,
               audio_from: Optional[VideoInfo] = None) -> Optional[str]:
    """Join encoded parts (no re-encoding) and the source's audio into `output`, atomically.

    The concat list states each part's exact duration: NUT parts do not store the last
    frame's duration, and without it every join would lose a frame's time. Returns the
    audio note, if any.
    """
    output = Path(output)
    fd, listing = tempfile.mkstemp(prefix=f".{output.name}.", suffix=".txt", dir=output.parent)
    with os.fdopen(fd, "w") as f:
        for part, seconds in zip(parts, part_seconds):
            escaped = str(Path(part).resolve()).replace("'", "'\\''")
            f.write(f"file '{escaped}'\nduration {float(seconds):.6f}\n")
    fd, tmp = tempfile.mkstemp(prefix=f".{output.stem}.", suffix=f".partial{output.suffix}", dir=output.parent)
    os.close(fd)
    try:
        a_inputs, a_maps, note = audio_args(audio_from, output)
        cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-v", "error", "-y", "-f", "concat", "-safe", "0",
               "-i", listing, *a_inputs, "-map", "0:v", *a_maps, "-c:v", "copy",
               *container_args(output, codec), tmp]
        proc = subprocess.run(cmd, capture_output=True)
        if proc.returncode != 0:
            raise VideoError(f"writing {output} failed: {encoder_error(proc.stderr, proc.returncode)}")
        publish(tmp, output)
    finally:
        remove_quietly(Path(tmp))
        os.unlink(listing)
    return note


def write_video(path: str | os.PathLike, frames, fps: Fraction | int | float,
                settings: EncodeSettings = EncodeSettings(), audio_from: Optional[VideoInfo] = None) -> Path:
    """Encode an iterable of RGB24 frames (used by tests, examples and synthetic clips)."""
    frames = iter(frames)
    first = next(frames)
    fps = fps if isinstance(fps, Fraction) else Fraction(fps).limit_denominator(1001)
    with FrameWriter(path, first.shape[1], first.shape[0], fps, settings, audio_from,
                     channels=first.shape[2], deep=first.dtype == np.uint16) as writer:
        writer.write(first)
        for frame in frames:
            writer.write(frame)
    return Path(path)
