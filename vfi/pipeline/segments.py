"""Output written in numbered parts, so an interrupted job can resume from the finished ones.

A video output is encoded as parts of PART_FRAMES frames (or `--part-frames`) in a hidden
folder beside it (`.NAME.vfi-parts/`), each part published atomically when complete, and joined with the
source's audio (no re-encoding) at the end. The folder also holds the job's description:
`--resume` only reuses parts made by the same input with the same settings.
"""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path
from typing import Optional

import numpy as np

from vfi.core.interrupts import ResumableInterrupt
from vfi.io.libav import is_standard
from vfi.io.encode import EncodeSettings, FrameWriter, sequence_files
from vfi.io.files import remove_quietly
from vfi.io.mux import join_parts
from vfi.io.probe import VideoError, VideoInfo

PART_FRAMES = 600
JOB_FILE = "job.json"
LAST_FILE = "last.json"  # written once the end is known: how many parts, and the frames in the last


def parts_folder(output: Path) -> Path:
    return output.parent / f".{output.name}.vfi-parts"


def job_description(info: VideoInfo, **settings) -> dict:
    """What decides the output frames: the input (by size and modification time; for an image
    sequence, of all its files) and every setting, the part size among them (default PART_FRAMES)."""
    files = [] if is_standard(info.path) else sequence_files(info.path) if info.is_sequence else [info.path]
    stats = [f.stat() for f in files]  # (standard input: nothing to resume, nothing to describe)
    return {"input": str(info.path if is_standard(info.path) else info.path.resolve()), "files": len(files),
            "size": sum(st.st_size for st in stats), "mtime_ns": max((st.st_mtime_ns for st in stats), default=0),
            **{k: str(v) for k, v in settings.items()}, "part_frames": settings.get("part_frames") or PART_FRAMES}


