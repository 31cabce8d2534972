"""Streaming encode: RGB frames into a video file or an image sequence through an ffmpeg pipe.

What is written appears under its final name only once it is complete.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Optional, Sequence

import numpy as np

from vfi.io.decode import raw_pix_fmt
from vfi.io.files import publish, remove_quietly, temporary_beside, temporary_folder_beside
from vfi.io.ffmpeg import ffmpeg_exe, file_argument, raise_if_stopped, start_ffmpeg, stop_ffmpeg
from vfi.io.libav import sequence_numbers
from vfi.io.probe import VideoError, VideoInfo, is_pattern, pixel_bits

CODECS = ("libx264", "libx265", "ffv1", "prores", "vp9")
ALPHA_CODECS = ("ffv1", "prores", "vp9")  # video codecs that can carry an alpha channel


def default_codec(info: VideoInfo) -> str:
    """libx264 for ordinary input; 10-bit HEVC for deeper input, so it stays deep by default."""
    return "libx265" if info.high_bit_depth else "libx264"


# The quality scale each encoder takes (ffv1 and prores have none: --crf does not apply to them).
CRF_RANGES = {"libx264": 51, "libx265": 51, "vp9": 63}


@dataclass(frozen=True)
class EncodeSettings:
    codec: str = "libx264"
    crf: int = 18
    preset: str = "medium"
    lossless: bool = False

    def __post_init__(self):
        if self.codec not in CODECS and self.codec != "auto":
            raise VideoError(f"unknown codec '{self.codec}': choose one of {', '.join(CODECS)}")
        top = CRF_RANGES.get(self.codec, max(CRF_RANGES.values()))
        if not 0 <= self.crf <= top:
            which = f"{self.codec} takes" if self.codec != "auto" else "the codecs take"
            raise VideoError(f"--crf {self.crf}: {which} 0..{top}")

    def for_input(self, info: VideoInfo) -> "EncodeSettings":
        """Resolve codec 'auto' from the input (its bit depth). Deeper than 8 bits, frames are read as
        16-bit RGB, which only ffv1 stores exactly: --lossless takes it by default there, and refuses
        another codec, whose passed-through frames would lose their low bits."""
        deep_lossless = self.lossless and info.high_bit_depth
        if self.codec == "auto":
            return EncodeSettings("ffv1" if deep_lossless else default_codec(info), self.crf, self.preset,
                                  self.lossless)
        if deep_lossless and self.codec != "ffv1":
            raise VideoError(f"--lossless with {self.codec} would drop the low bits of this {pixel_bits(info.pix_fmt)}-bit input: "
                             "leave --codec out (ffv1, exact at any depth) or choose --codec ffv1")
        return self

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
    return is_pattern(path)


def sequence_files(pattern: Path) -> list[Path]:
    """Files a printf pattern such as %05d.png would name, that exist now."""
    return list(sequence_numbers(pattern).values())


def _format_for(path: Path) -> Optional[str]:
    return CONTAINERS.get(path.suffix.lower())


# (container, codec) pairs ffmpeg cannot write; WebM holds VP9 alone
_UNWRITABLE = {("mp4", "prores"), ("mov", "vp9")} | {("webm", c) for c in CODECS if c != "vp9"}
_BETTER_CONTAINER = {"prores": ".mov or .mkv", "vp9": ".webm, .mkv or .mp4"}


def check_container(path: Path, codec: str) -> None:
    """Refuse a codec the output's container cannot hold before any frame is encoded."""
    fmt = _format_for(path)
    if (fmt, codec) in _UNWRITABLE:
        raise VideoError(f"{path}: a {path.suffix} file cannot hold {codec} video; use "
                         f"{_BETTER_CONTAINER.get(codec, '.mkv or .mp4')}, or another --codec")


def container_args(path: Path, codec: str, movflags: Sequence[str] = ()) -> list[str]:
    """Muxer arguments: the container by extension, streaming-friendly MP4/MOV (with `movflags` added),
    Apple's HEVC tag."""
    fmt = _format_for(path)
    args = []
    if fmt in ("mp4", "mov"):
        flags = "".join(f"+{flag}" for flag in ("faststart", *movflags))
        args += ["-movflags", flags] + (["-tag:v", "hvc1"] if codec == "libx265" else [])
    return args + (["-f", fmt] if fmt else [])


