"""BM25 per language (tantivy + Snowball): search, idf, article-by-article updates and persistence.

One suite for both places the index lives: in memory (tests, tools, a read-only folder)
and in a folder (the cache), which several processes may open and write in turns.
"""

from __future__ import annotations

import multiprocessing
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from assistant.lexical import ARTICLES_FILE, LexicalIndex, weighted_coverage
from assistant.store.lexical_cache import open_lexical
from assistant.text import lexical_tokens

CHUNKS = [
    ("fr1", "fr", "Le parc éolien de Bretagne comptera 62 éoliennes flottantes."),
    ("fr2", "fr", "Les ruches urbaines de Paris ont produit une tonne de miel."),
    ("fr3", "fr", "La mairie de Paris a voté le budget des écoles."),
    ("en1", "en", "The Brittany wind farm will have 62 floating turbines."),
]

MakeIndex = Callable[[], LexicalIndex]


@pytest.fixture(params=["memory", "folder"])
def make_index(request: pytest.FixtureRequest, tmp_path: Path) -> MakeIndex:
    """A new, empty index of the given kind; in a folder, each call opens the same folder again."""
    if request.param == "memory":
        return LexicalIndex
    return lambda: LexicalIndex(tmp_path / "lexical")


@pytest.fixture
def lexical(make_index: MakeIndex) -> LexicalIndex:
    index = make_index()
    index.add("", CHUNKS)
    return index


def lexical_ids(index: LexicalIndex, question: str) -> list[str]:
    return [cid for cid, _ in index.search(question, 10)]


def test_search_ranks_the_chunk_holding_the_terms_first(lexical: LexicalIndex) -> None:
    hits = lexical.search("Combien d'éoliennes en Bretagne ?", 3)
    assert hits[0][0] == "fr1" and hits[0][1] == 1.0  # scores normalised per sub-index
    assert all(0 < score <= 1 for _, score in hits)
    assert lexical.search("miel des ruches", 1)[0][0] == "fr2"


def test_each_language_is_searched_with_its_own_stemmer(lexical: LexicalIndex) -> None:
    ids = [cid for cid, _ in lexical.search("turbines Brittany", 4)]
    assert ids[0] == "en1"
    assert "en1" in [cid for cid, _ in lexical.search("62", 4)] and "fr1" in [cid for cid, _ in lexical.search("62", 4)]
    assert lexical.languages() == ["en", "fr"]


def test_a_question_with_no_known_term_finds_nothing(lexical: LexicalIndex) -> None:
    assert lexical.search("zzyzx quux", 5) == []
    assert lexical.search("le la les", 5) == []  # stop words only: no term to look for


def test_idf_is_higher_for_rarer_terms_and_highest_for_absent_ones(lexical: LexicalIndex) -> None:
    paris, miel, absent = (lexical_tokens(w, "fr")[0] for w in ("Paris", "miel", "Zéphyrine"))
    idf = lexical.idf("fr", [paris, miel, absent])
    assert idf[miel] > idf[paris]  # one chunk against two
    assert idf[absent] > idf[miel]  # the ceiling: no chunk holds it
    assert lexical.idf("de", ["x"]) == {"x": 5.0}  # no sub-index for that language
    assert lexical.document_frequency("fr", paris) == 2 and lexical.document_frequency("de", paris) == 0


def test_adding_and_removing_an_article_touches_only_its_chunks(make_index: MakeIndex) -> None:
    index = make_index()
    index.add("a1", CHUNKS[:2])
    index.add("a2", CHUNKS[2:])
    assert index.article_ids() == {"a1", "a2"}
    assert lexical_ids(index, "mairie Paris budget") == ["fr3", "fr2"]
    index.remove(["a2"])
    assert lexical_ids(index, "mairie Paris budget") == ["fr2"]  # a2's chunks are gone, a1's stay
    assert lexical_ids(index, "turbines") == []  # in every language the article had
    assert index.document_frequency("fr", lexical_tokens("Paris", "fr")[0]) == 1
    index.add("a1", [("fr9", "fr", "Les ruches du Louvre.")])  # re-adding replaces the article's chunks
    assert lexical_ids(index, "ruches") == ["fr9"]
    index.add("a3", [("fr10", "fr", "le la les")])  # nothing to index, but the article is held
    assert index.article_ids() == {"a1", "a3"}


