"""The ``assistant`` command line: ``main`` is the entry point (see ``main.py``)."""

from .main import main

__all__ = ["main"]
