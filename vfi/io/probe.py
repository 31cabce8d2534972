"""What a video file holds, read from ffmpeg's description of it: size, rate, tags and streams.

imageio-ffmpeg ships ffmpeg but not ffprobe, so the description ffmpeg prints for `-i` is
parsed; rates printed there are rounded and are made exact where they can be. What it leaves
out (field order, where each stream starts, the rate the timestamps keep, HDR side data) comes
from libav itself (`io.libav`).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path
from typing import Optional

from vfi.io.ffmpeg import ffmpeg_exe, file_argument, run_ffmpeg
from vfi.io.libav import LightLevel, MasteringDisplay, StreamFacts, read_facts


class VideoError(Exception):
    """A problem with an input or output video, worded for the user."""


@dataclass(frozen=True)
class Stream:
    """One stream of the input besides the video that is interpolated."""

    index: int  # ffmpeg's absolute stream number (0:index)
    kind: str  # Video, Audio, Subtitle, Attachment, Data
    codec: str
    attached_pic: bool = False  # cover art: a still image stored as a video stream


@dataclass(frozen=True)
class Colour:
    """The video's colour tags, as ffmpeg names them; None where the file leaves one unset."""

    range: Optional[str] = None  # tv (limited) or pc (full)
    matrix: Optional[str] = None  # bt709, bt470bg, bt2020nc, ...
    primaries: Optional[str] = None
    transfer: Optional[str] = None  # bt709, smpte2084 (HDR PQ), arib-std-b67 (HLG), ...


@dataclass(frozen=True)
class VideoInfo:
    path: Path
    width: int  # the frame size decoded frames have (upright unless `autorotate` is off)
    height: int
    fps: Fraction
    duration: Optional[float]
    codec: str
    pix_fmt: str
    stream_index: int = 0  # the video stream that is interpolated (absolute number)
    streams: tuple[Stream, ...] = ()  # every other stream
    chapters: int = 0
    sar: Fraction = Fraction(1)  # sample (pixel) aspect ratio
    colour: Colour = Colour()
    rotation: float = 0.0  # display rotation (counter-clockwise degrees) the file asks players for
    autorotate: bool = True  # decode upright; False decodes the stored frames and keeps `rotation` as a tag
    input_options: tuple[str, ...] = ()  # e.g. ("-framerate", "30") for an image sequence
    field_order: str = "progressive"  # progressive, tff or bff, as the stream says
    deinterlace: Optional[str] = None  # the filter (bwdif, yadif) that makes one frame of each field
    start_offset: Fraction = Fraction(0)  # seconds the video starts after the file's other streams
    mastering: Optional[MasteringDisplay] = None  # HDR10 side data the output should carry
    light_level: Optional[LightLevel] = None
    notes: tuple[str, ...] = ()  # what the user should know about how the input is read
    header_rate_wrong: bool = False  # the timestamps keep another rate than the header (and its durations)
    timestamps_steady: bool = False  # the first timestamps keep one rate (libav read them): reads may seek
    time_base: Optional[Fraction] = None  # of the video stream's timestamps, where libav read it

    @property
    def audio_codecs(self) -> tuple[str, ...]:
        return tuple(s.codec for s in self.streams if s.kind == "Audio")

    @property
    def has_audio(self) -> bool:
        return bool(self.audio_codecs)

    @property
    def high_bit_depth(self) -> bool:
        """More than 8 bits per sample: decoded to 16-bit RGB so no precision is lost."""
        return pixel_bits(self.pix_fmt) > 8

    @property
    def has_alpha(self) -> bool:
        return bool(_ALPHA_FORMATS.match(self.pix_fmt))

    @property
    def is_sequence(self) -> bool:
        return is_pattern(self.path)

    def stored(self) -> "VideoInfo":
        """The same video decoded as stored, its rotation kept as a tag for the output to carry."""
        if not self.rotation or not self.autorotate:
            return self
        quarter = round(abs(self.rotation)) % 180 == 90
        return replace(self, width=self.height if quarter else self.width,
                       height=self.width if quarter else self.height, autorotate=False)

PATTERN = re.compile(r"%0?\d*d")  # the printf number an image-sequence path names its frames with


