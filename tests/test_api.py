"""The Python API: every example in docs/api.md runs as written, and the API keeps its promises."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np
import pytest

import vfi

ROOT = Path(__file__).resolve().parent.parent


def test_the_public_names_are_the_documented_ones():
    assert sorted(vfi.__all__) == ["Model", "VfiError", "__version__", "benchmark", "load", "upsample"]
    assert all(callable(getattr(vfi, name)) for name in vfi.__all__ if name != "__version__")
    assert issubclass(vfi.VfiError, Exception) and vfi.Model is vfi.load("blend").__class__
    with pytest.raises(AttributeError):
        vfi.no_such_name


def test_every_example_in_docs_api_runs(tmp_path, monkeypatch, capsys):
    (tmp_path / "examples").mkdir()
    shutil.copy(ROOT / "examples" / "sample.mp4", tmp_path / "examples" / "sample.mp4")
    monkeypatch.chdir(tmp_path)
    blocks = re.findall(r"```python\n(.*?)```", (ROOT / "docs" / "api.md").read_text(), re.S)
    assert len(blocks) >= 3
    namespace: dict = {}
    for block in blocks:  # in order, as a reader would run them, sharing their names
        exec(compile(block, "docs/api.md", "exec"), namespace)
    printed = capsys.readouterr().out
    assert "puts the square's left edge at 14" in printed
    assert "already exists" in printed


def test_frames_of_two_depths_and_alpha_are_taken():
    model = vfi.load("blend")
    a = np.zeros((8, 8, 4), np.uint8)
    b = np.full((8, 8, 4), 65535, np.uint16)
    out = model.interpolate(a, b, [0.0, 0.5, 1.0])
    assert out.shape == (3, 8, 8, 4) and out.dtype == np.uint16
    assert out[0].max() == 0 and out[2].min() == 65535


@pytest.mark.parametrize("call, words", [
    (lambda: vfi.load("no-such-model"), "unknown model"),
    (lambda: vfi.load("blend").interpolate(np.zeros((8, 8, 3), np.uint8), np.zeros((8, 9, 3), np.uint8), [0.5]),
     "one size"),
    (lambda: vfi.load("blend").interpolate(np.zeros((8, 8, 3), np.float32), np.zeros((8, 8, 3), np.float32), [0.5]),
     "uint8 or uint16"),
    (lambda: vfi.upsample("no-such-file.mp4", "out.mp4", factor=2), "no such file"),
    (lambda: vfi.upsample(ROOT / "examples" / "sample.mp4", "out.mp4", factor=2, fps=60), "either"),
    (lambda: vfi.benchmark(methods=["blend"], factors=[1], suite="ci"), "at least 2"),
])
def test_what_the_command_prints_as_an_error_the_api_raises_as_vfi_error(tmp_path, monkeypatch, call, words):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(vfi.VfiError, match=words):
        call()
    assert not (tmp_path / "out.mp4").exists()
