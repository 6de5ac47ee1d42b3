"""Faults, in separate processes: kill -9 mid-embedding, two runs at once, damaged index folders.

A crash in Chroma's native code would take pytest down with it, so every
command here runs as its own `assistant` process; a negative return code
(killed by a signal, e.g. a segfault) fails the test like a traceback does.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import time
from pathlib import Path

import pytest

from assistant.chunking import chunk_article
from assistant.config import Config
from assistant.documents import load_article
from assistant.embeddings import TokenAwareEmbeddings
from assistant.index import CATALOG, EMBED_BATCH, IndexStore

from conftest import cli_args, copy_index, copy_sources, run_assistant, seed_files

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


def stored_vector_count(index_dir: Path) -> int | None:
    """Rows in Chroma's sqlite, read-only (None while the writer holds its lock)."""
    try:
        with sqlite3.connect(f"file:{index_dir / 'chroma' / 'chroma.sqlite3'}?mode=ro", uri=True, timeout=0.05) as db:
            return int(db.execute("SELECT COUNT(*) FROM embeddings").fetchone()[0])
    except sqlite3.OperationalError:
        return None


def assert_clean_failure(result, *fragments: str) -> None:  # noqa: ANN001 - CompletedProcess
    assert result.returncode == 1, (result.returncode, result.stderr[-2000:])
    assert "Traceback" not in result.stderr, result.stderr[-2000:]
    assert result.stderr.startswith("Error: "), result.stderr[-2000:]
    for fragment in fragments:
        assert fragment in result.stderr, (fragment, result.stderr)


def assert_consistent(config: Config, articles: int) -> None:
    """Catalog, vectors and texts agree, and the index answers."""
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


@pytest.mark.slow
def test_kill_9_mid_embedding_keeps_the_old_index_and_the_next_run_resumes(
    seed_copy: Config, e5: TokenAwareEmbeddings, popen_assistant
) -> None:  # noqa: ANN001
    added = add_variations(seed_copy, e5, min_chunks=EMBED_BATCH + 24)
    catalog_before = (seed_copy.index_dir / CATALOG).read_bytes()
    vectors_before = stored_vector_count(seed_copy.index_dir)
    assert vectors_before

    proc = popen_assistant(*cli_args(seed_copy, "index"))
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline and proc.poll() is None:
        count = stored_vector_count(seed_copy.index_dir)
        if count is not None and count > vectors_before:  # at least one batch of new vectors is on disk
            break
        time.sleep(0.05)
    assert proc.poll() is None, "the run ended before it could be interrupted; make the corpus bigger"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    written = stored_vector_count(seed_copy.index_dir)
    assert written is not None and written > vectors_before

    # The previous index is intact and answers.
    assert (seed_copy.index_dir / CATALOG).read_bytes() == catalog_before
    status = run_assistant(*cli_args(seed_copy, "status", "--json"))
    assert status.returncode == 0 and json.loads(status.stdout)["articles"] == 5
    search = run_assistant(*cli_args(seed_copy, "search", QUESTION, "--json"))
    assert search.returncode == 0, search.stderr[-2000:]
    hits = json.loads(search.stdout)
    assert hits and all("-v" not in hit["source"] for hit in hits)  # only committed articles

    # The next run completes the work and reuses the vectors the killed run wrote.
    result = run_assistant(*cli_args(seed_copy, "index", "--json"))
    assert result.returncode == 0, result.stderr[-2000:]
    report = json.loads(result.stdout)
    assert sorted(report["added"]) == sorted(p.name for p in added)
    new_chunks = report["chunks_total"] - len(json.loads(catalog_before)["chunks"])
    assert report["chunks_embedded"] <= new_chunks - (written - vectors_before)
    assert_consistent(seed_copy, articles=5 + len(added))


# --- concurrent runs -------------------------------------------------------------


@pytest.mark.slow
def test_a_second_run_waits_for_the_lock_or_stops_with_a_clear_message(
    seed_copy: Config, e5: TokenAwareEmbeddings, popen_assistant
) -> None:  # noqa: ANN001
    added = add_variations(seed_copy, e5, min_chunks=40)
    texts = {load_article(p, p.name, 10_000_000).id for p in added}

    first = popen_assistant(*cli_args(seed_copy, "index", "--json"))
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline and first.poll() is None:
        if any((seed_copy.index_dir / "texts" / f"{t}.txt").exists() for t in texts):
            break  # texts are written under the lock, just before embedding starts
        time.sleep(0.05)
    assert first.poll() is None, "the first run ended too soon; make the corpus bigger"

    waiting = popen_assistant(*cli_args(seed_copy, "index", "--json"), ASSISTANT_LOCK_WAIT_S="900")
    impatient = run_assistant(*cli_args(seed_copy, "index"), ASSISTANT_LOCK_WAIT_S="0.5")
    assert first.poll() is None, "the first run ended too soon; make the corpus bigger"
    assert_clean_failure(impatient, f"another `assistant index` is writing {seed_copy.index_dir}", "let it finish, then run again")

    out, err = first.communicate(timeout=900)
    assert first.returncode == 0, err[-2000:]
    first_report = json.loads(out)
    assert sorted(first_report["added"]) == sorted(p.name for p in added)

    out, err = waiting.communicate(timeout=900)
    assert waiting.returncode == 0, err[-2000:]
    second = json.loads(out)  # it waited, then found the first run's work committed
    assert second["added"] == [] and second["chunks_embedded"] == 0
    assert len(second["unchanged"]) == 5 + len(added)
    assert_consistent(seed_copy, articles=5 + len(added))