def merged_params(args: Sequence[str]) -> list[str]:
    """One -x265-params (or -x264-params) from several: ffmpeg keeps only the last of a repeated
    option, and the encoder's own settings and the source's HDR metadata each bring one."""
    merged, value_at, i = [], {}, 0
    while i < len(args):
        if args[i].endswith("-params") and i + 1 < len(args):
            if args[i] in value_at:
                merged[value_at[args[i]]] += ":" + args[i + 1]
            else:
                value_at[args[i]] = len(merged) + 1
                merged += [args[i], args[i + 1]]
            i += 2
        else:
            merged.append(args[i])
            i += 1
    return merged


def _image_args(path: Path, deep: bool, alpha: bool) -> list[str]:
    codec = IMAGE_FORMATS.get(path.suffix.lower())
    if codec is None:
        raise VideoError(f"{path}: image sequences are written as .png or .tif")
    fmt = {(False, False): "rgb24", (True, False): "rgb48be", (False, True): "rgba", (True, True): "rgba64be"}
    return ["-c:v", codec, "-pix_fmt", fmt[(deep, alpha)], "-start_number", "1", "-f", "image2"]


class FrameWriter:
    """Encodes RGB frames (uint8 or uint16, optionally RGBA) through an ffmpeg pipe.

    `tags` are further encoder arguments: the source's aspect ratio and colour tags, which
    `mux.video_tag_args` derives.

    A video file is written under a temporary name beside the target and renamed only by
    `finish()`; an image sequence (name with %05d) goes to a temporary folder whose files
    are moved into place by `finish()`. `abort()` (or leaving a `with` block on an
    exception) removes what was written.
    """

    def __init__(self, path: str | os.PathLike, width: int, height: int, fps: Fraction,
                 settings: EncodeSettings = EncodeSettings(), channels: int = 3, deep: bool = False,
                 tags: Sequence[str] = ()):
        self.path = Path(path)
        self.width, self.height, self.fps = width, height, fps
        self.settings = settings
        self.tags = list(tags)
        self.channels, self.deep = channels, deep
        self.dtype = np.dtype(np.uint16 if deep else np.uint8)
        self.frames_written = 0
        self._proc: Optional[subprocess.Popen] = None
        self._tmp: Optional[Path] = None
        self._stderr: list[bytes] = []

    def _target_args(self) -> list[str]:
        alpha = self.channels == 4
        if is_sequence_path(self.path):
            self._tmp = temporary_folder_beside(self.path)
            return [*_image_args(self.path, self.deep, alpha), file_argument(self._tmp / self.path.name)]
        self._tmp = temporary_beside(self.path)
        args = self.settings.ffmpeg_args(self.width, self.height, self.deep, alpha)
        return [*merged_params([*args, *self.tags]), *container_args(self.path, self.settings.codec), file_argument(self._tmp)]

    def open(self) -> "FrameWriter":
        target = self._target_args()
        cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-v", "error", "-y",
               "-f", "rawvideo", "-pix_fmt", raw_pix_fmt(self.channels, self.deep),
               "-s", f"{self.width}x{self.height}",
               "-framerate", f"{self.fps.numerator}/{self.fps.denominator}", "-i", "-", "-map", "0:v", *target]
        self._proc = start_ffmpeg(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        threading.Thread(target=lambda: self._stderr.append(self._proc.stderr.read()), daemon=True).start()
        return self

    def write(self, frame: np.ndarray) -> None:
        expected = (self.height, self.width, self.channels)
        if frame.shape != expected or frame.dtype != self.dtype:
            raise ValueError(f"frame of shape {frame.shape} {frame.dtype}, expected {expected} {self.dtype}")
        try:
            self._proc.stdin.write(np.ascontiguousarray(frame).data)
        except BrokenPipeError:
            raise_if_stopped(self._proc.wait())
            raise VideoError(f"encoding failed: {self._error_text()}")
        self.frames_written += 1

    def _error_text(self) -> str:
        return encoder_error(b"".join(self._stderr), self._proc.returncode)

    def finish(self) -> Path:
        self._proc.stdin.close()
        code = self._proc.wait()
        if code != 0:
            self.abort()
            raise_if_stopped(code)
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
        stop_ffmpeg(self._proc)
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


def write_video(path: str | os.PathLike, frames, fps: Fraction | int | float,
                settings: EncodeSettings = EncodeSettings()) -> Path:
    """Encode an iterable of RGB24 frames (used by tests, examples and synthetic clips)."""
    frames = iter(frames)
    first = next(frames)
    fps = fps if isinstance(fps, Fraction) else Fraction(fps).limit_denominator(1001)
    with FrameWriter(path, first.shape[1], first.shape[0], fps, settings, channels=first.shape[2], deep=first.dtype == np.uint16) as writer:
        writer.write(first)
        for frame in frames:
            writer.write(frame)
    return Path(path)
