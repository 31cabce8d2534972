"""The development corpus's split: the clips every shipped model is scored on and none is trained on."""

from __future__ import annotations

from pathlib import Path

HELD_OUT = {"realshort.mp4", "tree.avi", "face.avi", "bikes_g2.avi", "puck_inertia.avi", "teapot.mov",
            "blupi_play113.mkv", "blupi_play119.mkv", "blupi_win129.mkv"}
VIDEO_SUFFIXES = {".avi", ".mp4", ".mkv", ".mov", ".mpg", ".ogv"}


def corpus_clips(folder: Path) -> list[Path]:
    return sorted(p for p in Path(folder).iterdir() if p.suffix in VIDEO_SUFFIXES)


def training_clips(folder: Path) -> list[Path]:
    """Every clip of the corpus but the held-out ones."""
    return [p for p in corpus_clips(folder) if p.name not in HELD_OUT]
