"""What travels from the input file to the output besides the interpolated frames, and the join
that puts them together.

The frames are encoded in parts (video only); the join copies the parts and takes from the
source its audio, subtitles, attachments, chapters and metadata, and the video's display
rotation. The aspect ratio and colour tags go into the encoder (`video_tag_args`), so they are
in the bitstream where the codec has a place for them. Whatever cannot come along is named in a
note: nothing is dropped without a word.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Optional

from vfi.io.encode import CONTAINERS, container_args, encoder_error, is_sequence_path
from vfi.io.frame_filters import display_options
from vfi.io.libav import global_tags, is_standard
from vfi.io.files import atomic_output
from vfi.io.ffmpeg import ffmpeg_exe, file_argument, run_ffmpeg
from vfi.io.probe import Stream, VideoError, VideoInfo

# codecs whose encoder stores colour tags in the stream; ffv1 in the parts' NUT container keeps none
_TAGGED_CODECS = ("libx264", "libx265", "prores", "vp9")
_YUV_MATRICES = ("bt709", "bt470bg", "smpte170m", "bt2020nc", "bt2020c", "smpte240m", "fcc")  # not RGB ('gbr')
_TEXT_SUBTITLES = {"mp4": "mov_text", "mov": "mov_text", "matroska": "srt", "webm": "webvtt"}
_AUDIO_FALLBACK = {"webm": "libopus"}


def video_tag_args(info: Optional[VideoInfo], codec: str, rgb: bool) -> list[str]:
    """Encoder arguments that give the output the source's pixel aspect ratio and colour tags.

    The RGB frames are converted back to YUV with the source's own matrix and range, so colours
    do not shift (HDR PQ/HLG values pass through unchanged and stay tagged as such). `rgb`: the
    output stores RGB (lossless modes), which has no matrix or range.
    """
    if info is None:
        return []
    filters, args = [], []
    if info.sar != 1:
        filters.append(f"setsar={info.sar.numerator}/{info.sar.denominator}")
    colour = info.colour
    if codec in _TAGGED_CODECS:
        params = [f"color_primaries={colour.primaries}" if colour.primaries else "",
                  f"color_trc={colour.transfer}" if colour.transfer else ""]
        if any(params):
            filters.append("setparams=" + ":".join(p for p in params if p))
        if not rgb and colour.matrix in _YUV_MATRICES:  # an RGB source's YUV output keeps ffmpeg's defaults
            args += ["-colorspace", colour.matrix]
            args += ["-color_range", colour.range] if colour.range else []
        elif not rgb and colour.range == "pc" and colour.matrix is None:
            args += ["-color_range", "pc"]
    return (["-vf", ",".join(filters)] if filters else []) + args + hdr_metadata_args(info, codec)


_HDR_PARAMS = {"libx265": ("-x265-params", "master-display", "max-cll"),
               "libx264": ("-x264-params", "mastering-display", "cll")}


def hdr_metadata_args(info: VideoInfo, codec: str) -> list[str]:
    """The source's HDR10 mastering-display and content-light-level metadata as encoder SEI, for the
    encoders that write them (`hdr_metadata_note` names what the others leave out)."""
    if codec not in _HDR_PARAMS or (info.mastering is None and info.light_level is None):
        return []
    option, mastering, light = _HDR_PARAMS[codec]
    params = [f"{mastering}={info.mastering.x265()}"] if info.mastering else []
    params += [f"{light}={info.light_level.max_cll},{info.light_level.max_fall}"] if info.light_level else []
    return [option, ":".join(params)]


def hdr_metadata_note(info: VideoInfo, codec: str) -> list[str]:
    """A note when the output's encoder cannot carry the source's HDR10 side data."""
    if codec in _HDR_PARAMS or (info.mastering is None and info.light_level is None):
        return []
    what = " and ".join(n for n, v in (("mastering-display", info.mastering), ("content-light-level",
                                                                                  info.light_level)) if v)
    return [f"the input's HDR {what} metadata is left out: {codec} output cannot carry it "
            f"(--codec libx265 or libx264 keeps it)"]


def _container(path: Path) -> str:
    return CONTAINERS.get(path.suffix.lower(), "matroska")


def _can_write(source: Path, stream: Stream, codec_args: list[str], container: str) -> bool:
    """Try the stream into the container for a fraction of a second."""
    cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-v", "error", "-i", file_argument(source),
           "-map", f"0:{stream.index}", *codec_args, "-t", "0.2", "-f", container, "-y", os.devnull]
    return run_ffmpeg(cmd, capture_output=True).returncode == 0


def audio_tempo_filter(slowmo: Fraction) -> str:
    """atempo steps (each within its 0.5..2 range for slowing down) that stretch audio `slowmo` times."""
    tempo, steps = 1 / Fraction(slowmo), []
    while tempo < Fraction(1, 2):
        steps.append("atempo=0.5")
        tempo *= 2
    steps.append(f"atempo={float(tempo):.6f}")
    return ",".join(steps)


@dataclass
class Carried:
    """ffmpeg arguments that bring the source's other streams into the output, and the notes for the user."""

    inputs: list[str] = field(default_factory=list)
    maps: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    streams: int = 1  # output streams so far: the video is the first
    movflags: list[str] = field(default_factory=list)  # MP4/MOV muxer flags the carried metadata needs

    def add(self, stream: Stream, *codec_args: str) -> None:
        """Map the source's stream as the next output stream, with its own metadata (language, title,
        an attachment's file name and type): a per-stream -map_metadata turns off ffmpeg's default copy."""
        self.maps += ["-map", f"1:{stream.index}", f"-map_metadata:s:{self.streams}", f"1:s:{stream.index}",
                      *codec_args]
        self.streams += 1


