"""A stop by the user (Ctrl-C or SIGTERM), how it ends the command, and how to go on from finished work."""

from __future__ import annotations

import signal

INTERRUPTED_EXIT = 128 + signal.SIGINT  # 130, the shell's code for Ctrl-C
TERMINATED_EXIT = 128 + signal.SIGTERM  # 143, for `kill`


class Terminated(KeyboardInterrupt):
    """SIGTERM: the same clean stop as Ctrl-C, ending with exit code 143."""


def exit_code(stop: KeyboardInterrupt) -> int:
    """The exit code of a stop: 143 when it began as SIGTERM, else 130."""
    return TERMINATED_EXIT if isinstance(stop, Terminated) or getattr(stop, "terminated", False) else INTERRUPTED_EXIT


class ResumableInterrupt(KeyboardInterrupt):
    """Interrupted with something kept: `hint` says what was kept and how to continue; `terminated`
    remembers that the stop began as SIGTERM, so the exit code stays 143."""

    def __init__(self, hint: str, cause: KeyboardInterrupt | None = None):
        super().__init__(hint)
        self.hint = hint
        self.terminated = cause is not None and exit_code(cause) == TERMINATED_EXIT
