"""`vfi models`: the interpolators there are to choose from, the ones worth picking first."""

from __future__ import annotations

from rich.table import Table

from vfi.cli.app import Command, app, flag, out

# What each role means to someone choosing a model.
PICK_IT_FOR = {
    "default": "default: the best picture",
    "fast": "speed: about twice the default's",
    "learned": "learned model",
    "baseline": "classical baseline",
    "ablation": "ablation",
}


def _quality(entry) -> str:
    return f"{entry.measured.x2:.2f} / {entry.measured.x4:.2f}" if entry.measured else ""


def _speed(entry) -> str:
    if not entry.measured or entry.measured.ms_720p is None:
        return ""
    ms = entry.measured.ms_720p
    return f"{ms:.0f} ms" if ms >= 10 else f"{ms:.1f} ms"


@app.command(cls=Command)
def models(
    all: bool = flag("--all", "-a", help="Also list the ablations (parts of a model measured alone); `benchmark` takes them all."),
):
    """List the interpolators, the ones to pick first: the default, the fastest, the other models, the baselines.

    Quality: mean PSNR (dB) on nine held-out real clips with every 2nd / 4th frame dropped and
    interpolated back. Speed: model time per 1280x720 frame on 2 CPU cores (docs/benchmarks.md).
    """
    from vfi.registry import available

    table = Table("name", "pick it for", "held-out dB x2 / x4", "720p frame", "what it is")
    for entry in available(ablations=all):
        table.add_row(entry.name, PICK_IT_FOR[entry.role], _quality(entry), _speed(entry), entry.description)
    out.print(table)
    if not all:
        out.print("Ablations are hidden; `vfi models --all` lists them.", highlight=False)
