"""What a video file holds, read from libav (through PyAV): size, rate, tags and streams.

Rates are taken as ffmpeg reports them (two decimals, NTSC rates recovered exactly) and the rate
the timestamps really keep overrides a header that disagrees; field order, start offsets, the
display matrix and HDR side data come from the first packets and frame (`io.libav`).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path
from typing import Optional

from vfi.core.errors import VfiError
from vfi.io import colour_names
from vfi.io.frame_filters import display_rotation
from vfi.io.libav import (PATTERN, LightLevel, MasteringDisplay, StreamFacts, alpha_decoder, is_standard, opened,
                          stream_facts)


class VideoError(VfiError):
    """A problem with an input or output video, worded for the user."""


@dataclass(frozen=True)
class Stream:
    """One stream of the input besides the video that is interpolated."""

    index: int  # the absolute stream number (ffmpeg's 0:index)
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
    display_matrix: Optional[tuple[int, ...]] = None  # what `rotation` comes from, flips included
    decoder: Optional[str] = None  # a libav decoder other than the stream's default (libvpx, for VP9 alpha)

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

    @property
    def fields(self) -> int:
        """Frames read from each stored frame: 2 where each field becomes a frame (see `deinterlacing`)."""
        return 2 if self.deinterlace else 1

    @property
    def turned(self) -> bool:
        """The display matrix turns or mirrors the stored picture."""
        m = self.display_matrix
        return m is not None and (m[0], m[1], m[3], m[4]) != (65536, 0, 0, 65536)

    def stored(self) -> "VideoInfo":
        """The same video decoded as stored, its display matrix kept as a tag for the output to carry."""
        if not self.turned or not self.autorotate:
            return self
        quarter = round(abs(self.rotation)) % 180 == 90
        return replace(self, width=self.height if quarter else self.width,
                       height=self.width if quarter else self.height, autorotate=False)



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


def _check_readable(path: Path) -> None:
    if is_standard(path):
        return
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


def printed_rate(rate: Fraction) -> str:
    """A rate as ffmpeg reports it: two decimals, whole rates bare, thousands as 'k' (print_fps)."""
    value = float(rate)
    hundredths = round(value * 100)
    if not hundredths:
        return f"{value:1.4f}"
    if hundredths % 100:
        return f"{value:3.2f}"
    if hundredths % 100_000:
        return f"{value:1.0f}"
    return f"{value / 1000:1.0f}k"


def _aspect(*candidates) -> Fraction:
    """The first valid sample aspect ratio: the codec's, else the container's; square pixels without one."""
    for value in candidates:
        if value and value > 0:
            return Fraction(value)
    return Fraction(1)


def _colour(codec) -> Colour:
    return Colour(colour_names.name(colour_names.RANGES, codec.color_range),
                  colour_names.name(colour_names.MATRICES, codec.colorspace),
                  colour_names.name(colour_names.PRIMARIES, codec.color_primaries),
                  colour_names.name(colour_names.TRANSFERS, codec.color_trc))


def _stream(stream) -> Stream:
    import av.stream

    codec = stream.codec_context
    name = codec.codec.canonical_name if codec is not None and codec.codec is not None else "none"
    attached = bool(int(stream.disposition or 0) & int(av.stream.Disposition.attached_pic))
    return Stream(stream.index, stream.type.capitalize(), name, stream.type == "video" and attached)


def _open_error(path: Path, error: Exception) -> VideoError:
    if is_standard(path):
        return VideoError("standard input: not a video stream libav can read (y4m, NUT, Matroska, ...)")
    if is_pattern(path):
        return VideoError(f"{path}: no images match this pattern")
    return VideoError(f"{path}: not a readable video (damaged, truncated or not a video file)")


DEINTERLACE_MODES = ("auto", "off", "bwdif", "yadif")


def probe(path: str | os.PathLike, input_options: tuple[str, ...] = (), video_stream: int = 0,
          deinterlace: str = "auto") -> VideoInfo:
    """Read a video's size, rate, tags and streams.

    A path with a printf pattern (frames/%05d.png) is an image sequence; `input_options`
    such as ("-framerate", "30") give its rate. `video_stream` picks among several video
    streams (cover art not counted). `deinterlace` (see `deinterlacing`) says what becomes of
    interlaced input.
    """
    if deinterlace not in DEINTERLACE_MODES:
        raise VideoError(f"--deinterlace '{deinterlace}': choose one of {', '.join(DEINTERLACE_MODES)}")
    path = Path(path)
    _check_readable(path)
    import av

    try:
        with opened(path, tuple(input_options), is_pattern(path)) as (container, _):
            return deinterlacing(_described(path, container, tuple(input_options), video_stream), deinterlace)
    except (av.FFmpegError, OSError) as error:
        raise _open_error(path, error) from None


def _described(path: Path, container, input_options: tuple[str, ...], video_stream: int) -> VideoInfo:
    streams = [_stream(s) for s in container.streams]
    videos = [s for s in streams if s.kind == "Video" and not s.attached_pic]
    if not videos:
        audio = [s.codec for s in streams if s.kind == "Audio"]
        if audio:
            raise VideoError(f"{path}: has only audio ({', '.join(audio)}), no video stream")
        raise VideoError(f"{path}: not a video (libav finds no video stream in it)")
    if not 0 <= video_stream < len(videos):
        raise VideoError(f"{path}: has {len(videos)} video stream(s); --video-stream counts from 0 "
                         f"to {len(videos) - 1}")
    chosen = videos[video_stream]
    stream = container.streams[chosen.index]
    codec = stream.codec_context
    width, height = codec.width, codec.height
    if not width or not height or width <= 0 or height <= 0:
        raise VideoError(f"{path}: cannot read the video's frame size")
    if width * height > MAX_PIXELS:
        raise VideoError(f"{path}: frame size {width}x{height} is beyond what vfi handles (at most 16384x16384)")
    decoder = alpha_decoder(stream)
    rate = stream.average_rate or stream.base_rate
    if not rate:
        raise VideoError(f"{path}: cannot read the video's frame rate")
    info = VideoInfo(
        path=path, width=width, height=height, fps=parse_rate(printed_rate(Fraction(rate))),
        duration=container.duration / 1_000_000 if container.duration else None,
        codec=chosen.codec, pix_fmt="yuva420p" if decoder else codec.pix_fmt or "unknown", decoder=decoder,
        stream_index=chosen.index,
        streams=tuple(s for s in streams if s.index != chosen.index), chapters=len(container.chapters()),
        sar=_aspect(codec.sample_aspect_ratio, stream.sample_aspect_ratio), colour=_colour(codec),
        input_options=input_options,
    )
    if info.is_sequence or is_standard(path):  # (standard input keeps no packet for a look ahead)
        return info
    try:
        facts = stream_facts(container, stream)
    except Exception:  # PyAV raises its own error classes, and ValueError on odd streams
        facts = StreamFacts()
    return with_facts(info, facts)


MAX_GRID_RATE = 240  # a grid finer than this is a time base's, not a frame rate


def with_facts(info: VideoInfo, facts: StreamFacts) -> VideoInfo:
    """The header's description completed by what the first packets and frame say: the timestamps'
    rate beats a header that disagrees with them (beyond 1 %, on progressive video, whose packets
    are whole frames), and the display matrix turns the picture."""
    fps, notes = info.fps, list(info.notes)
    steady = facts.timestamp_rate
    if steady and facts.field_order == "progressive" and abs(steady / info.fps - 1) > Fraction(1, 100):
        fps = parse_rate(f"{float(steady):.4f}") if steady.denominator > 1001 else steady
        notes.append(f"the file's header says {float(info.fps):g} fps but its timestamps are steady at "
                     f"{float(fps):.6g} fps: the timestamps are followed")
    elif steady is None and facts.grid_rate and info.fps < facts.grid_rate <= MAX_GRID_RATE:
        fps = facts.grid_rate  # held frames (an animated GIF's): the rate its timestamps keep, not their average
    rotation, width, height = 0.0, info.width, info.height
    if facts.display_matrix is not None:
        rotation = round(display_rotation(facts.display_matrix), 2)
        if round(abs(rotation)) % 180 == 90:
            width, height = height, width  # decoded upright unless `autorotate` is turned off
    return replace(info, fps=fps, header_rate_wrong=fps != info.fps, field_order=facts.field_order,
                   rotation=rotation, width=width, height=height, display_matrix=facts.display_matrix,
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
