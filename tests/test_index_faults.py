"""Faults: kill -9 mid-embedding, two runs at once, damaged index folders.

A crash in Chroma's native code would take pytest down with it, so every command that
meets a damaged database, is killed or runs beside another runs as its own `assistant`
process; a negative return code (killed by a signal, e.g. a segfault) fails the test like
a traceback does. Commands that stop before Chroma opens anything (a foreign folder, a
file, an index of an earlier version), or that read a copy this process made and damaged
in Python, run in this process (``run_here``): each separate process costs about 2 s of
CPU (interpreter, chromadb's import), and what those tests check is the message.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from assistant.api import Assistant
from assistant.chunking import chunk_article
from assistant.config import Config
from assistant.documents import load_article
from assistant.embeddings import TokenAwareEmbeddings, load_embeddings
from assistant.index import EMBED_BATCH, IndexStore
from assistant.store.lexical_cache import open_lexical

from conftest import PACED, cli_args, copy_index, copy_sources, invoke, run_assistant, seed_files, stored_vector_count

QUESTION = "Combien coûte ChatGPT Enterprise aux agences fédérales ?"


def add_variations(config: Config, embedder: TokenAwareEmbeddings, min_chunks: int) -> list[Path]:
    """Copies of the seeds, each with its own closing line, until they make ``min_chunks`` chunks."""
    written: list[Path] = []
    chunks = 0
    round_ = 0
    while chunks < min_chunks:
        round_ += 1
        for seed in seed_files():
            path = config.sources_dir / f"{seed.stem}-v{round_}.txt"
            path.write_text(
                seed.read_text(encoding="utf-8")
                + f"\n\nMise à jour n°{round_} : article republié dans l’édition régionale numéro {round_}.\n",
                encoding="utf-8",
            )
            article = load_article(path, path.name, 10_000_000)
            chunks += len(
                chunk_article(article, embedder.token_count, config.chunk_tokens, config.chunk_overlap_sentences, embedder.max_tokens)
            )
            written.append(path)
    return written


def lock_is_held(index_dir: Path) -> bool:
    from filelock import FileLock, Timeout

    probe = FileLock(str(index_dir / ".lock"))
    try:
        probe.acquire(timeout=0)
    except Timeout:
        return True
    probe.release()
    return False


def run_here(*args: str) -> subprocess.CompletedProcess[str]:
    """``assistant ARGS`` in this process (click's runner), reported as a finished process would be;
    an exception that escapes the command's edge fails the test as the traceback would."""
    result = invoke(list(args))
    return subprocess.CompletedProcess(list(args), result.exit_code, result.stdout, result.stderr)


def assert_clean_failure(result, *fragments: str) -> None:  # noqa: ANN001 - CompletedProcess
    assert result.returncode == 1, (result.returncode, result.stderr[-2000:])
    assert "Traceback" not in result.stderr, result.stderr[-2000:]
    assert result.stderr.startswith("Error: "), result.stderr[-2000:]
    for fragment in fragments:
        assert fragment in result.stderr, (fragment, result.stderr)


def assert_consistent(config: Config, articles: int) -> None:
    """Heads, vectors and texts agree (status checks every article's records), and the index answers."""
    store = IndexStore(config)
    cat = store.load_catalog()
    assert IndexStore(config).status().articles == articles
    assert sorted(store.collection().get(include=[])["ids"]) == sorted(cat.chunks)
    for rec in cat.articles.values():
        assert store.article_text(rec["id"])
    search = run_assistant(*cli_args(config, "search", QUESTION, "--json"))
    assert search.returncode == 0, search.stderr[-2000:]
    assert json.loads(search.stdout)


# --- interrupted run -------------------------------------------------------------


def test_kill_9_mid_embedding_keeps_the_old_index_and_the_next_run_resumes(
    paced_copy: Config, popen_assistant
) -> None:  # noqa: ANN001
    config = paced_copy
    # Enough new sentences for several flushes (each commits its articles); killed after the first.
    added = add_variations(config, load_embeddings(PACED), min_chunks=4 * EMBED_BATCH)
    generation_before = IndexStore(config).store.generation()
    chunks_before = stored_vector_count(config.index_dir, "chunks")
    heads_before = stored_vector_count(config.index_dir, "articles")
    assert chunks_before and heads_before == 5

    proc = popen_assistant(*cli_args(config, "index"))
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline and proc.poll() is None:
        count = stored_vector_count(config.index_dir, "articles")
        if count is not None and count > heads_before:  # the first finished articles are committed
            break
        time.sleep(0.05)
    assert proc.poll() is None, "the run ended before it could be interrupted; make the corpus bigger"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    chunks_written = (stored_vector_count(config.index_dir, "chunks") or 0) - chunks_before

    # The index answers, with the old articles and those the run finished (committed whole, one by one).
    assert IndexStore(config).store.generation() == generation_before  # the run's marker is never written
    status = run_assistant(*cli_args(config, "status", "--json"))  # checks every listed article's records
    assert status.returncode == 0, status.stderr[-2000:]
    listed = {a.source for a in IndexStore(config).articles()}
    assert 5 < len(listed) < 5 + len(added)  # killed between two commits
    assert json.loads(status.stdout)["articles"] == len(listed)
    search = run_assistant(*cli_args(config, "search", QUESTION, "--json"))
    assert search.returncode == 0, search.stderr[-2000:]
    hits = json.loads(search.stdout)
    assert hits and all(hit["source"] in listed for hit in hits)  # nothing of a half-written article

    # The next run completes the work and reuses the vectors the killed run wrote.
    result = run_assistant(*cli_args(config, "index", "--json"))
    assert result.returncode == 0, result.stderr[-2000:]
    report = json.loads(result.stdout)
    assert sorted(report["added"]) == sorted(p.name for p in added if p.name not in listed)  # the rest only
    new_chunks = report["chunks_total"] - chunks_before
    assert report["chunks_embedded"] <= new_chunks - chunks_written
    assert_consistent(config, articles=5 + len(added))


# --- concurrent runs -------------------------------------------------------------


def test_a_second_run_waits_for_the_lock_or_stops_with_a_clear_message(
    paced_copy: Config, popen_assistant
) -> None:  # noqa: ANN001
    config = paced_copy
    added = add_variations(config, load_embeddings(PACED), min_chunks=40)
    first = popen_assistant(*cli_args(config, "index", "--json"))
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline and first.poll() is None and not lock_is_held(config.index_dir):
        time.sleep(0.05)  # until the first run holds the lock (it then embeds for a while)
    assert first.poll() is None, "the first run ended too soon; make the corpus bigger"

    waiting = popen_assistant(*cli_args(config, "index", "--json"), ASSISTANT_LOCK_WAIT_S="900")
    impatient = run_assistant(*cli_args(config, "index"), ASSISTANT_LOCK_WAIT_S="0.5")
    assert first.poll() is None, "the first run ended too soon; make the corpus bigger"
    assert_clean_failure(impatient, f"another `assistant index` is writing {config.index_dir}", "let it finish, then run again")

    out, err = first.communicate(timeout=900)
    assert first.returncode == 0, err[-2000:]
    first_report = json.loads(out)
    assert sorted(first_report["added"]) == sorted(p.name for p in added)

    out, err = waiting.communicate(timeout=900)
    assert waiting.returncode == 0, err[-2000:]
    second = json.loads(out)  # it waited, then found the first run's work committed
    assert second["added"] == [] and second["chunks_embedded"] == 0
    assert len(second["unchanged"]) == 5 + len(added)
    assert_consistent(config, articles=5 + len(added))


# --- damaged or foreign index folders ------------------------------------------------


def damaged_copy(seed_index: Config, tmp_path: Path) -> Config:
    return Config(
        sources_dir=copy_sources(tmp_path / "sources", sorted(seed_index.sources_dir.iterdir())),
        index_dir=copy_index(seed_index.index_dir, tmp_path / "index"),
    )


def every_command_fails_cleanly(
    config: Config, *fragments: str, run: Callable[..., subprocess.CompletedProcess[str]] = run_assistant
) -> None:
    for args in (
        cli_args(config, "index"),
        cli_args(config, "search", QUESTION),
        cli_args(config, "status"),
    ):
        assert_clean_failure(run(*args), *fragments)


def test_an_index_of_the_previous_version_is_refused_with_the_upgrade_command(tmp_path: Path) -> None:
    config = Config(sources_dir=copy_sources(tmp_path / "sources"), index_dir=tmp_path / "index")
    config.index_dir.mkdir()
    (config.index_dir / "catalog.json").write_text("{}")
    for args in (cli_args(config, "search", QUESTION), cli_args(config, "status")):
        assert_clean_failure(run_here(*args), "earlier version", f"assistant index --index {config.index_dir}")


def test_foreign_folder_is_refused_and_never_wiped(seed_index: Config, tmp_path: Path) -> None:
    config = Config(sources_dir=copy_sources(tmp_path / "sources"), index_dir=tmp_path / "my-documents")
    (config.index_dir / "photos").mkdir(parents=True)
    (config.index_dir / "notes.txt").write_text("my own notes")
    (config.index_dir / "photos" / "cat.jpg").write_bytes(b"\xff\xd8\xff")
    every_command_fails_cleanly(
        config, "not part of an assistant index (notes.txt, photos)", "assistant index --index NEW_FOLDER", run=run_here,
    )
    assert_clean_failure(run_here(*cli_args(config, "index", "--rebuild")), "move those away first")
    assert (config.index_dir / "notes.txt").read_text() == "my own notes"
    assert (config.index_dir / "photos" / "cat.jpg").exists()


def test_index_path_that_is_a_file(tmp_path: Path) -> None:
    config = Config(sources_dir=copy_sources(tmp_path / "sources"), index_dir=tmp_path / "index.txt")
    config.index_dir.write_text("not a folder")
    every_command_fails_cleanly(config, "is a file, not an index folder", run=run_here)


def test_lost_records_are_reported_by_status_and_repaired_by_a_plain_index(seed_index: Config, tmp_path: Path) -> None:
    config = damaged_copy(seed_index, tmp_path)
    store = IndexStore(config).store
    heads = sorted(store.heads(), key=lambda h: h.source)
    lost_text, lost_chunks = heads[0], heads[1]
    store._col("texts").delete(where={"article_id": lost_text.article_id})
    lost_ids = store._col("chunks").get(where={"article_id": lost_chunks.article_id}, include=[])["ids"]
    store._col("chunks").delete(ids=lost_ids[:1])

    status = run_here(*cli_args(config, "status"))
    assert_clean_failure(status, lost_text.source, lost_chunks.source, f"assistant index --index {config.index_dir}")
    assert "--rebuild" not in status.stderr  # the advice never empties the index

    repaired = run_here(*cli_args(config, "index", "--json"))
    assert repaired.returncode == 0, repaired.stderr[-2000:]
    report = json.loads(repaired.stdout)
    assert sorted(report["repaired"]) == sorted([lost_text.source, lost_chunks.source])
    assert report["chunks_embedded"] == 1  # only what was lost
    assert_consistent(config, articles=5)


def test_a_count_that_fails_in_its_thread_fails_the_run_with_its_error(
    seed_index: Config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The record counts run in a thread beside the folder scan: what they raise reaches the
    caller (the CLI's one-line message), nothing is written, and the run does not hang."""
    from assistant.errors import IndexCorruptError
    from assistant.store.chroma import ChromaStore

    config = damaged_copy(seed_index, tmp_path)
    before = IndexStore(config).status()
    (config.sources_dir / "zz-new.txt").write_text("Une phrase nouvelle sur un sujet nouveau.\n", encoding="utf-8")

    def unreadable(_store: ChromaStore, *_kinds: tuple[str, ...]) -> dict[str, int]:
        raise IndexCorruptError("the vector store in this test cannot be counted")

    monkeypatch.setattr(ChromaStore, "counts", unreadable)
    with pytest.raises(IndexCorruptError, match="cannot be counted"):
        IndexStore(config).update()
    monkeypatch.undo()
    assert IndexStore(config).status() == before  # the new article was not written


@pytest.mark.parametrize("copy", ["kept", "none"])
def test_a_run_after_one_stopped_before_its_commit_reads_the_changes_from_the_log(
    seed_index: Config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, copy: str
) -> None:
    """A killed run leaves this machine's copy of the heads untrusted: the next run takes the copy
    as it was and the store's changes since, instead of listing every head (66 s at 100,000).
    Without a copy (a new machine, a deleted cache) it lists them, with the same result."""
    from assistant.store.chroma import ChromaStore

    config = Config(sources_dir=copy_sources(tmp_path / "sources", seed_files()), index_dir=copy_index(seed_index.index_dir, tmp_path / "index"))
    if copy == "none":
        (config.index_dir / "cache" / config.collection / "heads.sqlite").unlink()
    extra = seed_files()[0].read_text(encoding="utf-8") + "\nUne phrase ajoutée pour ce test.\n"
    (config.sources_dir / "zz-extra.txt").write_text(extra, encoding="utf-8")
    (config.sources_dir / seed_files()[1].name).unlink()
    removed_id = next(h.article_id for h in IndexStore(config).heads() if h.source == seed_files()[1].name)
    commit = ChromaStore.commit

    def stopped(_store: ChromaStore, _generation: object) -> None:
        raise RuntimeError("stopped before the commit")

    monkeypatch.setattr(ChromaStore, "commit", stopped)
    number = IndexStore(config).store.generation().number
    with pytest.raises(RuntimeError):
        IndexStore(config).update()
    monkeypatch.setattr(ChromaStore, "commit", commit)
    if copy == "kept":
        monkeypatch.setattr(ChromaStore, "heads", lambda _store: pytest.fail("the run listed every head"))
    # A reader meanwhile reads the same copy and changes: it must not make the copy current again,
    # or the next run would find nothing to commit and replicas would never see the stopped run's work.
    assert Assistant(config).search("Une phrase ajoutée pour ce test", 1)[0].source == "zz-extra.txt"
    report = IndexStore(config).update()
    assert report.removed == [] and report.added == []  # both done by the stopped run, now committed
    assert IndexStore(config).store.generation().number == number + 1
    # The stopped run removed the head but not yet the article's records (that comes after a commit):
    # the run that commits its work removes them.
    assert removed_id not in IndexStore(config).store.article_ids_with("chunks")
    reader = Assistant(config)  # this machine's copy is current again: nothing listed either
    assert sorted(a.source for a in reader.articles()) == sorted(p.name for p in config.sources_dir.iterdir())
    assert reader.search("Une phrase ajoutée pour ce test", 1)[0].source == "zz-extra.txt"


def test_a_run_counts_only_the_records_it_compares_with_the_heads(
    seed_index: Config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first read of a collection loads it (the heads': 0.15 s at 100,000 articles): an
    indexing run that reads the heads from its copy does not count them."""
    from assistant.store.chroma import ChromaStore

    config = damaged_copy(seed_index, tmp_path)
    asked: list[tuple[str, ...]] = []
    counts = ChromaStore.counts

    def spy(store: ChromaStore, kinds: tuple[str, ...] = ("articles", "chunks", "texts", "sentences", "meta")) -> dict[str, int]:
        asked.append(tuple(kinds))
        return counts(store, kinds)

    monkeypatch.setattr(ChromaStore, "counts", spy)
    IndexStore(config).update()
    IndexStore(config).update()
    assert asked and all(set(kinds) == {"chunks", "texts", "sentences"} for kinds in asked)


def test_the_status_of_a_sound_index_counts_records_instead_of_listing_them(
    seed_index: Config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`serve` asks for the status at every start: listing every head and every record takes
    minutes at 100,000 articles, counting takes one call per collection."""
    from assistant.store.chroma import ChromaStore

    config = damaged_copy(seed_index, tmp_path)
    expected = IndexStore(config).status()

    def listed(*_args: object) -> None:
        raise AssertionError("a sound index's status listed the store")

    monkeypatch.setattr(ChromaStore, "article_ids_with", listed)
    monkeypatch.setattr(ChromaStore, "heads", listed)
    assert IndexStore(config).status() == expected


def test_a_damaged_lexical_cache_is_rebuilt_from_the_store(seed_index: Config, tmp_path: Path) -> None:
    config = damaged_copy(seed_index, tmp_path)
    search = run_here(*cli_args(config, "search", QUESTION, "--json"))  # builds the cache
    assert search.returncode == 0, search.stderr[-2000:]
    for path in (config.index_dir / "cache").rglob("*"):
        if path.is_file():
            path.write_bytes(b"\x00garbage")
    again = run_here(*cli_args(config, "search", QUESTION, "--json"))
    assert again.returncode == 0, again.stderr[-2000:]
    assert json.loads(again.stdout) == json.loads(search.stdout)
    # Rebuilt in its folder, not only answered from an index in memory: the next process opens it.
    rebuilt = open_lexical(config.index_dir, config.collection)
    assert rebuilt.path is not None and len(rebuilt.article_ids()) == 5


@pytest.mark.parametrize("damage", ["not a database", "malformed pages"])
def test_corrupted_chroma_database(paced_copy: Config, damage: str) -> None:
    config = paced_copy  # the rebuild re-embeds every article: the stand-in, since meaning is not the point
    db = config.index_dir / "chroma" / "chroma.sqlite3"
    data = bytearray(db.read_bytes())
    if damage == "not a database":
        db.write_bytes(b"this is not a database" * 1000)
    else:  # keep the header page, scramble the rest
        data[4096:] = os.urandom(len(data) - 4096)
        db.write_bytes(bytes(data))
    every_command_fails_cleanly(config, "vector store", "is damaged", f"assistant index --rebuild --index {config.index_dir}")
    if damage == "malformed pages":  # the advertised command repairs it
        rebuilt = run_assistant(*cli_args(config, "index", "--rebuild", "--json"))
        assert rebuilt.returncode == 0, rebuilt.stderr[-2000:]
        assert len(json.loads(rebuilt.stdout)["added"]) == 5
        assert_consistent(config, articles=5)
