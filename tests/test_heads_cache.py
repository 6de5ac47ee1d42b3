"""The indexing machine's copy of the article heads: trusted only for the generation it is tagged with."""

from __future__ import annotations

import shutil
import signal
import time
from pathlib import Path

import pytest

from assistant.api import Assistant
from assistant.config import Config
from assistant.store import ArticleRecord, FileStat, Generation
from assistant.store.heads_cache import HeadsCache
from assistant.store.records import StoreSettings
from conftest import cli_args, copy_sources

SETTINGS = StoreSettings("standin:8", 8, 300, 1, "c1")


def head(source: str, n: int = 1) -> ArticleRecord:
    return ArticleRecord(source, f"id-{source}", "h", "T", None, "fr", 10, 1, n, n, FileStat(1, 2, 3))


def test_the_copy_is_used_only_for_its_own_generation(tmp_path: Path) -> None:
    cache = HeadsCache(tmp_path, "archive")
    g1, g2 = Generation(1, SETTINGS, "2026-01-01T00:00:00+00:00"), Generation(2, SETTINGS, "2026-01-02T00:00:00+00:00")
    assert cache.load(g1) is None  # no copy yet
    cache.store(g1, [head("a.txt"), head("b.txt")], [], whole=True)
    assert sorted(h.source for h in cache.load(g1)) == ["a.txt", "b.txt"]
    assert cache.load(g2) is None and cache.load(Generation(1, SETTINGS, "another run")) is None
    cache.untrust()  # a run started writing heads
    assert cache.load(g1) is None
    cache.store(g2, [head("c.txt"), head("a.txt", n=5)], ["b.txt"], whole=False)  # the run's changes only
    assert {h.source: h.chunks for h in cache.load(g2)} == {"a.txt": 5, "c.txt": 1}


def test_an_untrusted_copy_still_says_which_generation_of_which_log_its_rows_are(tmp_path: Path) -> None:
    cache = HeadsCache(tmp_path, "archive")
    assert cache.load_older() is None  # no copy
    cache.store(Generation(1, SETTINGS, None), [head("a.txt")], [], whole=True)
    assert cache.load_older() is None  # a generation of no log: nothing to catch up from
    g2, g3 = Generation(2, SETTINGS, None, log_id="L", log_from=2), Generation(3, SETTINGS, None, log_id="L", log_from=2)
    cache.store(g2, [head("b.txt")], [], whole=False)
    cache.untrust()  # a run began, and was killed before its commit: the rows are still g2's
    log_id, number, heads = cache.load_older()
    assert (log_id, number, sorted(h.source for h in heads)) == ("L", 2, ["a.txt", "b.txt"])
    cache.store(g3, [], ["a.txt"], whole=False)
    log_id, number, heads = cache.load_older()
    assert (log_id, number, [h.source for h in heads]) == ("L", 3, ["b.txt"])


def test_the_live_chunks_are_kept_by_each_write_from_the_rows_it_changes(tmp_path: Path) -> None:
    import sqlite3

    def summed() -> int:  # what every row says, read the slow way
        with sqlite3.connect(cache.path) as db:
            return db.execute("SELECT coalesce(sum(chunks), 0) FROM head WHERE coalesce(duplicate_of, '') = ''").fetchone()[0]

    cache = HeadsCache(tmp_path, "archive")
    gens = [Generation(n, SETTINGS, f"2026-01-0{n}T00:00:00+00:00") for n in range(1, 6)]
    cache.store(gens[0], [head("a.txt", 3), head("b.txt", 4)], [], whole=True)
    assert cache.live_chunks(gens[0]) == 7 == summed()
    twin = head("b-copy.txt", 4).with_(article_id="id-b.txt", duplicate_of="b.txt")  # a duplicate counts nothing
    cache.store(gens[1], [head("c.txt", 2), head("a.txt", 5), twin], [], whole=False, base=gens[0])
    assert cache.live_chunks(gens[1]) == 11 == summed()
    cache.store(gens[2], [twin.with_(duplicate_of=None)], ["b.txt", "gone.txt"], whole=False, base=gens[1])  # the copy takes over
    assert cache.live_chunks(gens[2]) == 11 == summed()
    with sqlite3.connect(cache.path) as db:
        db.execute("DELETE FROM total")  # a copy written before the total was kept
    assert cache.live_chunks(gens[2]) == 11  # summed from the rows
    cache.store(gens[3], [head("d.txt", 1)], ["a.txt"], whole=False, base=gens[2])
    assert cache.live_chunks(gens[3]) == 7 == summed()  # no total at the base: summed, then kept again
    cache.store(gens[4], [head("e.txt", 6)], [], whole=False, base=gens[2])  # a base that is not the copy's total
    assert cache.live_chunks(gens[4]) == 13 == summed()
    cache.store(gens[4], [head("e.txt", 6).with_(stat=FileStat(9, 9, 9))], [], whole=False, base=gens[4])  # a touch
    g6, g7 = Generation(6, SETTINGS, None), Generation(7, SETTINGS, None)
    cache.store(g6, [head(f"m{i}.txt", 1) for i in range(1200)], ["c.txt"], whole=False, base=gens[4])  # in slices of names
    assert cache.live_chunks(g6) == 13 - 2 + 1200 == summed()
    cache.store(g7, [head(f"n{i}.txt", 1) for i in range(6000)], [], whole=False, base=g6)  # beyond: one sum of every row
    assert cache.live_chunks(g7) == 1211 + 6000 == summed()


