"""The writer keeps SQLite's planner statistics for embedded Chroma (src/assistant/store/statistics.py)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from assistant.api import Assistant
from assistant.config import Config
from assistant.store import statistics
from assistant.store.statistics import MIN_CHUNKS, RECORD, refresh_statistics, statistics_due


def analysed_tables(database: Path) -> set[str]:
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as db:
        if not db.execute("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'").fetchone():
            return set()
        return {row[0] for row in db.execute("SELECT tbl FROM sqlite_stat1")}


def test_statistics_are_due_when_missing_or_when_the_chunks_doubled_or_halved(tmp_path: Path) -> None:
    assert not statistics_due(tmp_path, MIN_CHUNKS - 1)  # small: the walk costs a millisecond
    assert statistics_due(tmp_path, MIN_CHUNKS)  # never analysed
    (tmp_path / RECORD).write_text(json.dumps({"chunks": 40_000}))
    assert not statistics_due(tmp_path, 40_001) and not statistics_due(tmp_path, 79_999) and not statistics_due(tmp_path, 20_001)
    assert statistics_due(tmp_path, 80_000) and statistics_due(tmp_path, 20_000)
    (tmp_path / RECORD).write_text("{not json")
    assert statistics_due(tmp_path, 40_000)  # an unreadable record: analysed again


def test_an_index_run_analyses_the_database_once_it_is_big_enough(seed_copy: Config, monkeypatch) -> None:
    database = seed_copy.index_dir / "chroma" / "chroma.sqlite3"
    bot = Assistant(seed_copy)
    bot.index()
    assert analysed_tables(database) == set()  # 24 chunks: under MIN_CHUNKS, nothing done
    monkeypatch.setattr(statistics, "MIN_CHUNKS", 1)  # as if the seeds were a big archive
    (seed_copy.sources_dir / "new.txt").write_text("Titre\n\nUn article de plus sur les accords publics.\n", encoding="utf-8")
    report = bot.index()
    assert "embeddings" in analysed_tables(database) and "embedding_metadata" in analysed_tables(database)
    record = json.loads((seed_copy.index_dir / "cache" / RECORD).read_text())
    assert record == {"chunks": report.chunks_total}
    assert not refresh_statistics(database, seed_copy.index_dir / "cache", report.chunks_total)  # not due again
    assert bot.ask("Combien paieront les agences fédérales pour ChatGPT Enterprise ?").citations


def test_a_database_held_by_another_process_is_left_for_the_next_run(seed_copy: Config, monkeypatch) -> None:
    monkeypatch.setattr(statistics, "TIMEOUT_S", 30.0)
    database = seed_copy.index_dir / "chroma" / "chroma.sqlite3"
    cache = seed_copy.index_dir / "cache"
    holder = sqlite3.connect(database, isolation_level=None)
    try:
        holder.execute("BEGIN EXCLUSIVE")  # a writer in the middle of a transaction
        assert not refresh_statistics(database, cache, MIN_CHUNKS)
        assert not (cache / RECORD).exists()
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert refresh_statistics(database, cache, MIN_CHUNKS)  # the next run does it
    assert "embeddings" in analysed_tables(database)


def test_nothing_is_analysed_without_a_database(tmp_path: Path) -> None:
    assert not refresh_statistics(tmp_path / "chroma.sqlite3", tmp_path / "cache", 10 * MIN_CHUNKS)
    assert not (tmp_path / "cache").exists()


@pytest.mark.parametrize("chunks", [MIN_CHUNKS, 10 * MIN_CHUNKS])
def test_the_record_follows_the_count_analysed(tmp_path: Path, chunks: int) -> None:
    database = tmp_path / "chroma.sqlite3"
    with sqlite3.connect(database) as db:  # Chroma's two tables, as far as ANALYZE is concerned
        db.execute("CREATE TABLE embeddings (id INTEGER PRIMARY KEY, segment_id TEXT, embedding_id TEXT, UNIQUE (segment_id, embedding_id))")
        db.execute("CREATE TABLE embedding_metadata (id INTEGER, key TEXT, string_value TEXT, PRIMARY KEY (id, key))")
        db.execute("CREATE TABLE embedding_fulltext_search_data (id INTEGER PRIMARY KEY, block BLOB)")
        db.executemany("INSERT INTO embeddings VALUES (?, 's', ?)", [(i, f"c{i}") for i in range(500)])
        db.executemany("INSERT INTO embedding_metadata VALUES (?, 'article_id', ?)", [(i, f"a{i // 5}") for i in range(500)])
    assert refresh_statistics(database, tmp_path / "cache", chunks)
    assert json.loads((tmp_path / "cache" / RECORD).read_text()) == {"chunks": chunks}
    assert analysed_tables(database) == {"embeddings", "embedding_metadata"}  # not the full-text tables
