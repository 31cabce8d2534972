"""Opening a file with libav (through PyAV) and the stream facts that need more than its header:
the field order, where the video starts beside the other streams, the rate its timestamps really
keep, the display matrix, and the HDR mastering-display and light-level side data.

These decide where frames and sound lie (timestamps and edit lists, not header rates), which way
up a picture is shown and what an HDR output must carry; nothing here decodes more than the first
frame. libav reports damage only in its log, so files are opened with its error lines collected.
"""

from __future__ import annotations

import logging
import os
import re
import struct
from contextlib import contextmanager
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Iterator, Optional

from vfi.core.errors import VfiError

# libav's AVFieldOrder: TT and TB show the top field first, BB and BT the bottom one
_FIELD_ORDERS = {2: "tff", 4: "tff", 3: "bff", 5: "bff", "tt": "tff", "tb": "tff", "bb": "bff", "bt": "bff"}
_PACKETS_FOR_RATE = 48  # packets whose timestamps judge the rate (B-frame reordering settles within them)
_PACKETS_FOR_FIRST_FRAME = 600  # a stream cut mid-GOP may need many packets before a frame decodes


@dataclass(frozen=True)
class MasteringDisplay:
    """SMPTE ST 2086: the mastering display's primaries and white point (CIE 1931 xy) and luminance (cd/m²)."""

    red: tuple[float, float]
    green: tuple[float, float]
    blue: tuple[float, float]
    white: tuple[float, float]
    min_luminance: float
    max_luminance: float

    def x265(self) -> str:
        """x265's master-display string: chromaticities in 0.00002 steps, luminance in 0.0001 cd/m²."""
        xy = lambda p: f"({round(p[0] / 0.00002)},{round(p[1] / 0.00002)})"
        return (f"G{xy(self.green)}B{xy(self.blue)}R{xy(self.red)}WP{xy(self.white)}"
                f"L({round(self.max_luminance / 0.0001)},{round(self.min_luminance / 0.0001)})")


@dataclass(frozen=True)
class LightLevel:
    """CTA-861.3 content light level: brightest pixel (MaxCLL) and brightest frame average (MaxFALL), cd/m²."""

    max_cll: int
    max_fall: int


@dataclass(frozen=True)
class StreamFacts:
    field_order: str = "progressive"  # progressive, tff or bff
    start_offset: Fraction = Fraction(0)  # seconds the video starts after the file's earliest stream
    timestamp_rate: Optional[Fraction] = None  # the rate the first timestamps keep, when they keep one
    grid_rate: Optional[Fraction] = None  # uneven timestamps that all sit on one grid: its rate (held frames)
    mastering: Optional[MasteringDisplay] = None
    light_level: Optional[LightLevel] = None
    time_base: Optional[Fraction] = None  # of the video stream's timestamps
    display_matrix: Optional[tuple[int, ...]] = None  # the 3x3 16.16 matrix players apply, row by row


def _rational(buffer: bytes, index: int) -> float:
    num, den = struct.unpack_from("<ii", buffer, 8 * index)
    return num / den if den else 0.0


def parse_mastering(buffer: bytes) -> Optional[MasteringDisplay]:
    """libav's AVMasteringDisplayMetadata: 3x2 primaries (r, g, b), the white point, min and max
    luminance as int32 rationals, then has_primaries and has_luminance."""
    if len(buffer) < 8 * 10 + 8:
        return None
    has_primaries, has_luminance = struct.unpack_from("<ii", buffer, 80)
    if not (has_primaries and has_luminance):
        return None
    point = lambda i: (_rational(buffer, i), _rational(buffer, i + 1))
    return MasteringDisplay(point(0), point(2), point(4), point(6), _rational(buffer, 8), _rational(buffer, 9))


def parse_light_level(buffer: bytes) -> Optional[LightLevel]:
    """libav's AVContentLightMetadata: MaxCLL and MaxFALL as unsigned ints."""
    if len(buffer) < 8:
        return None
    return LightLevel(*struct.unpack_from("<II", buffer, 0))


_REORDER_DEPTH = 8  # packets come in decoding order: the latest few shown may still be missing their B-frames


def steady_rate(stamps: list[int], time_base: Fraction) -> Optional[Fraction]:
    """The rate of timestamps that advance by one step throughout (within a tick, or a tenth of a step,
    of rounding: a source timed in milliseconds and remuxed keeps that jitter), else None.
    The latest `_REORDER_DEPTH` stamps are left out, since frames shown before them may be yet to come."""
    stamps = sorted(set(stamps))
    stamps = stamps[:-_REORDER_DEPTH] if len(stamps) > 2 * _REORDER_DEPTH else stamps
    if len(stamps) < 4:
        return None
    steps = [b - a for a, b in zip(stamps, stamps[1:])]
    mean = Fraction(stamps[-1] - stamps[0], len(steps))
    if mean <= 0 or any(abs(step - mean) > max(1, mean / 10) for step in steps):
        return None  # a step a tenth of a frame off: not the jitter of a rounded time base
    return 1 / (mean * time_base)


