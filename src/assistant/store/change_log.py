"""What changed between two generations, read from the store itself (a replica's catch-up).

A reader on another machine has no copy of the indexing machine's heads, and listing
every head from Chroma costs 66 s at 100,000 articles. So the store logs its changes:

- every head carries ``changed``, the generation of the run that wrote it;
- a removed name leaves a marker record in ``NAME-meta`` with ``gone``, the generation
  that removed it (kept for ``KEEP_REMOVALS`` generations);
- the generation marker says from which generation on the log is complete
  (``log_from``) and which log it is (``log_id``: a new one after a rebuild, or when
  a run of an older version wrote the marker without one).

A reader at generation ``v`` then asks only for the heads with ``changed > v`` and the
names with ``gone > v``: two filtered reads, whatever the archive's size.
"""

from __future__ import annotations

import os

from .records import Generation

KEEP_REMOVALS = 1000  # generations a removed name is remembered; a reader further behind lists every head


def next_log(old: Generation | None, number: int) -> tuple[str, int]:
    """``(log_id, log_from)`` for the marker of generation ``number``, committed over ``old``."""
    if old is None or not old.log_id:  # a new store, or one whose log was not kept: it starts now
        return os.urandom(8).hex(), number
    return old.log_id, max(old.log_from, number - KEEP_REMOVALS + 1)


def can_follow(seen: Generation, now: Generation) -> bool:
    """Whether the log of ``now`` holds every change made after ``seen``."""
    return bool(now.log_id) and seen.log_id == now.log_id and seen.number <= now.number and seen.number + 1 >= now.log_from
