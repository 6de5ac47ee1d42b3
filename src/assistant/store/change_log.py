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
from typing import TYPE_CHECKING

from .records import ArticleRecord, Generation

if TYPE_CHECKING:
    from .heads_cache import HeadsCache
    from .protocol import Store

KEEP_REMOVALS = 1000  # generations a removed name is remembered; a reader further behind lists every head


def next_log(old: Generation | None, number: int) -> tuple[str, int]:
    """``(log_id, log_from)`` for the marker of generation ``number``, committed over ``old``."""
    if old is None or not old.log_id:  # a new store, or one whose log was not kept: it starts now
        return os.urandom(8).hex(), number
    return old.log_id, max(old.log_from, number - KEEP_REMOVALS + 1)


def can_follow(log_id: str, number: int, now: Generation) -> bool:
    """Whether the log of ``now`` holds every change made after generation ``number`` of log ``log_id``."""
    return bool(now.log_id) and log_id == now.log_id and number <= now.number and number + 1 >= now.log_from


def every_head(store: Store, copy: HeadsCache, now: Generation | None) -> list[ArticleRecord]:
    """Every head of the store at ``now``: this machine's older copy plus the changes the log holds
    since (a replica that restarts, a writer after a killed run), or else every head listed."""
    return heads_and_replaced(store, copy, now)[0]


def heads_and_replaced(store: Store, copy: HeadsCache, now: Generation | None) -> tuple[list[ArticleRecord], set[str]]:
    """:func:`every_head`, and the article ids that the copy's heads named and the changes since
    removed or replaced: after a killed run (which removes heads before its commit, and their
    articles' records only after it), the records no head names any more are among these."""
    older = copy.load_older() if now is not None else None
    if older is not None:
        log_id, number, heads = older
        changes = store.changes_since(log_id, number, now)
        if changes is not None:
            put, gone = changes
            by_source = {h.source: h for h in heads}
            replaced = {by_source[s].article_id for s in [*gone, *(h.source for h in put)] if s in by_source}
            for source in gone:  # before the heads put: a name removed, then indexed again
                by_source.pop(source, None)
            by_source.update((h.source, h) for h in put)
            return list(by_source.values()), replaced
    # No copy to compare with: at least the heads a killed run removed are named by the log.
    return store.heads(), store.removed_after(now.number) if now is not None else set()
