"""Atomic publication of finished files: written under a temporary name, renamed when complete."""

from __future__ import annotations

import os
from pathlib import Path


def publish(tmp: str | os.PathLike, final: str | os.PathLike) -> Path:
    """Give the temporary file ordinary permissions (mkstemp makes it private) and rename it into place."""
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)
    os.replace(tmp, final)
    return Path(final)
