"""What a benchmark scores: videos, UCF101 and Middlebury triplet folders, and the generated CI suite."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Optional, Sequence

import numpy as np

from vfi.core.pixels import rgb8
from vfi.io.decode import FrameReader
from vfi.io.images import read_image
from vfi.io.probe import probe
from vfi.training.synthetic import SCENES, make_scene


@dataclass
class Triplet:
    name: str
    frame0: Path
    frame1: Path
    target: Path


def find_triplets(folder: Path) -> tuple[str, list[Triplet], list[str]]:
    """Recognise the UCF101 and Middlebury layouts: (kind, complete triplets, incomplete items named
    with what they lack), so that a set missing a file is reported instead of scored short."""
    folder = Path(folder)
    if (folder / "input").is_dir() and (folder / "gt").is_dir():
        names = sorted({d.name for d in (folder / "gt").iterdir() if d.is_dir()} |
                       {d.name for d in (folder / "input").iterdir() if d.is_dir()})
        items = [Triplet(name, folder / "input" / name / "frame10.png", folder / "input" / name / "frame11.png",
                         folder / "gt" / name / "frame10i11.png") for name in names]
        return ("middlebury", *_complete(items, folder))
    items = [Triplet(d.name, d / "frame_00.png", d / "frame_02.png", d / "frame_01_gt.png")
             for d in sorted(folder.iterdir()) if d.is_dir() and any(d.glob("frame_0*.png"))]
    if items:
        return ("ucf101", *_complete(items, folder))
    raise ValueError(f"{folder}: neither a video nor a folder of UCF101 or Middlebury triplets")


def _complete(items: list[Triplet], folder: Path) -> tuple[list[Triplet], list[str]]:
    complete, incomplete = [], []
    for item in items:
        missing = [path for path in (item.frame0, item.frame1, item.target) if not path.is_file()]
        if missing:
            incomplete.append(f"{item.name} (no {', '.join(str(p.relative_to(folder)) for p in missing)})")
        else:
            complete.append(item)
    return complete, incomplete


CI_SCENES = tuple(SCENES)
CI_SIZE = (160, 224)  # (h, w)
CI_FRAMES = 17


def ci_clip(name: str, seed: int = 0) -> list[np.ndarray]:
    """A synthetic clip with exact frames at integer times; its dropped frames are exact ground truth."""
    return make_scene(name, *CI_SIZE, seed=seed).clip(CI_FRAMES)


@dataclass
class Dataset:
    name: str
    kind: str  # "video", "ucf101", "middlebury", "synthetic"
    frames: Optional[Callable[[], Iterable[np.ndarray]]] = None
    triplets: Sequence[Triplet] = ()
    incomplete: Sequence[str] = ()  # triplet items left out, each named with the file it lacks


def datasets_for(paths: Sequence[Path], suite: Optional[str], max_frames: Optional[int]) -> list[Dataset]:
    out = []
    if suite == "ci":
        for name in CI_SCENES:
            out.append(Dataset(f"synthetic/{name}", "synthetic", frames=lambda n=name: ci_clip(n)))
    elif suite is not None:
        raise ValueError(f"unknown suite '{suite}': the only suite is 'ci'")
    for path in paths:
        path = Path(path)
        if path.is_dir():
            kind, triplets, incomplete = find_triplets(path)
            out.append(Dataset(path.name, kind, triplets=triplets, incomplete=incomplete))
        else:
            info = probe(path)
            out.append(Dataset(path.name, "video", frames=lambda i=info: FrameReader(i, max_frames=max_frames)))
    if not out:
        raise ValueError("nothing to score: give videos or triplet folders, or --suite ci")
    return out


def read_rgb(path: Path) -> np.ndarray:
    """A triplet image as the metrics take it: 8-bit RGB."""
    return rgb8(read_image(path))
