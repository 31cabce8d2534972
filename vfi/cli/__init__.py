"""The `vfi` command line: one module per command, all on the one Typer app."""

from __future__ import annotations

import sys
from typing import List, Optional

from vfi.cli import benchmark, interpolate, models, train, upsample  # noqa: F401  (each registers its command)
from vfi.cli.app import app


def main(argv: Optional[List[str]] = None) -> None:
    app(args=argv, prog_name="vfi")


if __name__ == "__main__":
    main(sys.argv[1:])
