"""The ``assistant`` command line: ``main`` is the entry point (see ``main.py``)."""

from ..startup import interrupt_exits_quietly

with interrupt_exits_quietly():  # Ctrl-C while the libraries load: one line and exit 130
    from .main import main

__all__ = ["main"]
