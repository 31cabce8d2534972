"""`vfi models`: the interpolators there are to choose from."""

from __future__ import annotations

from rich.table import Table

from vfi.cli.app import Command, app, out

@app.command(cls=Command)
def models():
    """List the interpolators: learned models and classical baselines."""
    from vfi.registry import available

    table = Table("name", "kind", "description")
    for entry in available():
        table.add_row(entry.name, "learned" if entry.learned else "classical", entry.description)
    out.print(table)
