"""The article list a person browses: one page of the files the index knows, filtered by words.

An archive of 100,000 articles cannot be sent to a page or a client whole (one `stat` per file,
tens of megabytes of HTML), so the list is always a page: at most :data:`MAX_PAGE` entries,
sorted by file name, after the filter. Only the entries of the page are looked up on disk.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from .errors import QuestionError
from .store import ArticleRecord

MAX_PAGE = 500  # entries in one page of the list (the page, `GET /articles`)
MAX_FILTER_CHARS = 200


@dataclass(frozen=True)
class CatalogEntry:
    """One file the index knows, duplicates included (for the page's article list)."""

    source: str  # file name relative to the sources folder
    title: str
    date: str | None
    lang: str
    chunks: int
    size_bytes: int  # of the file in sources/ (0 when it is gone)
    duplicate_of: str | None  # the indexed file with the same text, for a duplicate


@dataclass(frozen=True)
class CatalogPage:
    """``entries``: the page asked for; ``matched``: the files the filter words match (all when
    there are none); ``total``: every file the index knows."""

    entries: list[CatalogEntry]
    matched: int
    total: int
    offset: int = 0

    @property
    def complete(self) -> bool:
        """Whether the page holds every match (no other page to ask for)."""
        return self.offset == 0 and len(self.entries) == self.matched


def filter_words(text: str | None) -> list[str]:
    """The filter box's words, lower-cased (every one must appear: title, file name, date or language)."""
    text = (text or "").strip()
    if len(text) > MAX_FILTER_CHARS:
        raise QuestionError(f"the article filter is {len(text):,} characters long; use at most {MAX_FILTER_CHARS}")
    return text.lower().split()


def check_page(offset: int, limit: int) -> None:
    if offset < 0:
        raise QuestionError(f"offset {offset} is negative; use 0 or more")
    if not 1 <= limit <= MAX_PAGE:
        raise QuestionError(f"limit {limit} is out of range; use 1 to {MAX_PAGE}")


def catalog_page(
    heads: Iterable[ArticleRecord], sources_dir: Path, words: list[str], offset: int = 0, limit: int = MAX_PAGE,
) -> CatalogPage:
    """One pass over ``heads``, holding only the ``offset + limit`` first matches by file name."""
    check_page(offset, limit)
    total = matched = 0

    def matching() -> Iterator[ArticleRecord]:
        nonlocal total, matched
        for head in heads:
            total += 1
            if not words or _matches(head, words):
                matched += 1
                yield head

    first = heapq.nsmallest(offset + limit, matching(), key=lambda h: h.source)
    shown = [entry(h, sources_dir) for h in first[offset:]]
    return CatalogPage(shown, matched, total, offset)


def entry(head: ArticleRecord, sources_dir: Path) -> CatalogEntry:
    try:
        size = (sources_dir / head.source).stat().st_size
    except OSError:
        size = 0
    return CatalogEntry(head.source, head.title, head.date, head.lang, head.chunks if head.live() else 0, size,
                        head.duplicate_of)


def _matches(head: ArticleRecord, words: list[str]) -> bool:
    # What the page's filter reads in a row: title, date, language and file name.
    text = f"{head.title}\n{head.date or ''}\n{head.lang}\n{head.source}".lower()
    return all(w in text for w in words)
