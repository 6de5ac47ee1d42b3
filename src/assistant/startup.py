"""Ctrl-C while the command line is still loading: one line and exit 130, not a traceback.

The ``assistant`` command spends a second or more importing its libraries (numpy, Chroma,
Gradio for ``serve``) before click's own handling starts; a Ctrl-C in that time would
otherwise end in a KeyboardInterrupt traceback. Nothing has been read or written yet, so
there is nothing to undo. This module imports only the standard library: it must be
loaded before the slow imports it guards.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

EXIT_INTERRUPTED = 130  # 128 + SIGINT, as the commands' own Ctrl-C handling exits
INTERRUPTED_LOADING = "Interrupted while starting; nothing was read or changed."


@contextmanager
def interrupt_exits_quietly() -> Iterator[None]:
    """Around the command line's imports: Ctrl-C exits 130 with one line on stderr."""
    try:
        yield
    except KeyboardInterrupt:
        sys.stderr.write(INTERRUPTED_LOADING + "\n")
        sys.stderr.flush()
        raise SystemExit(EXIT_INTERRUPTED) from None
