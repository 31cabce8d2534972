"""Starting ffmpeg as a child that only vfi stops.

A terminal sends Ctrl-C to its whole foreground process group. An ffmpeg in that group can die
before vfi has caught the signal, and its exit then reads as a failed encode that throws the
finished parts away. In a process group of its own it hears nothing; vfi catches the signal,
stops ffmpeg itself and keeps what is finished. A signal sent to ffmpeg alone still reads as the
user's stop, not as a broken file.
"""

from __future__ import annotations

import signal
import subprocess
from typing import Optional

from vfi.core.interrupts import Terminated


def ffmpeg_exe() -> str:
    import imageio_ffmpeg  # imported when first needed: training from frames decoded elsewhere runs without it

    return imageio_ffmpeg.get_ffmpeg_exe()


def start_ffmpeg(cmd: list[str], **kwargs) -> subprocess.Popen:
    """subprocess.Popen, in a process group of its own."""
    return subprocess.Popen(cmd, process_group=0, **kwargs)


def stop_ffmpeg(proc: Optional[subprocess.Popen]) -> None:
    """End an ffmpeg fed through its standard input that is still running, and reap it."""
    if proc is None:
        return
    if proc.poll() is None:
        try:
            proc.stdin.close()
        except OSError:
            pass
        proc.kill()
    proc.wait()


def run_ffmpeg(cmd: list[str], **kwargs) -> subprocess.CompletedProcess:
    """subprocess.run, in a process group of its own; a stop by signal raises the interruption."""
    proc = subprocess.run(cmd, process_group=0, **kwargs)
    raise_if_stopped(proc.returncode)
    return proc


def raise_if_stopped(returncode: int | None) -> None:
    """ffmpeg ended by SIGINT, SIGTERM or SIGHUP from outside: the user's stop (exit 130, 143, 129), not an error."""
    if returncode == -signal.SIGINT:
        raise KeyboardInterrupt
    if returncode in (-signal.SIGTERM, -signal.SIGHUP):
        raise Terminated(-returncode)


def file_argument(path) -> str:
    """A local path as ffmpeg must be given it: absolute, so that no name reads as a protocol
    ('pipe:1.mp4', 'http:clip.mp4') or an option ('-clip.mp4')."""
    import os

    return os.path.abspath(path)