def grid_rate(stamps: list[int], time_base: Fraction) -> Optional[Fraction]:
    """The rate of the grid uneven timestamps keep, each step a whole number of the shortest (an
    animated GIF at 10 fps with one frame held 0.6 s), else None."""
    stamps = sorted(set(stamps))
    steps = [b - a for a, b in zip(stamps, stamps[1:])]
    if len(steps) < 3 or min(steps) <= 0:
        return None
    unit = min(steps)
    if any(step % unit for step in steps):
        return None
    return 1 / (unit * time_base)


def _field_order(value) -> str:
    return _FIELD_ORDERS.get(value if isinstance(value, int) else str(value).lower(), "progressive")


def _side_data(buffer_holder) -> bytes:
    import ctypes

    return ctypes.string_at(buffer_holder.buffer_ptr, buffer_holder.buffer_size)


def _errors_to_captures() -> None:
    """Have libav's error lines (and only those) reach PyAV's captures, and never the terminal."""
    import av.logging

    if av.logging.get_level() != av.logging.ERROR:
        av.logging.set_level(av.logging.ERROR)
        quiet = logging.getLogger("libav")
        quiet.addHandler(logging.NullHandler())
        quiet.propagate = False


# Slice threads only, never frame threads. libav's error lines reach Python (captured here), so a
# thread that logs waits for the GIL; freeing a codec whose frame threads are still at work holds the
# GIL while it waits for them (PyAV #909), and a file closed early (--max-frames, a seek, a part's
# end, a probe's first frame) hung there for good. Slice threads are idle between frames. Decoding
# 720p H.264 ran at about 200 frames/s with them against 330 with frame threads, on 2 cores.
DECODE_THREADS = "SLICE"


def demuxer_options(input_options: tuple[str, ...]) -> dict[str, str]:
    """Command-line style input options (("-framerate", "30")) as the demuxer's option dictionary."""
    return {key.lstrip("-"): str(value) for key, value in zip(input_options[::2], input_options[1::2])}


PATTERN = re.compile(r"%(0?)(\d*)d")  # the printf number an image-sequence path names its frames with


def sequence_numbers(pattern: str | os.PathLike) -> dict[int, Path]:
    """The files a printf pattern (frames/%04d.png) names that exist now, by their number."""
    pattern = Path(pattern)
    folder = pattern.parent if str(pattern.parent) else Path(".")
    match = PATTERN.search(pattern.name)
    if match is None or not folder.is_dir():
        return {}
    digits = r"(\d{%d,})" % max(1, int(match.group(2) or 1))
    name = re.compile(re.escape(pattern.name[:match.start()]) + digits + re.escape(pattern.name[match.end():]))
    return {int(found.group(1)): folder / entry.name for entry in os.scandir(folder)
            if (found := name.fullmatch(entry.name))}


def sequence_start(pattern: str | os.PathLike) -> Optional[int]:
    """The lowest number a pattern finds on disk: libav's image2 demuxer looks for a first image only
    among 0-4, and render farms number from 1001."""
    return min(sequence_numbers(pattern), default=None)


STANDARD = "-"  # the name that means standard input as INPUT, standard output as OUTPUT


def is_standard(path: str | os.PathLike) -> bool:
    return str(path) == STANDARD


class StandardInputUsed(VfiError):
    """Standard input was asked for a second read, which a pipe cannot give."""


class _StandardInput:
    """Standard input opened by libav once: the probe reads its header, and one reader its frames."""

    container = None
    decoding = False

    @classmethod
    def open(cls, options: dict):
        import sys

        import av

        if cls.container is None:
            cls.container = av.open(sys.stdin.buffer, options=options)
            for stream in cls.container.streams.video:
                stream.thread_type = DECODE_THREADS
        return cls.container

    @classmethod
    def start_decoding(cls) -> None:
        if cls.decoding:
            raise StandardInputUsed("standard input can be read once; this needs a second read of it")
        cls.decoding = True


@contextmanager
def opened(path: str | os.PathLike, input_options: tuple[str, ...] = (), sequence: bool = False
           ) -> Iterator[tuple["av.container.InputContainer", list]]:
    """The file opened by libav's demuxer (an image sequence by the image2 demuxer; "-" standard input,
    opened once and kept open), with the list that collects the (level, component, message) error lines
    libav logs while it is open."""
    import av
    import av.logging

    _errors_to_captures()
    if is_standard(path):
        with av.logging.Capture(local=False) as logs:
            yield _StandardInput.open(demuxer_options(input_options)), logs
        return
    with av.logging.Capture(local=False) as logs:
        options = demuxer_options(input_options)
        if sequence and "start_number" not in options:
            first = sequence_start(path)
            if first is not None:
                options["start_number"] = str(first)
        container = av.open(os.path.abspath(path), format="image2" if sequence else None, options=options)
        for stream in container.streams.video:
            stream.thread_type = DECODE_THREADS
        try:
            yield container, logs
        finally:
            container.close()