class SegmentedOutput:
    """Receives output frames in order; `done` frames were already written by an earlier run.

    The part size is the job's (`job_description`), so a resumed run cuts where the first one did."""

    def __init__(self, output: Path, width: int, height: int, fps: Fraction, settings: EncodeSettings,
                 job: dict, resume: bool, channels: int = 3, deep: bool = False, tags: tuple[str, ...] = ()):
        self.output = Path(output)
        self.folder = parts_folder(self.output)
        self.size = (width, height)
        self.fps = fps
        self.settings = settings
        self.layout = {"channels": channels, "deep": deep, "tags": tags}
        # NUT parts drop the side data VP9 keeps its alpha in; Matroska parts carry it to the join
        self.suffix = ".mkv" if settings.codec == "vp9" and channels == 4 else ".nut"
        self.job = job
        self.part_frames = int(job["part_frames"])
        self.done = 0
        self.last_part_frames: Optional[int] = None  # known once all parts exist
        self._writer: Optional[FrameWriter] = None
        self._index = 0  # the part being written
        self._frames_in_part = 0
        self._prepare(resume)

    def _prepare(self, resume: bool) -> None:
        saved = self._saved_job()
        if resume and saved is not None and saved != self.job:
            raise VideoError(f"{self.folder}: the saved parts come from a different input or settings; "
                             "run without --resume to start over")
        if resume and saved == self.job:
            parts = self._finished_parts()
            self.done = len(parts) * self.part_frames
            self._index = len(parts)
            end = self.saved_end()
            self.last_part_frames = end[1] if end and end[0] == len(parts) else None
            for stray in self.folder.iterdir():  # half-written temporaries of the interrupted part
                if stray.name.startswith("."):
                    remove_quietly(stray)
            return
        remove_quietly(self.folder)
        self.folder.mkdir()
        (self.folder / JOB_FILE).write_text(json.dumps(self.job, indent=1))

    def _saved_job(self) -> Optional[dict]:
        try:
            return json.loads((self.folder / JOB_FILE).read_text())
        except (OSError, ValueError):
            return None

    def part_path(self, index: int) -> Path:
        """Where part `index` (output frames index * part_frames onwards) is published when complete."""
        return self.folder / f"part_{index:05d}{self.suffix}"

    def existing_parts(self) -> set[int]:
        """Indices of the finished parts, in any order (parts made in parallel finish out of order)."""
        return {int(p.stem.split("_")[1]) for p in self.folder.glob(f"part_*{self.suffix}")} if self.folder.is_dir() else set()

    def saved_end(self) -> Optional[tuple[int, int]]:
        """(parts, frames in the last part) once an earlier run has seen the end of the stream."""
        try:
            saved = json.loads((self.folder / LAST_FILE).read_text())
            return int(saved["parts"]), int(saved["frames"])
        except (OSError, ValueError, KeyError):
            return None

    def record_last(self, frames: int, parts: int) -> None:
        """Note where the output ends, so a resumed run knows every part is there."""
        self.last_part_frames = frames
        (self.folder / LAST_FILE).write_text(json.dumps({"frames": frames, "parts": parts}))

    def _finished_parts(self) -> list[Path]:
        parts = []
        while self.part_path(len(parts)).is_file():
            parts.append(self.part_path(len(parts)))
        return parts

    @property
    def complete(self) -> bool:
        """Every part was written by an earlier run (it stopped while joining them)."""
        return self.last_part_frames is not None

    def write(self, frame: np.ndarray) -> None:
        if self._writer is None:
            self._writer = FrameWriter(self.part_path(self._index), *self.size, self.fps, self.settings,
                                       **self.layout).open()
        self._writer.write(frame)
        self._frames_in_part += 1
        if self._frames_in_part == self.part_frames:
            self._close_part()

    def _close_part(self) -> None:
        self._writer.finish()
        self._writer = None
        self._index += 1
        self._frames_in_part = 0

    def finish(self, source: Optional[VideoInfo], **carry) -> list[str]:
        """Join the parts and what the source carries (`mux.join_parts`) into the output; remove the
        parts. Returns the notes on what could not be carried over as it was."""
        if self.last_part_frames is None:
            if self._writer is not None:
                self.last_part_frames = self._frames_in_part
                self._close_part()
            else:
                self.last_part_frames = self.part_frames
            self.record_last(self.last_part_frames, len(self._finished_parts()))
        last = self.last_part_frames
        parts = self._finished_parts()
        if not parts:
            raise VideoError("no frames were produced")
        seconds = [Fraction(self.part_frames) / self.fps] * (len(parts) - 1) + [Fraction(last) / self.fps]
        notes = join_parts(parts, seconds, self.output, self.settings.codec, source, **carry)
        remove_quietly(self.folder)
        return notes

    def abort(self, keep_parts: bool) -> None:
        """Stop; keep the finished parts for --resume (after an interrupt) or remove everything."""
        if self._writer is not None:
            self._writer.abort()
            self._writer = None
        if not keep_parts or not self.existing_parts():
            remove_quietly(self.folder)

    @property
    def kept_parts(self) -> int:
        return len(self.existing_parts())

    def interrupted(self, cause: KeyboardInterrupt) -> ResumableInterrupt:
        """What a stop that kept finished parts tells the user (and the signal it began as)."""
        return ResumableInterrupt(f"{self.kept_parts} finished part(s) kept in {self.folder}; "
                                  "run the same command with --resume to continue", cause)


class WholeOutput:
    """An image-sequence output, written in one go: the same face as SegmentedOutput, nothing to resume."""

    done = 0
    complete = False
    kept_parts = 0
    part_frames = 0

    def __init__(self, writer: FrameWriter):
        self.writer = writer.open()
        self.write = self.writer.write

    def finish(self, source: Optional[VideoInfo], **carry) -> list[str]:
        self.writer.finish()
        return []

    def abort(self, keep_parts: bool) -> None:
        self.writer.abort()

