"""A stop by the user (Ctrl-C or SIGTERM) after which finished work was kept, and how to go on from it."""

from __future__ import annotations


class ResumableInterrupt(KeyboardInterrupt):
    """Interrupted with something kept: `hint` says what was kept and how to continue."""

    def __init__(self, hint: str):
        super().__init__(hint)
        self.hint = hint
