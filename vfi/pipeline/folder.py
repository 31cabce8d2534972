"""`vfi upsample DIR -o OUTDIR`: every video in a folder, finished ones skipped, failures reported at the end."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from vfi.io.encode import CONTAINERS
from vfi.io.probe import VideoError

VIDEO_SUFFIXES = {".mp4", ".mkv", ".mov", ".webm", ".avi", ".m4v", ".mpg", ".mpeg", ".ts", ".m2ts", ".flv",
                  ".wmv", ".ogv", ".3gp", ".y4m", ".nut", ".gif"}


@dataclass
class FolderReport:
    done: list[Path] = field(default_factory=list)
    skipped: list[Path] = field(default_factory=list)
    failed: list[tuple[Path, str]] = field(default_factory=list)


def plan_folder(input_dir: Path, output_dir: Path) -> list[tuple[Path, Path]]:
    """(input, output) for each video in input_dir; outputs keep the name and, where we can write it, the container."""
    if (output_dir.exists() and not output_dir.is_dir()) or output_dir.suffix.lower() in VIDEO_SUFFIXES:
        raise VideoError(f"{output_dir}: a folder INPUT needs a folder -o (it is made if missing), not a file")
    if output_dir.resolve() == input_dir.resolve():
        raise VideoError(f"{output_dir}: choose an output folder other than the input folder")
    jobs = []
    for path in sorted(input_dir.iterdir()):
        if path.is_file() and path.suffix.lower() in VIDEO_SUFFIXES and not path.name.startswith("."):
            suffix = path.suffix if path.suffix.lower() in CONTAINERS else ".mp4"
            jobs.append((path, output_dir / (path.stem + suffix)))
    if not jobs:
        raise VideoError(f"{input_dir}: no videos in this folder")
    return jobs


def upsample_folder(input_dir: Path, output_dir: Path, run_one: Callable[[Path, Path], None],
                    on_failure: Callable[[Path, str], None] = lambda path, message: None) -> FolderReport:
    """Run `run_one(input, output)` for each video; an output that exists is a finished job (outputs
    appear only when complete), and one failure does not stop the rest."""
    report = FolderReport()
    jobs = plan_folder(Path(input_dir), Path(output_dir))
    try:
        Path(output_dir).mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise VideoError(f"{output_dir}: cannot create the output folder ({exc.strerror})") from None
    for source, target in jobs:
        if target.exists():
            report.skipped.append(source)
            continue
        try:
            run_one(source, target)
            report.done.append(source)
        except (VideoError, ValueError, OSError) as exc:
            report.failed.append((source, str(exc)))
            on_failure(source, str(exc))
    return report
