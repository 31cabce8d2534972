"""Small clips generated on the spot: tests never need files from outside the repository."""

from __future__ import annotations

import subprocess
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from vfi.cli import app
from vfi.training.synthetic import make_scene
from vfi.io.encode import EncodeSettings, write_video
from vfi.io.ffmpeg import ffmpeg_exe

LOSSLESS = EncodeSettings(codec="libx264", lossless=True, preset="ultrafast")
_runner = CliRunner()


def vfi(*args):
    """Run the real command line in-process; the result has exit_code and output (stdout and stderr)."""
    return _runner.invoke(app, [str(a) for a in args])


def moving_frames(n: int = 10, h: int = 64, w: int = 96, seed: int = 0, scene: str = "translate") -> list[np.ndarray]:
    return make_scene(scene, h, w, seed).clip(n)


def make_clip(path: Path, frames, fps=Fraction(24), audio: bool = False, settings: EncodeSettings = LOSSLESS) -> Path:
    """Write frames losslessly (so tests can compare pixels), optionally with a sine-tone track."""
    path = Path(path)
    if not audio:
        return write_video(path, frames, fps, settings)
    silent = path.with_name("silent_" + path.name)
    write_video(silent, frames, fps, settings)
    seconds = len(frames) / float(fps)
    subprocess.run([ffmpeg_exe(), "-v", "error", "-y", "-i", str(silent), "-f", "lavfi", "-i",
                    f"sine=frequency=440:duration={seconds:.4f}", "-map", "0:v", "-map", "1:a",
                    "-c:v", "copy", "-c:a", "aac", str(path)], check=True)
    silent.unlink()
    return path


def calls_of(monkeypatch, cls, fail_on: int = 0, error: BaseException = KeyboardInterrupt()) -> list:
    """Count the calls of `cls.interpolate` (in the list returned); the `fail_on`-th one raises `error`
    instead (0: none does). The interpolator's own method runs the others."""
    calls = []
    original = getattr(cls.interpolate, "original", cls.interpolate)

    def counted(self, *args):
        calls.append(1)
        if len(calls) == fail_on:
            raise error
        return original(self, *args)

    counted.original = original
    monkeypatch.setattr(cls, "interpolate", counted)
    return calls


def audio_seconds(path: Path) -> float:
    """Length of the first audio stream, by decoding it to 8 kHz mono samples and counting them."""
    raw = subprocess.run([ffmpeg_exe(), "-v", "error", "-i", str(path), "-map", "0:a:0", "-f", "s16le",
                          "-ac", "1", "-ar", "8000", "-"], capture_output=True, check=True).stdout
    return len(raw) / 2 / 8000


@pytest.fixture
def clip(tmp_path) -> Path:
    """10 frames of a translating texture, 96x64 at 24 fps, lossless."""
    return make_clip(tmp_path / "in.mp4", moving_frames())
