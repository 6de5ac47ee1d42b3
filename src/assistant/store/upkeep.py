"""Upkeep of an existing index at the start of a run: sentence rows of an older index are
packed, and articles whose records are incomplete (a damaged or half-restored store) are found."""

from __future__ import annotations

import threading
from concurrent.futures import Future
from operator import attrgetter

from ..models import IndexReport
from .chroma import ChromaStore
from .heads_cache import HeadsCache
from .records import ArticleRecord
from .sentence_packs import pack_count


def repack_sentences(store: ChromaStore, heads_cache: HeadsCache, heads: dict[str, ArticleRecord], generation: int) -> bool:
    """Sentence rows of an older index become packs; ``heads`` are updated in place (and in the store,
    tagged with ``generation``, the run's: a repacking run always commits).

    Each batch: packs first, then the heads that count them, then the rows, so a
    killed run leaves every article readable. Returns whether anything was repacked.
    """
    sources_of: dict[str, list[str]] = {}  # built only when there is something to repack (rare)
    repacked = False
    while batch := store.legacy_sentence_articles():
        if not repacked:
            heads_cache.untrust()
            repacked = True
            for source, head in heads.items():  # duplicates share an article
                sources_of.setdefault(head.article_id, []).append(source)
        found = store.legacy_sentences(batch)
        store.put_sentences_of(list(found.items()))
        updated = []
        for aid, sentences in found.items():
            dimension = sentences.vectors.shape[1] if sentences.vectors.ndim == 2 else 0
            for source in sources_of.get(aid, []):
                heads[source] = heads[source].with_(sentence_records=pack_count(len(sentences.spans), dimension))
                updated.append(heads[source])
        store.put_heads(updated, generation)
        store.delete_legacy_sentences(batch)
    return repacked


COUNTED = ("chunks", "texts", "sentences")  # what the heads say each article has; not the heads themselves


def counts_in_background(store: ChromaStore) -> Future[dict[str, int]]:
    """The store's record counts, taken in a thread while the run reads the heads copy and stats
    the folder. The first count of the chunks makes embedded Chroma load their vector segment
    (1.1-1.5 s at 100,000 articles), in Rust code that lets go of the GIL; the heads, the folder
    listing and the stat calls (1.4 s there) are Python work that does not ask Chroma."""
    future: Future[dict[str, int]] = Future()

    def count() -> None:
        try:
            if store.client.url is None:  # embedded: the segments load in this process
                store.load_vectors()  # in ``get``, which lets go of the GIL (``count`` holds it)
                store.load_answer_records()
            future.set_result(store.counts(COUNTED))
        except BaseException as exc:  # noqa: BLE001 - raised again where the counts are read
            future.set_exception(exc)

    threading.Thread(target=count, name="count-records", daemon=False).start()  # not a daemon: see Retriever's loader
    return future


def damaged_articles(store: ChromaStore, heads: dict[str, ArticleRecord], force: bool, report: IndexReport,
                     counted: Future[dict[str, int]] | None = None) -> set[str]:
    """Articles whose content records are incomplete (a damaged or half-restored store).

    Counting is cheap; the full per-article scan only runs when the counts fall short
    (or ``force``: `assistant index` after `status` found damage). Sets ``report.repaired``.
    ``counted``: the counts, from :func:`counts_in_background`, when they were started earlier.
    """
    live = [h for h in heads.values() if h.live()] if any(map(attrgetter("duplicate_of"), heads.values())) else heads.values()
    counts = counted.result() if counted is not None else store.counts(COUNTED)
    short = (  # ``map`` with an attribute getter: a fifth of a generator's cost over 100,000 heads
        counts["chunks"] < sum(map(attrgetter("chunks"), live))
        or counts["texts"] < sum(map(attrgetter("text_parts"), live))
        or counts["sentences"] < sum(map(attrgetter("sentence_records"), live))
    )
    if not (short or force):
        return set()
    have = {kind: store.article_ids_with(kind) for kind in ("chunks", "texts", "sentences")}
    bad = {
        h.article_id for h in live
        if have["chunks"].get(h.article_id, 0) < h.chunks or have["texts"].get(h.article_id, 0) < h.text_parts
        or have["sentences"].get(h.article_id, 0) < h.sentence_records
    }
    report.repaired = sorted(h.source for h in live if h.article_id in bad)
    return bad