def is_pattern(path: str | os.PathLike) -> bool:
    """An image-sequence pattern names its frames with a printf number (%d, %05d); any other % is
    an ordinary character of a file name ('50%.mp4', 'out 100%.mp4')."""
    return bool(PATTERN.search(Path(path).name))


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


def parse_number(text: str, option: str) -> Fraction:
    """A positive number given on the command line ('4', '2.5', '5/2'), exactly."""
    try:
        value = Fraction(text.strip())
    except (ValueError, ZeroDivisionError):
        raise VideoError(f"{option} '{text}': give a number such as 4, 2.5 or 5/2") from None
    if value <= 0:
        raise VideoError(f"{option} '{text}': it must be positive")
    return value


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
_STREAM = re.compile(r"Stream #\d+:(\d+)\S*: (Video|Audio|Subtitle|Attachment|Data): (.*)")


def _check_readable(path: Path) -> None:
    if is_pattern(path):
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


def _stream_blocks(text: str) -> list[tuple[int, str, str, str]]:
    """(index, kind, first line, the lines below it) of each stream ffmpeg lists."""
    matches = list(_STREAM.finditer(text))
    blocks = []
    for n, match in enumerate(matches):
        end = matches[n + 1].start() if n + 1 < len(matches) else len(text)
        blocks.append((int(match.group(1)), match.group(2), match.group(3), text[match.end():end]))
    return blocks


def parse_colour(pix_fmt_field: str) -> Colour:
    """The tags in 'yuv420p10le(tv, bt2020nc/bt2020/smpte2084, progressive)'; one name stands for all three."""
    inner = re.search(r"\((.*)\)", pix_fmt_field)
    if not inner:
        return Colour()
    known = lambda name: None if name in ("unknown", "reserved") else name
    range_, tags = None, None
    for item in (part.strip() for part in inner.group(1).split(",")):
        if item in ("tv", "pc"):
            range_ = item
        elif "/" in item:
            tags = item.split("/")
        elif item not in ("progressive", "top first", "bottom first", "top coded first (swapped)",
                          "bottom coded first (swapped)") and re.fullmatch(r"[\w-]+", item) and tags is None:
            tags = [item] * 3
    matrix, primaries, transfer = (known(t) for t in tags) if tags and len(tags) == 3 else (None, None, None)
    return Colour(range_, matrix, primaries, transfer)


def _sar(fields: list[str]) -> Fraction:
    for field in fields:
        match = re.search(r"SAR (\d+):(\d+)", field)
        if match and int(match.group(1)) > 0 and int(match.group(2)) > 0:
            return Fraction(int(match.group(1)), int(match.group(2)))
    return Fraction(1)


DEINTERLACE_MODES = ("auto", "off", "bwdif", "yadif")


def probe(path: str | os.PathLike, input_options: tuple[str, ...] = (), video_stream: int = 0,
          deinterlace: str = "auto") -> VideoInfo:
    """Read a video's size, rate, tags and streams from ffmpeg's description of it.

    A path with a printf pattern (frames/%05d.png) is an image sequence; `input_options`
    such as ("-framerate", "30") give its rate. `video_stream` picks among several video
    streams (cover art not counted). `deinterlace` (see `deinterlacing`) says what becomes of
    interlaced input.
    """
    if deinterlace not in DEINTERLACE_MODES:
        raise VideoError(f"--deinterlace '{deinterlace}': choose one of {', '.join(DEINTERLACE_MODES)}")
    path = Path(path)
    _check_readable(path)
    proc = run_ffmpeg(
        [ffmpeg_exe(), "-hide_banner", "-nostdin", *input_options, "-i", file_argument(path)],
        capture_output=True, text=True, errors="replace",
    )
    text = proc.stderr
    streams, videos = [], []
    for index, kind, desc, below in _stream_blocks(text):
        attached = kind == "Video" and "attached pic" in desc
        if kind == "Video" and not attached:
            videos.append((index, desc, below))
        streams.append(Stream(index, kind, _split_top_level(desc)[0].split(" ")[0], attached))
    if not videos:
        audio = [s.codec for s in streams if s.kind == "Audio"]
        if is_pattern(path):
            raise VideoError(f"{path}: no images match this pattern")
        if audio:
            raise VideoError(f"{path}: has only audio ({', '.join(audio)}), no video stream")
        if "Invalid data" in text or "moov atom not found" in text:
            raise VideoError(f"{path}: not a readable video (damaged, truncated or not a video file)")
        raise VideoError(f"{path}: not a video (ffmpeg finds no video stream in it)")
    if not 0 <= video_stream < len(videos):
        raise VideoError(f"{path}: has {len(videos)} video stream(s); --video-stream counts from 0 "
                         f"to {len(videos) - 1}")
    stream_index, video_line, below = videos[video_stream]
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
    rotation_match = re.search(r"rotation of (-?[\d.]+) degrees", below)
    rotation = float(rotation_match.group(1)) if rotation_match else 0.0
    if round(abs(rotation)) % 180 == 90:
        width, height = height, width  # ffmpeg decodes upright by default
    rate_text = fps or tbr
    if rate_text is None:
        raise VideoError(f"{path}: cannot read the video's frame rate")
    duration = None
    dur = _DURATION.search(text)
    if dur:
        h, m, s = dur.groups()
        duration = int(h) * 3600 + int(m) * 60 + float(s)
    info = VideoInfo(
        path=path, width=width, height=height, fps=parse_rate(rate_text), duration=duration,
        codec=codec, pix_fmt=pix_fmt, stream_index=stream_index,
        streams=tuple(s for s in streams if s.index != stream_index),
        chapters=len(re.findall(r"^\s*Chapter #", text, re.M)), sar=_sar(fields),
        colour=parse_colour(fields[1]) if len(fields) > 1 else Colour(), rotation=rotation,
        input_options=tuple(input_options),
    )
    return deinterlacing(with_facts(info, _facts(info)), deinterlace)