def test_the_folder_is_the_index_nothing_is_rebuilt(tmp_path: Path) -> None:
    index = LexicalIndex(tmp_path / "lexical")
    index.add("a1", [("fr9", "fr", "Les ruches du Louvre.")])
    index.add("a2", CHUNKS)
    index.close()
    reopened = LexicalIndex(tmp_path / "lexical")
    assert reopened.article_ids() == {"a1", "a2"} and lexical_ids(reopened, "ruches Louvre")[0] == "fr9"
    assert reopened.languages() == ["en", "fr"]


def test_a_hundred_articles_are_added_and_removed_one_at_a_time(make_index: MakeIndex) -> None:
    index = make_index()  # many commits: tantivy's segments are merged as they come
    for n in range(100):
        index.add(f"a{n}", [(f"c{n}", "fr", f"La commune de Ville{n} agrandit son port de plaisance.")])
    assert lexical_ids(index, "Ville17 port")[0] == "c17"
    index.remove([f"a{n}" for n in range(0, 100, 2)])
    assert len(index.article_ids()) == 50 and lexical_ids(index, "Ville16") == []
    assert lexical_ids(index, "Ville17")[0] == "c17"
    # removed chunks wait in their segments for a merge: they are not counted
    assert index.document_frequency("fr", lexical_tokens("port", "fr")[0]) == 50


def test_weighted_coverage() -> None:
    assert weighted_coverage({"a": 3.0, "b": 1.0}, {"a"}) == 0.75
    assert weighted_coverage({}, {"a"}) == 0.0


def test_idf_follows_changes_made_here_and_by_another_process(tmp_path: Path) -> None:
    path = tmp_path / "lexical"
    reader = LexicalIndex(path)
    reader.add("a", [("a-0", "fr", "Le port de Brest"), ("a-1", "fr", "La rade de Brest")])
    port = lexical_tokens("port", "fr")[0]
    first = reader.idf("fr", [port])[port]
    assert reader.article_ids() == {"a"}
    writer = LexicalIndex(path)  # the same folder, another opening (another process)
    writer.add("b", [(f"b-{i}", "fr", f"Une phrase numéro {i}") for i in range(20)])
    writer.add("c", [("c-0", "en", "The port of Brest")])  # a language the reader has not opened
    grown = reader.idf("fr", [port])[port]
    assert grown > first  # the count of chunks moved with the other opening's write
    assert grown == pytest.approx(LexicalIndex(path).idf("fr", [port])[port])
    assert reader.languages() == ["en", "fr"] and "c-0" in lexical_ids(reader, "port")
    assert reader.article_ids() == {"a", "b", "c"}  # the list it held was read again
    reader.remove(["b"])
    assert reader.idf("fr", [port])[port] == pytest.approx(first)  # and with this opening's own
    assert writer.article_ids() == {"a", "c"} and lexical_ids(writer, "phrase numéro") == []


def _add_articles(path: str, prefix: str, count: int) -> None:
    index = LexicalIndex(path)
    for n in range(count):
        index.add(f"{prefix}{n}", [(f"{prefix}{n}-0", "fr", f"Le village {prefix}{n} ouvre une école")])
    index.close()


def test_processes_writing_the_same_folder_take_turns(tmp_path: Path) -> None:
    """`serve` and `assistant index` beside it, or two readers catching up: tantivy allows one
    writer per index, so they wait for each other and every article arrives."""
    path = str(tmp_path / "lexical")
    LexicalIndex(path).close()
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_add_articles, args=(path, prefix, 15)) for prefix in ("p", "q")]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=300)
    assert [w.exitcode for w in workers] == [0, 0]
    index = LexicalIndex(path)
    assert index.article_ids() == {f"{p}{n}" for p in "pq" for n in range(15)}
    assert lexical_ids(index, "village p7")[0] == "p7-0" and lexical_ids(index, "village q11")[0] == "q11-0"
    assert index.document_frequency("fr", lexical_tokens("école", "fr")[0]) == 30