# --- damaged or foreign index folders ------------------------------------------------


def damaged_copy(seed_index: Config, tmp_path: Path) -> Config:
    return Config(
        sources_dir=copy_sources(tmp_path / "sources", sorted(seed_index.sources_dir.iterdir())),
        index_dir=copy_index(seed_index.index_dir, tmp_path / "index"),
    )


def every_command_fails_cleanly(config: Config, *fragments: str) -> None:
    for args in (
        cli_args(config, "index"),
        cli_args(config, "search", QUESTION),
        cli_args(config, "status"),
    ):
        assert_clean_failure(run_assistant(*args), *fragments)


@pytest.mark.parametrize("content", [b"{ this is not json", b"[]", b'{"format_version": 1, "settings": {}}', b"\xff\xfe\x00garbage"])
def test_garbage_catalog(seed_index: Config, tmp_path: Path, content: bytes) -> None:
    config = damaged_copy(seed_index, tmp_path)
    (config.index_dir / CATALOG).write_bytes(content)
    every_command_fails_cleanly(config, "catalog.json is damaged", f"assistant index --rebuild --index {config.index_dir}")


def test_foreign_folder_is_refused_and_never_wiped(seed_index: Config, tmp_path: Path) -> None:
    config = Config(sources_dir=copy_sources(tmp_path / "sources"), index_dir=tmp_path / "my-documents")
    (config.index_dir / "photos").mkdir(parents=True)
    (config.index_dir / "notes.txt").write_text("my own notes")
    (config.index_dir / "photos" / "cat.jpg").write_bytes(b"\xff\xd8\xff")
    every_command_fails_cleanly(
        config, "not part of an assistant index (notes.txt, photos)", "assistant index --index NEW_FOLDER",
        f"assistant index --rebuild --index {config.index_dir}",
    )
    assert_clean_failure(run_assistant(*cli_args(config, "index", "--rebuild")), "move those away first")
    assert (config.index_dir / "notes.txt").read_text() == "my own notes"
    assert (config.index_dir / "photos" / "cat.jpg").exists()


def test_index_path_that_is_a_file(tmp_path: Path) -> None:
    config = Config(sources_dir=copy_sources(tmp_path / "sources"), index_dir=tmp_path / "index.txt")
    config.index_dir.write_text("not a folder")
    every_command_fails_cleanly(config, "is a file, not an index folder")


def test_missing_article_text_or_lexical_index(seed_index: Config, tmp_path: Path) -> None:
    config = damaged_copy(seed_index, tmp_path)
    next((config.index_dir / "texts").iterdir()).unlink()
    assert_clean_failure(run_assistant(*cli_args(config, "search", QUESTION)), "is missing or damaged", "--rebuild")
    config = damaged_copy(seed_index, tmp_path / "2")
    for path in next(config.index_dir.glob("lexical-*")).rglob("*"):
        if path.is_file():
            path.write_bytes(b"\x00garbage")
    assert_clean_failure(run_assistant(*cli_args(config, "search", QUESTION)), "lexical index", "--rebuild")


@pytest.mark.parametrize("damage", ["not a database", "malformed pages"])
def test_corrupted_chroma_database(seed_index: Config, tmp_path: Path, damage: str) -> None:
    config = damaged_copy(seed_index, tmp_path)
    db = config.index_dir / "chroma" / "chroma.sqlite3"
    data = bytearray(db.read_bytes())
    if damage == "not a database":
        db.write_bytes(b"this is not a database" * 1000)
    else:  # keep the header page, scramble the rest
        data[4096:] = os.urandom(len(data) - 4096)
        db.write_bytes(bytes(data))
    every_command_fails_cleanly(config, "vector store", f"assistant index --rebuild --index {config.index_dir}")
    if damage == "malformed pages":  # the advertised command repairs it
        rebuilt = run_assistant(*cli_args(config, "index", "--rebuild", "--json"))
        assert rebuilt.returncode == 0, rebuilt.stderr[-2000:]
        assert len(json.loads(rebuilt.stdout)["added"]) == 5
        assert_consistent(config, articles=5)
