"""The `vfi` application: its command classes, one-line errors, progress bars, and the entry point."""

from __future__ import annotations

from contextlib import contextmanager

import typer
import typer.core
from rich.console import Console

from vfi import __version__
from vfi.core.errors import VfiError


class _Flagless:
    """--help is an on/off option too: shown without a value placeholder, like the others."""

    def get_help_option(self, ctx):
        option = super().get_help_option(ctx)
        if option is not None:
            option.metavar = ""
        return option


class Command(_Flagless, typer.core.TyperCommand):
    # options whose value may be left out, and what they then mean: `--ray` alone is `--ray local`
    optional_values = {"--ray": "local"}

    def parse_args(self, ctx, args):
        args = list(args)
        for i in reversed(range(len(args))):
            if args[i] in self.optional_values and (i + 1 == len(args) or args[i + 1].startswith("-")):
                args.insert(i + 1, self.optional_values[args[i]])
        return super().parse_args(ctx, args)


class Group(_Flagless, typer.core.TyperGroup):
    pass


app = typer.Typer(cls=Group, add_completion=False, no_args_is_help=True,
                  help="Video frame interpolation: higher frame rates and slow motion from ordinary videos.")
err = Console(stderr=True, soft_wrap=True)
out = Console(soft_wrap=True)


class CliError(VfiError):
    """An error already worded for the user."""


def flag(*names: str, help: str, **extra) -> bool:
    """An on/off option; shown in --help without a value placeholder, since it takes none."""
    return typer.Option(False, *names, help=help, metavar="", **extra)


@contextmanager
def user_errors():
    """Turn expected failures into one line on stderr and a non-zero exit, never a traceback."""
    from vfi.core.interrupts import INTERRUPTED_EXIT, exit_code

    try:
        yield
    except KeyboardInterrupt as exc:
        hint = getattr(exc, "hint", None) or "stopped; no partial output was left behind"
        code = exit_code(exc)
        err.print(f"[red]{'interrupted' if code == INTERRUPTED_EXIT else 'terminated'}[/red]: {hint}",
                  highlight=False)
        raise typer.Exit(code)
    except (VfiError, ValueError, OSError) as exc:
        if not getattr(exc, "quiet", False):
            err.print(f"[red]error[/red]: {exc}", highlight=False)
        raise typer.Exit(getattr(exc, "exit_code", 1))


def stop_cleanly_on_sigterm() -> None:
    """`kill` (SIGTERM) and a closed terminal (SIGHUP) get the same clean stop as Ctrl-C: temporaries
    removed, finished parts kept for --resume."""
    import signal
    import threading

    from vfi.core.interrupts import Terminated

    def stop(signum, frame):
        raise Terminated(signum)

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGHUP, stop)


def version_callback(value: bool):
    if value:
        out.print(f"vfi {__version__}")
        raise typer.Exit()


@app.callback()
def root(version: bool = flag("--version", callback=version_callback, is_eager=True,
                                      help="Print the version and exit.")):
    """Video frame interpolation: higher frame rates and slow motion from ordinary videos."""