def carried_streams(source: Optional[VideoInfo], output: Path, keep_audio: bool = True,
                    slowmo: Fraction = Fraction(1), stretch_audio: bool = False) -> Carried:
    """What of the source goes into `output` (input number 1 of the join), and notes on what cannot.

    With `slowmo` the output lasts longer than the source: audio is stretched (atempo) only when
    asked, and subtitles and chapters, whose times would no longer match, are left out with a note.
    """
    carried = Carried()
    if source is not None and is_standard(source.path):
        if keep_audio and source.has_audio:
            carried.notes.append("the audio is left out: standard input is read once, for its video")
        return carried
    if source is None or source.is_sequence or is_sequence_path(output):
        return carried
    container = _container(output)
    carried.inputs = ["-i", file_argument(source.path)]
    carried.maps = ["-map_metadata", "1", "-map_metadata:s:v:0", f"1:s:v:{_nth_video(source)}",
                    "-map_chapters", "1" if slowmo == 1 else "-1", *_file_tags(source, container, carried)]
    if slowmo != 1 and source.chapters:
        carried.notes.append(f"{source.chapters} chapter(s) left out: their times do not fit slow motion")
    audio_index = 0
    for stream in source.streams:
        if stream.kind == "Audio":
            audio_index = _carry_audio(source, stream, audio_index, container, output, keep_audio, slowmo,
                                       stretch_audio, carried)
        elif stream.kind == "Subtitle":
            _carry_subtitle(source, stream, container, output, slowmo, carried)
        elif stream.kind == "Attachment":
            if container == "matroska":
                carried.add(stream, "-c:t", "copy")
            else:
                carried.notes.append(f"attachment #{stream.index} ({stream.codec}, e.g. a font) left out: "
                                     f"only .mkv files hold attachments")
        elif stream.kind == "Video":
            what = "cover art" if stream.attached_pic else f"video stream ({stream.codec})"
            hint = "" if stream.attached_pic else "; --video-stream picks which video stream is interpolated"
            carried.notes.append(f"the input's {what} #{stream.index} is not in the output{hint}")
        else:
            carried.notes.append(f"{stream.kind.lower()} stream #{stream.index} ({stream.codec}) left out")
    return carried


def _nth_video(source: VideoInfo) -> int:
    """Position of the interpolated stream among the source's video streams (ffmpeg's v:N counts cover art)."""
    return sum(1 for s in source.streams if s.kind == "Video" and s.index < source.stream_index)


def _carry_audio(source: VideoInfo, stream: Stream, n: int, container: str, output: Path, keep_audio: bool,
                 slowmo: Fraction, stretch_audio: bool, carried: Carried) -> int:
    if not keep_audio:
        return n
    if slowmo != 1 and not stretch_audio:
        carried.notes.append(f"audio stream #{stream.index} left out: slow motion is silent unless "
                             f"--stretch-audio is given")
        return n
    if slowmo == 1 and _can_write(source.path, stream, ["-c", "copy"], container):
        carried.add(stream, f"-c:a:{n}", "copy")
        return n + 1
    codec = _AUDIO_FALLBACK.get(container, "aac")
    tempo = [f"-filter:a:{n}", audio_tempo_filter(slowmo)] if slowmo != 1 else []
    carried.add(stream, f"-c:a:{n}", codec, f"-b:a:{n}", "192k", *tempo)
    if slowmo != 1:
        carried.notes.append(f"audio stream #{stream.index} stretched {float(slowmo):g}x (pitch kept) and "
                             f"re-encoded as {codec}")
    else:
        carried.notes.append(f"the audio ({stream.codec}) cannot be copied into {output.suffix}; "
                             f"re-encoded as {codec}")
    return n + 1


