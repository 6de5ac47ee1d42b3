"""The article list is a page of the archive (``assistant.catalog``), whatever the archive's size."""

from __future__ import annotations

import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.catalog import MAX_PAGE, catalog_page, filter_words
from assistant.errors import QuestionError
from assistant.store import ArticleRecord

ARCHIVE = 1_000_000  # ten times the 100,000 articles the index is built for


def heads(n: int) -> Iterator[ArticleRecord]:
    # made one at a time: the list holds a page, never the archive
    for i in range(n):
        yield ArticleRecord(f"{(i * 7919) % n:07d}.txt", f"a{i}", f"h{i}", f"Article {i} sur le port" if i % 1000 == 0 else f"Article {i}",
                            "2025-08-07" if i % 2 else None, "fr", 3000, 1, 4, 1)


def test_a_million_articles_give_one_sorted_page(tmp_path: Path) -> None:
    (tmp_path / "0000000.txt").write_text("x" * 1234, encoding="utf-8")
    page = catalog_page(heads(ARCHIVE), tmp_path, [])
    assert page.total == page.matched == ARCHIVE and not page.complete
    assert [e.source for e in page.entries] == [f"{i:07d}.txt" for i in range(MAX_PAGE)]
    assert page.entries[0].size_bytes == 1234 and page.entries[1].size_bytes == 0  # looked up on disk, gone: 0


def test_the_page_holds_its_entries_not_the_archive(tmp_path: Path) -> None:
    tracemalloc.start()  # (slows allocation down: 100,000 records here, the page's bound is the same)
    page = catalog_page(heads(100_000), tmp_path, [], limit=50)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert len(page.entries) == 50 and page.total == 100_000
    assert peak < 2_000_000  # 100,000 records held at once would take over 30 MB


def test_the_filter_matches_every_word_in_any_field_and_pages_go_on(tmp_path: Path) -> None:
    page = catalog_page(heads(100_000), tmp_path, filter_words("  PORT  sur "), limit=30)
    assert page.matched == 100 and page.total == 100_000
    assert len(page.entries) == 30 and all("port" in e.title for e in page.entries)
    rest = catalog_page(heads(100_000), tmp_path, filter_words("port sur"), offset=30, limit=MAX_PAGE)
    assert len(rest.entries) == 100 - 30
    assert page.entries[-1].source < rest.entries[0].source
    dated = catalog_page(heads(10_000), tmp_path, filter_words("2025-08 fr"))
    assert dated.matched == 5_000


@pytest.mark.parametrize(("offset", "limit", "message"), [(-1, 10, "negative"), (0, 0, "out of range"),
                                                          (0, MAX_PAGE + 1, "out of range")])
def test_a_page_outside_the_bounds_is_refused_with_the_range(tmp_path: Path, offset: int, limit: int, message: str) -> None:
    with pytest.raises(QuestionError, match=message):
        catalog_page(heads(10), tmp_path, [], offset, limit)


def test_a_filter_over_its_length_is_refused() -> None:
    assert filter_words(None) == [] and filter_words(" Le  PORT ") == ["le", "port"]
    with pytest.raises(QuestionError, match="at most 200"):
        filter_words("x" * 2_000)