def test_an_article_left_half_written_is_dropped_and_not_reported_as_held(tmp_path: Path) -> None:
    """A process killed between tantivy's commit and the list's leaves the article pending: the
    next writer removes its chunks, and the store's next sync adds it again if it is live."""
    path = tmp_path / "lexical"
    index = LexicalIndex(path)
    index.add("a1", CHUNKS[:2])
    index.add("a2", CHUNKS[2:])
    index.close()
    with sqlite3.connect(path / ARTICLES_FILE) as db:
        db.execute("UPDATE article SET pending = 1 WHERE article_id = 'a2'")
    reopened = LexicalIndex(path)
    assert reopened.article_ids() == {"a1"}
    assert lexical_ids(reopened, "mairie budget turbines") == []
    assert lexical_ids(reopened, "ruches miel") == ["fr2"]


def test_a_damaged_cache_folder_is_rebuilt_empty(tmp_path: Path) -> None:
    index = open_lexical(tmp_path, "coll")
    index.add("a1", CHUNKS)
    index.close()
    for path in (tmp_path / "cache").rglob("*"):
        if path.is_file():
            path.write_bytes(b"\x00garbage")
    again = open_lexical(tmp_path, "coll")
    assert again.path is not None and again.article_ids() == set()  # rebuilt from the store by its next sync
    again.add("a1", CHUNKS)
    assert lexical_ids(again, "ruches miel")[0] == "fr2"


def test_a_cache_another_process_is_writing_is_waited_for_and_never_deleted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import assistant.lexical as lexical_module
    from filelock import FileLock

    from assistant.errors import IndexLockedError

    index = open_lexical(tmp_path, "coll")
    index.add("a1", CHUNKS)
    folder = index.path
    assert folder is not None
    index.close()
    # Another writer is midway through a batch: its article is marked pending, it holds the lock.
    with sqlite3.connect(folder / ARTICLES_FILE) as db:
        db.execute("UPDATE article SET pending = 1 WHERE article_id = 'a1'")
    monkeypatch.setattr(lexical_module, "WRITE_WAIT_S", 0.3)
    with FileLock(str(folder / "write.lock")):
        with pytest.raises(IndexLockedError, match="being written by another process"):
            open_lexical(tmp_path, "coll")
        assert (folder / ARTICLES_FILE).exists() and any(folder.glob("*/meta.json"))  # nothing deleted
    again = open_lexical(tmp_path, "coll")  # the writer gone: its half-written article is dropped
    assert again.path == folder and again.article_ids() == set()
    again.add("a1", CHUNKS)
    assert lexical_ids(again, "ruches miel")[0] == "fr2"


def test_a_write_that_waits_too_long_for_another_process_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import assistant.lexical as lexical_module
    from filelock import FileLock

    from assistant.errors import IndexLockedError

    index = LexicalIndex(tmp_path / "lexical")
    index.add("a1", CHUNKS)
    monkeypatch.setattr(lexical_module, "WRITE_WAIT_S", 0.3)
    with FileLock(str(tmp_path / "lexical" / "write.lock")):
        with pytest.raises(IndexLockedError, match="being written by another process"):
            index.add("a2", CHUNKS)
        with pytest.raises(IndexLockedError):
            index.remove(["a1"])
    assert index.article_ids() == {"a1"}  # nothing lost
    index.add("a2", CHUNKS)
    assert index.article_ids() == {"a1", "a2"}


