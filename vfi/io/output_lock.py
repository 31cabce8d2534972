"""One run per output: a lock beside the output, held for as long as a run writes it.

Two runs writing one output would delete each other's parts and temporaries. The lock is an
flock on a hidden file beside the output; the kernel drops it when its process ends, however it
ends (kill -9 included), so a killed run never blocks the next. The file holds the writer's pid
and host, for the message that names it.
"""

from __future__ import annotations

import fcntl
import os
import socket
from pathlib import Path
from typing import Optional

from vfi.io.probe import VideoError


def lock_path(output: str | os.PathLike) -> Path:
    output = Path(output)
    return output.parent / f".{output.name}.vfi-lock"


class OutputLock:
    """A held lock; `note` says when it was taken over from a run that died holding its file."""

    def __init__(self, path: Path, fd: int, note: Optional[str]):
        self.path, self._fd, self.note = path, fd, note

    @classmethod
    def none(cls) -> "OutputLock":
        """No lock, for an output that is no file (standard output); releasing it does nothing."""
        return cls(Path(os.devnull), None, None)

    @property
    def notes(self) -> list[str]:
        return [self.note] if self.note else []

    def release(self) -> None:
        """Remove the file, then drop the lock (a run that opened the file meanwhile sees it gone and retries)."""
        if self._fd is None:
            return
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass
        os.close(self._fd)
        self._fd = None

    def __enter__(self) -> "OutputLock":
        return self

    def __exit__(self, *exc) -> None:
        self.release()


def _holder(fd: int) -> str:
    text = os.pread(fd, 200, 0).decode(errors="replace").split()
    if not text:
        return ""
    pid, host = text[0], text[1] if len(text) > 1 else ""
    return f"pid {pid}" + (f" on {host}" if host and host != socket.gethostname() else "")


def lock_output(output: str | os.PathLike) -> OutputLock:
    """Take the output's lock, or refuse at once with one line that names the run holding it."""
    output = Path(output)
    path = lock_path(output)
    for _ in range(20):
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder(fd)
            os.close(fd)
            raise VideoError(f"{output}: another vfi run ({holder or 'starting'}) is writing this output; "
                             "wait for it to end, or choose another name") from None
        try:
            current = os.stat(path).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            current = False
        if not current:  # the holder released it between our open and our lock: try the new file
            os.close(fd)
            continue
        earlier = _holder(fd)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()} {socket.gethostname()}\n".encode(), 0)
        note = (f"an earlier run ({earlier}) ended without releasing its lock on {output.name}: taken over"
                if earlier else None)
        return OutputLock(path, fd, note)
    raise VideoError(f"{output}: could not lock this output (its lock file keeps changing)")
