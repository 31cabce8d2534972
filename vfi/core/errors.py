"""The one exception vfi's users meet: a problem worded for them. The command line prints it as one
line and exits 1; the Python API raises it."""

from __future__ import annotations


class VfiError(Exception):
    """An input, option, model or output vfi cannot work with, said in a sentence a user can act on."""

    exit_code = 1  # what the command exits with
    quiet = False  # the command says nothing (the user already knows: they closed the reader)