def test_a_copy_from_before_the_total_reads_where_it_cannot_be_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import sqlite3

    import assistant.store.heads_cache as heads_cache

    cache = HeadsCache(tmp_path, "archive")
    gen = Generation(1, SETTINGS, None)
    cache.store(gen, [head("a.txt", 3), head("b.txt", 4)], [], whole=True)
    with sqlite3.connect(cache.path) as db:
        db.execute("DROP TABLE total")  # as an older release wrote it
    connect = sqlite3.connect
    monkeypatch.setattr(heads_cache.sqlite3, "connect", lambda path, **kw: connect(f"file:{path}?mode=ro", uri=True, **kw))
    assert len(cache.load(gen) or []) == 2 and cache.live_chunks(gen) == 7  # a read-only folder: still read
    monkeypatch.undo()
    cache.store(Generation(2, SETTINGS, None), [head("c.txt", 1)], [], whole=False, base=gen)  # writable: the table is made
    assert cache.live_chunks(Generation(2, SETTINGS, None)) == 8


def test_a_damaged_copy_is_not_used(tmp_path: Path) -> None:
    cache = HeadsCache(tmp_path, "archive")
    cache.path.parent.mkdir(parents=True)
    cache.path.write_bytes(b"not a database" * 50)
    assert cache.load(Generation(1, SETTINGS, None)) is None
    cache.store(Generation(1, SETTINGS, None), [head("a.txt")], [], whole=True)  # nor written: no error either


def test_runs_on_the_indexing_machine_read_no_heads_from_the_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = Config(sources_dir=copy_sources(tmp_path / "sources"), index_dir=tmp_path / "index", embedding_model="standin:64")
    Assistant(config).index()
    from assistant.store.chroma import ChromaStore

    def listing_refused(self: ChromaStore) -> list[ArticleRecord]:
        raise AssertionError("heads listed from the store")

    monkeypatch.setattr(ChromaStore, "heads", listing_refused)
    bot = Assistant(config)
    assert bot.index().unchanged  # from the copy
    (config.sources_dir / "nouveau.txt").write_text("Un article neuf\n\nLa commune de Brest a ouvert un port.\n", encoding="utf-8")
    report = bot.index()
    assert report.added == ["nouveau.txt"]
    (config.sources_dir / "nouveau.txt").unlink()
    assert bot.index().removed == ["nouveau.txt"]
    assert bot.search("le port de Brest")  # the reader took its heads from the copy too (listing refused)
    monkeypatch.undo()
    fresh = Assistant(config.with_(index_dir=_copy_without_cache(config.index_dir, tmp_path / "other")))
    assert sorted(a.source for a in fresh.articles()) == sorted(a.source for a in bot.articles())


