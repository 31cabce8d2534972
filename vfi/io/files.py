"""Atomic output: every file is written under a hidden temporary name beside its final one and
renamed into place only when complete, so no half-written file is ever seen under the real name."""

from __future__ import annotations

import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Optional


def temporary_beside(final: str | os.PathLike) -> Path:
    """A new empty hidden file in the final file's folder (same file system: the rename is atomic).

    It keeps the final extension, so tools that choose a format by name (ffmpeg, OpenCV) agree.
    """
    final = Path(final)
    fd, tmp = tempfile.mkstemp(prefix=f".{final.stem}.", suffix=f".partial{final.suffix}",
                               dir=final.parent if str(final.parent) else ".")
    os.close(fd)
    return Path(tmp)


def temporary_folder_beside(final: str | os.PathLike) -> Path:
    """A new hidden folder beside `final`, for outputs made of many files (image sequences)."""
    final = Path(final)
    return Path(tempfile.mkdtemp(prefix=".vfi-partial-", dir=final.parent if str(final.parent) else "."))


def publish(tmp: str | os.PathLike, final: str | os.PathLike) -> Path:
    """Give the temporary file ordinary permissions (mkstemp makes it private) and rename it into place."""
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)
    os.replace(tmp, final)
    return Path(final)


def remove_quietly(path: Optional[Path]) -> None:
    """Remove a temporary file or folder if it is there."""
    if path is None or not path.exists():
        return
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink()


@contextmanager
def atomic_output(final: str | os.PathLike) -> Iterator[Path]:
    """Write to the yielded path; it becomes `final` if the block succeeds and is removed if not."""
    tmp = temporary_beside(final)
    try:
        yield tmp
        publish(tmp, final)
    finally:
        remove_quietly(tmp)
