"""A stop by the user (Ctrl-C, SIGTERM, a closed terminal's SIGHUP), how it ends the command, and how
to go on from finished work."""

from __future__ import annotations

import signal

INTERRUPTED_EXIT = 128 + signal.SIGINT  # 130, the shell's code for Ctrl-C


class Terminated(KeyboardInterrupt):
    """SIGTERM or SIGHUP: the same clean stop as Ctrl-C, ending with the shell's code for that signal
    (143 for SIGTERM, 129 for SIGHUP)."""

    def __init__(self, signum: int = signal.SIGTERM):
        super().__init__()
        self.signum = int(signum)


def exit_code(stop: KeyboardInterrupt) -> int:
    """128 + the number of the signal the stop began as (Ctrl-C: 130)."""
    return 128 + getattr(stop, "signum", signal.SIGINT)


class ResumableInterrupt(KeyboardInterrupt):
    """Interrupted with something kept: `hint` says what was kept and how to continue; the signal the
    stop began as is remembered, so the exit code stays that signal's."""

    def __init__(self, hint: str, cause: KeyboardInterrupt | None = None):
        super().__init__(hint)
        self.hint = hint
        self.signum = getattr(cause, "signum", signal.SIGINT)