def _carry_subtitle(source: VideoInfo, stream: Stream, container: str, output: Path, slowmo: Fraction,
                    carried: Carried) -> None:
    if slowmo != 1:
        carried.notes.append(f"subtitle stream #{stream.index} left out: its times do not fit slow motion")
        return
    for codec in ("copy", _TEXT_SUBTITLES.get(container)):
        if codec and _can_write(source.path, stream, ["-c", codec], container):
            carried.add(stream, f"-c:s:{sum(1 for a in carried.maps if a.startswith('-c:s:'))}", codec)
            return
    carried.notes.append(f"subtitle stream #{stream.index} ({stream.codec}) left out: {output.suffix} files "
                         f"cannot hold it")


def video_delay(source: Optional[VideoInfo], carried: Carried, slowmo: Fraction) -> list[str]:
    """Input options that start the video as late after the sound (and subtitles) as it started in
    the source (an MP4 edit list, a capture whose video began later), so they stay in sync."""
    if source is None or not source.start_offset or carried.streams == 1:
        return []
    return ["-itsoffset", f"{float(source.start_offset * slowmo):.6f}"]


# What the MP4/MOV muxer writes as standard tags (iTunes-style or its own boxes); a file-level tag outside
# it, such as a phone's make and model or Apple's com.apple.quicktime.* keys, is kept only as a
# QuickTime metadata key (movflags use_metadata_tags).
_STANDARD_MP4_TAGS = {"major_brand", "minor_version", "compatible_brands", "encoder", "creation_time", "title",
                      "artist", "album_artist", "composer", "album", "date", "encoding_tool", "comment", "genre",
                      "copyright", "grouping", "lyrics", "description", "synopsis", "show", "episode_id",
                      "network", "keywords", "track", "disc", "compilation", "gapless_playback", "hd_video",
                      "media_type", "podcast", "category", "location"}


def _file_tags(source: VideoInfo, container: Optional[str], carried: Carried) -> list[str]:
    """Arguments that keep the file-level tags ffmpeg's own copy would lose: the recording date (ffmpeg
    drops creation_time from copied metadata) and, in MP4/MOV, tags outside the standard set."""
    tags = global_tags(source.path)
    if container in ("mp4", "mov") and set(tags) - _STANDARD_MP4_TAGS:
        carried.movflags.append("use_metadata_tags")
    recorded = tags.get("creation_time", "").split(";")[0].strip()
    return ["-metadata", f"creation_time={recorded}"] if recorded else []


def display_args(source: VideoInfo) -> list[str]:
    """The source's display matrix (turns and mirrors) as the join's input options, so the output,
    whose frames are stored as the source's were, shows as the source did."""
    if not source.turned:
        return []
    rotation, mirrored = display_options(source.display_matrix)
    return ["-display_rotation", f"{rotation:.12g}"] + (["-display_hflip"] if mirrored else [])


def join_parts(parts: list[Path], part_seconds: list[Fraction], output: Path, codec: str,
               source: Optional[VideoInfo] = None, keep_audio: bool = True, slowmo: Fraction = Fraction(1),
               stretch_audio: bool = False) -> list[str]:
    """Join encoded parts (no re-encoding) and what the source carries into `output`, atomically.

    The concat list states each part's exact duration: NUT parts do not store the last
    frame's duration, and without it every join would lose a frame's time. Returns the notes
    on what could not be carried over as it was.
    """
    output = Path(output)
    # The list names each part relative to the list where it can: the concat list is a text of lines, and a
    # folder named after an output with a newline in its name cannot be written into it.
    folders = {Path(part).resolve().parent for part in parts}
    beside = folders.pop() if len(folders) == 1 else output.parent
    fd, listing = tempfile.mkstemp(prefix=".vfi-join.", suffix=".txt", dir=beside)
    with os.fdopen(fd, "w") as f:
        for part, seconds in zip(parts, part_seconds):
            part = Path(part).resolve()
            name = part.name if part.parent == Path(beside).resolve() else str(part)
            escaped = name.replace("'", "'\\''")
            f.write(f"file '{escaped}'\nduration {float(seconds):.6f}\n")
    rotation = display_args(source) if source is not None and not source.autorotate else []
    try:
        with atomic_output(output) as tmp:
            carried = carried_streams(source, output, keep_audio, slowmo, stretch_audio)
            delay = video_delay(source, carried, slowmo)
            cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-v", "error", "-y", *rotation, *delay, "-f", "concat",
                   "-safe", "0", "-i", file_argument(listing), *carried.inputs, "-map", "0:v", *carried.maps, "-c:v", "copy",
                   *container_args(output, codec, carried.movflags), file_argument(tmp)]
            proc = run_ffmpeg(cmd, capture_output=True)
            if proc.returncode != 0:
                raise VideoError(f"writing {output} failed: {encoder_error(proc.stderr, proc.returncode)}")
    finally:
        os.unlink(listing)
    return carried.notes