_HDR_TRANSFERS = ("smpte2084", "arib-std-b67")


def _facts(info: VideoInfo) -> StreamFacts:
    """libav's facts for a file (an image sequence has none to add); a file ffmpeg reads but
    libav's demuxer cannot open keeps what the description said."""
    if info.is_sequence:
        return StreamFacts()
    try:
        return read_facts(info.path, info.stream_index,
                          hdr=info.colour.transfer in _HDR_TRANSFERS or info.high_bit_depth)
    except Exception:  # PyAV raises its own error classes, and ValueError on odd streams
        return StreamFacts()


def with_facts(info: VideoInfo, facts: StreamFacts) -> VideoInfo:
    """The description corrected by what libav read: the timestamps' rate beats a header that
    disagrees with them (beyond 1 %, on progressive video, whose packets are whole frames)."""
    fps, notes = info.fps, list(info.notes)
    steady = facts.timestamp_rate
    if steady and facts.field_order == "progressive" and abs(steady / info.fps - 1) > Fraction(1, 100):
        fps = parse_rate(f"{float(steady):.4f}") if steady.denominator > 1001 else steady
        notes.append(f"the file's header says {float(info.fps):g} fps but its timestamps are steady at "
                     f"{float(fps):.6g} fps: the timestamps are followed")
    return replace(info, fps=fps, header_rate_wrong=fps != info.fps, field_order=facts.field_order,
                   start_offset=facts.start_offset, mastering=facts.mastering, light_level=facts.light_level,
                   notes=tuple(notes), timestamps_steady=steady is not None, time_base=facts.time_base)


def deinterlacing(info: VideoInfo, mode: str) -> VideoInfo:
    """Interlaced input is made progressive before it is interpolated: each field becomes a frame
    (bwdif by default, at twice the frame rate), since motion between woven fields is combing.
    `mode`: auto (deinterlace what the stream marks interlaced), off, or the filter to use, which
    also deinterlaces a stream marked progressive."""
    interlaced = info.field_order != "progressive"
    order = {"tff": "top field first", "bff": "bottom field first"}.get(info.field_order, "")
    if mode == "off" or (mode == "auto" and not interlaced):
        if interlaced:
            return replace(info, notes=info.notes + (
                f"interlaced input ({order}) interpolated as whole frames (--deinterlace off): the combing "
                f"of its woven fields smears into the new frames",))
        return info
    chosen = "bwdif" if mode == "auto" else mode
    fps = info.fps * 2
    what = f"interlaced input ({order})" if interlaced else "input (marked progressive)"
    return replace(info, deinterlace=chosen, fps=fps, notes=info.notes + (
        f"{what} deinterlaced with {chosen} to {float(fps):g} fps, one frame per field, before "
        f"interpolating (--deinterlace off keeps the woven frames)",))