def test_a_killed_run_leaves_the_copy_untrusted(tmp_path: Path, popen_assistant) -> None:  # noqa: ANN001
    config = Config(sources_dir=copy_sources(tmp_path / "sources"), index_dir=tmp_path / "index", embedding_model="standin:64")
    bot = Assistant(config)
    bot.index()
    for n in range(40):
        (config.sources_dir / f"k{n}.txt").write_text(f"Article {n}\n\n" + "Une phrase sur Brest. " * 400, encoding="utf-8")
    proc = popen_assistant(*cli_args(config, "index"), ASSISTANT_EMBEDDING_MODEL="standin:64")
    cache = HeadsCache(config.index_dir, config.collection)
    generation = bot.store.store.generation()
    deadline = time.monotonic() + 120
    while cache.load(generation) is not None and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)  # until the run marks the copy untrusted (it is about to write heads)
    assert proc.poll() is None, "the run ended before it wrote a head; make the articles longer"
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    assert bot.store.store.generation() == generation  # killed before its commit
    assert cache.load(generation) is None  # so the next run lists the heads from the store
    report = Assistant(config).index()
    assert {f"k{n}.txt" for n in range(40)} <= set(report.added) | set(report.unchanged)
    # Even when the killed run had committed every article: a new marker, so every reader reloads.
    assert bot.store.store.generation().number > generation.number
    assert sorted(h.source for h in cache.load(bot.store.store.generation())) == sorted(
        p.name for p in config.sources_dir.iterdir())


def _copy_without_cache(index: Path, target: Path) -> Path:
    shutil.copytree(index, target, ignore=shutil.ignore_patterns(".lock", "cache"))
    return target


def test_the_copy_says_what_changed_since_a_generation(tmp_path: Path) -> None:
    cache = HeadsCache(tmp_path, "archive")
    g1, g2, g3 = (Generation(n, SETTINGS, f"2026-01-0{n}T00:00:00+00:00") for n in (1, 2, 3))
    cache.store(g1, [head("a.txt"), head("b.txt"), head("c.txt")], [], whole=True)
    cache.store(g2, [head("a.txt", n=7), head("d.txt")], ["b.txt"], whole=False)
    put, gone = cache.changes_since(g2, 1)
    assert sorted((h.source, h.chunks) for h in put) == [("a.txt", 7), ("d.txt", 1)] and gone == ["b.txt"]
    assert cache.changes_since(g2, 2) == ([], [])
    assert cache.changes_since(g2, 0) is None  # before the copy was written whole: read everything
    assert cache.changes_since(g1, 1) is None  # not the copy's generation
    cache.store(g3, [head("b.txt")], [], whole=False)  # a name comes back
    put, gone = cache.changes_since(g3, 1)
    assert sorted(h.source for h in put) == ["a.txt", "b.txt", "d.txt"] and gone == []
    cache.untrust()
    assert cache.changes_since(g3, 2) is None


def test_a_reader_applies_only_the_changes_of_each_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = Config(sources_dir=copy_sources(tmp_path / "sources"), index_dir=tmp_path / "index", embedding_model="standin:64")
    bot = Assistant(config)
    bot.index()
    first = sorted(a.source for a in bot.articles())
    assert bot.search("le port de Brest", 3)  # the reader's first view: every head

    def whole_load_refused(*_: object) -> None:
        raise AssertionError("every head read again")

    monkeypatch.setattr(bot.retriever._heads_cache, "load", whole_load_refused)  # the reader's, not the writer's
    monkeypatch.setattr(bot.retriever.store, "heads", whole_load_refused)
    (config.sources_dir / "nouveau.txt").write_text("Un article neuf\n\nLa commune de Brest a ouvert un port.\n", encoding="utf-8")
    removed = sorted(config.sources_dir.glob("*.txt"))[0]
    removed.unlink()
    assert bot.index().added == ["nouveau.txt"]
    view = bot.retriever.snapshot()
    assert sorted(view.heads) == sorted([s for s in first if s != removed.name] + ["nouveau.txt"])
    assert {h.source for h in view.live.values()} == set(view.heads)
    hits = {h.source for h in bot.search("la commune de Brest a ouvert un port", 10)}
    assert "nouveau.txt" in hits and removed.name not in hits  # stand-in vectors: ranked by words alone


