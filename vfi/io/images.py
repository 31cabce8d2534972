"""Still images in and out (PNG, TIFF, ...): 8 or 16 bits, alpha kept, written atomically."""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np

from vfi.io.files import atomic_output
from vfi.io.probe import PATTERN, VideoError, is_pattern


def read_image(path: str | os.PathLike) -> np.ndarray:
    """(H, W, 3) RGB or (H, W, 4) RGBA, uint8 or uint16, as stored."""
    path = Path(path)
    if not path.is_file():
        raise VideoError(f"{path}: no such file")
    image = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if image is None:
        raise VideoError(f"{path}: not a readable image")
    if image.dtype not in (np.uint8, np.uint16):
        raise VideoError(f"{path}: {image.dtype} images are not supported (8 or 16 bits per channel)")
    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2RGB)
    if image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2RGBA)
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def write_image(path: str | os.PathLike, image: np.ndarray) -> Path:
    """Write through a temporary file in the same folder, so no half-written image is ever seen."""
    path = Path(path)
    code = cv2.COLOR_RGBA2BGRA if image.shape[2] == 4 else cv2.COLOR_RGB2BGR
    with atomic_output(path) as tmp:
        if not cv2.imwrite(str(tmp), cv2.cvtColor(image, code)):
            raise VideoError(f"{path}: cannot write this image format")
    return path


def numbered(pattern: str | os.PathLike, number: int) -> Path:
    """mid_%d.png, 3 -> mid_3.png; a name without a pattern gets _3 before its extension."""
    pattern = Path(pattern)
    if is_pattern(pattern):
        return pattern.with_name(PATTERN.sub(lambda m: m.group(0) % number, pattern.name, count=1))
    return pattern.with_name(f"{pattern.stem}_{number}{pattern.suffix}")