def test_a_folder_that_cannot_hold_the_cache_gives_an_index_in_memory(tmp_path: Path) -> None:
    blocker = tmp_path / "index"
    blocker.write_text("a file where the index folder should be")
    index = open_lexical(blocker, "coll")
    assert index.path is None
    index.add("a1", CHUNKS)
    assert lexical_ids(index, "ruches miel")[0] == "fr2"


def _point_segments_nowhere(folder: Path, lang: str) -> None:
    """Damage a language index under a running reader, as a disk error or another program would:
    its list of segments names files that are not there, and a write elsewhere makes readers reload."""
    import json

    meta = json.loads((folder / lang / "meta.json").read_text())
    for segment in meta["segments"]:
        segment["segment_id"] = "0" * 32
    (folder / lang / "meta.json").write_text(json.dumps(meta))
    with sqlite3.connect(folder / ARTICLES_FILE) as db:
        db.execute("INSERT OR IGNORE INTO language (lang) VALUES ('zz')")


def test_a_cache_damaged_while_in_use_fails_with_one_line_naming_the_folder(tmp_path: Path) -> None:
    """A search, an idf, a write or the list of articles meeting damaged files raise the
    assistant's own error (one line: the folder and the fix), not tantivy's or SQLite's."""
    from assistant.errors import IndexCorruptError

    folder = tmp_path / "lexical"
    index = LexicalIndex(folder)
    index.add("a1", CHUNKS)
    _point_segments_nowhere(folder, "fr")
    calls = {
        "search": lambda: index.search("ruches miel", 5),
        "idf": lambda: index.idf("fr", lexical_tokens("miel", "fr")),
        "document_frequency": lambda: index.document_frequency("fr", "miel"),
        "add": lambda: index.add("a2", CHUNKS[:1]),
    }
    for name, call in calls.items():
        with pytest.raises(IndexCorruptError) as caught:
            call()
        message = str(caught.value)
        assert str(folder) in message and "delete that folder" in message and "\n" not in message, name
    other = LexicalIndex(tmp_path / "other")
    other.add("a1", CHUNKS)
    with sqlite3.connect(tmp_path / "other" / ARTICLES_FILE) as db:
        db.execute("DROP TABLE article")
    with pytest.raises(IndexCorruptError, match="no such table"):
        other.article_ids()


def test_a_cache_damaged_while_in_use_is_rebuilt_at_the_next_open(tmp_path: Path) -> None:
    folder = tmp_path / "cache" / "coll" / "lexical"
    index = open_lexical(tmp_path, "coll")
    index.add("a1", CHUNKS)
    _point_segments_nowhere(folder, "fr")
    index.close()
    again = open_lexical(tmp_path, "coll")
    assert again.path == folder and again.article_ids() == set()  # emptied: the store's next sync fills it


def test_articles_another_process_indexed_meanwhile_are_neither_read_nor_indexed_again(tmp_path: Path) -> None:
    """A reader catching up lists the cache, then waits for the write lock while another process
    writes a batch (its articles pending, so not listed): once the lock is its own, it reads and
    indexes only what is still missing."""
    folder = tmp_path / "lexical"
    ours, theirs = LexicalIndex(folder), LexicalIndex(folder)  # two connections, as two processes
    listed = ours.article_ids()
    assert listed == set()
    theirs.add_many({"a1": CHUNKS[:2], "a2": CHUNKS[2:]})  # done while ours waited
    read: list[list[str]] = []

    def chunks_of(article_ids: list[str]) -> dict[str, list[tuple[str, str, str]]]:
        read.append(article_ids)
        return {aid: [(f"{aid}-0", "fr", f"Le village {aid} ouvre une école")] for aid in article_ids}

    assert ours.add_missing(["a1", "a2", "a3"], chunks_of) == 1
    assert read == [["a3"]]
    assert ours.add_missing(["a1", "a3"], chunks_of) == 0 and read == [["a3"]]
    assert ours.article_ids() == theirs.article_ids() == {"a1", "a2", "a3"}
    assert lexical_ids(ours, "ruches miel") == ["fr2"] and lexical_ids(theirs, "village a3") == ["a3-0"]