def stream_facts(container, stream) -> StreamFacts:
    """Facts about one video stream of an open file, from its first packets and its first decoded frame."""
    starts = [s.start_time * s.time_base for s in container.streams
              if s.start_time is not None and s.time_base is not None]
    own = stream.start_time * stream.time_base if stream.start_time is not None and stream.time_base else None
    offset = Fraction(own - min(starts)) if own is not None and starts else Fraction(0)
    time_base = Fraction(stream.time_base) if stream.time_base else None
    stamps, first = [], None
    for packets, packet in enumerate(container.demux(stream)):
        when = packet.pts if packet.pts is not None else packet.dts
        if when is not None and len(stamps) < _PACKETS_FOR_RATE:
            stamps.append(when)
        if first is None and packets < _PACKETS_FOR_FIRST_FRAME:
            first = _first_frame(stream, packet)
        if len(stamps) >= _PACKETS_FOR_RATE and (first is not None or packets >= _PACKETS_FOR_FIRST_FRAME):
            break
    rate = steady_rate(stamps, time_base) if time_base else None
    matrix = mastering = light = None
    for item in first.side_data if first is not None else ():
        kind = str(item.type)
        if kind.endswith("DISPLAYMATRIX"):
            matrix = struct.unpack_from("<9i", _side_data(item))
        elif kind.endswith("MASTERING_DISPLAY_METADATA"):
            mastering = parse_mastering(_side_data(item))
        elif kind.endswith("CONTENT_LIGHT_LEVEL"):
            light = parse_light_level(_side_data(item))
    grid = grid_rate(stamps, time_base) if time_base and rate is None else None
    return StreamFacts(_field_order(stream.codec_context.field_order), offset, rate, grid, mastering, light,
                       time_base, matrix)


# Decoders that read the alpha a WebM keeps beside VP8/VP9 video (libav's own VP8/VP9 decoders drop it).
_ALPHA_DECODERS = {"vp8": "libvpx", "vp9": "libvpx-vp9"}


def alpha_decoder(stream) -> Optional[str]:
    """The decoder that keeps this stream's alpha, where the default one would drop it; else None."""
    import av

    tags = {key.lower(): str(value) for key, value in (stream.metadata or {}).items()}
    name = _ALPHA_DECODERS.get(stream.codec_context.name if stream.codec_context else "")
    return name if tags.get("alpha_mode") == "1" and name in av.codecs_available else None


def decoded(container, stream, decoder: Optional[str] = None) -> Iterator:
    """The stream's frames, by `decoder` (a libav decoder's name) where one is named, else by its own."""
    import av

    if _StandardInput.container is not None and container is _StandardInput.container:
        _StandardInput.start_decoding()
    if decoder is None:
        yield from container.decode(stream)
        return
    context = av.CodecContext.create(decoder, "r")
    context.extradata = stream.codec_context.extradata
    for packet in container.demux(stream):
        yield from context.decode(packet)


def _first_frame(stream, packet):
    """The first frame a packet completes, if any (a damaged packet is passed over)."""
    import av

    try:
        frames = stream.codec_context.decode(packet)
    except av.FFmpegError:
        return None
    return frames[0] if frames else None


def read_facts(path: str | os.PathLike, stream_index: int) -> StreamFacts:
    """Facts about video stream `stream_index` (absolute number) of a file."""
    with opened(path) as (container, _):
        return stream_facts(container, container.streams[stream_index])


def packets_end(path: str | os.PathLike, from_seconds: float) -> Optional[float]:
    """Where the last packet of any stream ends, in seconds from the file's start, reading only from
    about `from_seconds` on; None where the file cannot say. A file cut short ends early in every
    stream, where a video that is merely shorter than its audio does not."""
    import av

    try:
        with opened(path) as (container, _):
            start = container.start_time or 0
            container.seek(max(0, int(from_seconds * 1_000_000) + start - 1_000_000), backward=True)
            ends = [float((packet.pts + max(packet.duration or 0, 0)) * packet.time_base) for packet in container.demux()
                    if packet.pts is not None and packet.time_base is not None]
            return max(ends) - start / 1_000_000 if ends else None
    except (av.FFmpegError, OSError, ValueError):
        return None


def global_tags(path: str | os.PathLike) -> dict[str, str]:
    """The file's own (container-level) metadata, as libav names it; empty where it cannot be read."""
    import av

    try:
        with opened(path) as (container, _):
            return dict(container.metadata)
    except (av.FFmpegError, OSError, ValueError):
        return {}
