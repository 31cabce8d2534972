"""Every `vfi ...` command shown in the README, docs/ and the model cards parses through the real
CLI, so a renamed or removed option cannot leave the documentation wrong."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import typer.main

from vfi.cli import app

ROOT = Path(__file__).resolve().parent.parent


def documented_commands() -> list[str]:
    commands = []
    docs = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), *sorted((ROOT / "weights").glob("*.md"))]
    for doc in docs:
        for block in re.findall(r"```bash\n(.*?)```", doc.read_text(), re.S):
            for line in block.replace("\\\n", " ").splitlines():
                for part in re.split(r"&&|\|", line):  # each command of a list or a pipeline
                    part = part.split(" #")[0].strip()
                    part = re.sub(r"^(\w+=\S+ )+", "", part)  # OMP_NUM_THREADS=1 vfi ...
                    part = re.sub(r"\$\{?\w+\}?", "x", part)  # $C/clip.avi, $CLIPS: any path parses
                    if part.startswith("vfi "):
                        commands.append(part)
    return commands


def test_the_docs_show_commands():
    assert len(documented_commands()) >= 10


@pytest.mark.parametrize("command", documented_commands())
def test_a_documented_command_parses(command):
    group = typer.main.get_command(app)
    name, *args = shlex.split(command)[1:]
    with group.make_context("vfi", [name]) as ctx:
        sub = group.get_command(ctx, name)
        assert sub is not None, f"no command {name}"
        sub.make_context(name, args, parent=ctx)  # raises on an unknown option or a bad value