def test_a_reader_that_listed_the_heads_leaves_the_copy_unless_a_writer_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A new machine (or a lost cache) lists every head from the store once; the next process reads the copy."""
    from filelock import FileLock

    from assistant.store.chroma import ChromaStore

    config = Config(sources_dir=copy_sources(tmp_path / "sources"), index_dir=tmp_path / "index", embedding_model="standin:64")
    Assistant(config).index()
    copy = HeadsCache(config.index_dir, config.collection).path
    copy.unlink()
    with FileLock(str(config.index_dir / ".lock")):  # a writer at work: the reader leaves no copy
        assert Assistant(config).search("Anthropic", k=1)
    assert not copy.exists() or HeadsCache(config.index_dir, config.collection).load(Assistant(config).store.generation()) is None
    assert Assistant(config).search("Anthropic", k=1)  # no writer: listed, then kept
    listed = {h.source for h in Assistant(config).store.heads()}

    def listing_refused(self: ChromaStore) -> list[ArticleRecord]:
        raise AssertionError("heads listed from the store")

    monkeypatch.setattr(ChromaStore, "heads", listing_refused)
    bot = Assistant(config)
    assert bot.search("Anthropic", k=1) and set(bot.retriever.snapshot().heads) == listed


def test_a_long_lived_writer_keeps_the_heads_in_memory_while_the_copy_is_its_own(tmp_path: Path,
                                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    config = Config(sources_dir=copy_sources(tmp_path / "sources"), index_dir=tmp_path / "index", embedding_model="standin:64")
    bot = Assistant(config)
    bot.index()
    from assistant.store import heads_cache

    rows_read = []
    read = heads_cache._every_head
    monkeypatch.setattr(heads_cache, "_every_head", lambda db: rows_read.append(db) or read(db))
    (config.sources_dir / "nouveau.txt").write_text("Un article neuf\n\nLa commune de Brest a ouvert un port.\n", encoding="utf-8")
    assert bot.index().added == ["nouveau.txt"]
    (config.sources_dir / "nouveau.txt").unlink()
    assert bot.index(files=["nouveau.txt"]).removed == ["nouveau.txt"]  # by file event: kept in step too
    assert bot.index().unchanged == sorted(p.name for p in config.sources_dir.iterdir())
    assert rows_read == []  # every run started from the heads it kept

    # Another writer on this machine (another process) changes the index: what was kept is stale.
    (config.sources_dir / "autre.txt").write_text("Un autre article\n\nLe port de Brest a rouvert.\n", encoding="utf-8")
    assert Assistant(config).index().added == ["autre.txt"]
    report = bot.index()
    assert report.added == [] and "autre.txt" in report.unchanged
    assert len(rows_read) == 2  # the other writer's first run, then this one's: from the copy on disk

    # A run killed after it started writing leaves the copy untrusted: the heads come from the store,
    # and a new generation is written, as for any other process.
    HeadsCache(config.index_dir, config.collection).untrust()
    before = bot.index_generation()
    bot.index()
    assert bot.index_generation() == before + 1


def test_a_failed_run_then_a_reader_do_not_make_the_writer_trust_what_it_kept(tmp_path: Path,
                                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    from assistant.store.chroma import ChromaStore

    config = Config(sources_dir=copy_sources(tmp_path / "sources"), index_dir=tmp_path / "index", embedding_model="standin:64")
    bot = Assistant(config)
    bot.index()
    ghost = config.sources_dir / "fantome.txt"
    ghost.write_text("Un article fantôme\n\nLa commune de Brest a ouvert un port fantôme.\n", encoding="utf-8")

    def commit_fails(self: ChromaStore, generation: Generation) -> None:
        raise RuntimeError("the store went away")

    with monkeypatch.context() as patch:
        patch.setattr(ChromaStore, "commit", commit_fails)
        with pytest.raises(RuntimeError):
            bot.index()  # its head was written, its marker was not
    # A reader lists the heads from the store (the failed run's one included) and saves them, tagged
    # with the same generation: the copy the writer kept in memory is not that copy any more.
    Assistant(config).search("Brest", 1)
    ghost.unlink()
    assert bot.index().removed == ["fantome.txt"]
    assert "fantome.txt" not in {h.source for h in bot.store.store.heads()}
