"""Objects made in bulk to live as long as the process (the modules of chromadb's import, every head
of the archive) are kept out of the young generations of Python's cyclic garbage collector.

Collections of young objects walk every object allocated since the last one; while a large set of
survivors is being built, that is most of the set, again and again, and once more for the middle
generation. Pausing the collector meanwhile and then moving everything alive to the oldest
generation (``freeze`` then ``unfreeze``: two list moves, no walk) is where those collections would
have put them anyway. Reference counting frees as usual throughout; cycles that became garbage
meanwhile wait for the next full collection.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    was_enabled = gc.isenabled()  # another thread's pause may be on: leave it to turn the collector back on
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        gc.unfreeze()
        if was_enabled:
            gc.enable()
