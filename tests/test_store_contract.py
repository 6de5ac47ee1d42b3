"""One suite that every store client passes: embedded Chroma and a real `chroma run` server.

Vectors come from a stand-in embedder: these tests are about what the store keeps
and returns (and Chroma Cloud's quotas), not about embedding quality.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from assistant.config import Config
from assistant.store import ArticleRecord, ArticleSentences, ChromaStore, ChunkRecord, FileStat, Generation, open_store
from assistant.store.chroma import _REMOVED_PREFIX, KINDS, SYNC_THRESHOLD, head_id
from assistant.store.sentence_packs import pack, pack_count, per_pack
from assistant.store.records import MAX_DOCUMENT_BYTES, MAX_METADATA_CHARS, MAX_RECORDS_PER_CALL, StoreSettings
from tests.chroma_server import ChromaServer
from tests.stand_in import StandInEmbeddings

EMBED = StandInEmbeddings(8)
MANY = 2 * MAX_RECORDS_PER_CALL + 50  # every list call has to slice


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChromaServer]:
    srv = ChromaServer(tmp_path_factory.mktemp("chroma-server") / "data").start()
    yield srv
    srv.stop()


@pytest.fixture(params=["embedded", "server"])
def store(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ChromaStore:
    """Paged reads in pages of Chroma Cloud's 300 records, so that every list below takes several."""
    from assistant.store import chroma

    monkeypatch.setattr(chroma, "LOCAL_READ_PAGE", MAX_RECORDS_PER_CALL)
    if request.param == "embedded":
        return open_store(Config(index_dir=tmp_path / "index"))
    server = request.getfixturevalue("server")
    return open_store(Config(index_dir=tmp_path / "index", chroma_url=server.url, collection=f"t{abs(hash(tmp_path)) % 10**8}"))


def head(source: str, article_id: str, **changes: object) -> ArticleRecord:
    base = ArticleRecord(source, article_id, "hash", f"Title {source}", "2025-01-02", "fr", 10, 1, 1, 1, FileStat(1, 2, 3))
    return base.with_(**changes)


def chunks(article_id: str, n: int) -> tuple[list[ChunkRecord], list[str], np.ndarray]:
    records = [ChunkRecord(f"{article_id}-{i}", article_id, "a.txt", "T", None, "fr", i, i + 1, i) for i in range(n)]
    texts = [f"text {article_id} {i}" for i in range(n)]
    return records, texts, EMBED.passage_vectors(texts)


def test_an_empty_store_has_no_generation_and_no_heads(store: ChromaStore) -> None:
    assert store.generation() is None
    assert store.heads() == []
    assert store.counts() == {"articles": 0, "chunks": 0, "texts": 0, "sentences": 0, "meta": 0}


def test_generation_marker_round_trip(store: ChromaStore) -> None:
    generation = Generation(7, StoreSettings("stand-in", 8, 300, 1, "c1"), "2025-01-01T00:00:00+00:00")
    store.commit(generation)
    assert store.generation() == generation
    store.commit(Generation(8, generation.settings, None))
    assert store.generation() == Generation(8, generation.settings, None)


def test_chunks_beyond_one_call_are_written_read_and_searched(store: ChromaStore) -> None:
    records, texts, vectors = chunks("a1", MANY)
    store.put_chunks(records, texts, vectors)
    ids = [r.chunk_id for r in records]
    assert store.missing_chunks(ids + ["nope"]) == {"nope"}
    got = {c.record.chunk_id: c for c in store.get_chunks(ids, with_vectors=True)}
    assert set(got) == set(ids)
    assert got[ids[-1]].record == records[-1] and got[ids[-1]].text == texts[-1]
    assert np.allclose(got[ids[-1]].vector, vectors[-1], atol=1e-6)
    assert sorted(c.record.chunk_id for c in store.iter_chunks()) == sorted(ids)
    hits = store.search(vectors[123], 10_000)  # more than a query may return: capped at 300
    assert len(hits) == MAX_RECORDS_PER_CALL
    assert hits[0][0] == ids[123] and hits[0][1] > 0.999


def test_embedded_collections_write_their_vector_index_back_often_and_a_server_keeps_its_own(
    store: ChromaStore, request: pytest.FixtureRequest
) -> None:
    embedded = request.node.callspec.params["store"] == "embedded"
    store.tune()
    for kind in KINDS:
        hnsw = store._col(kind).configuration_json["hnsw"]
        assert (hnsw["sync_threshold"] == SYNC_THRESHOLD) is embedded, kind
    assert store._col("chunks").configuration_json["hnsw"]["space"] == "cosine"
    records, texts, vectors = chunks("a1", 3)
    store.put_chunks(records, texts, vectors)
    # Twice the vector: cosine distance 0 (score 1), where an L2 index would say 1 (score 0).
    assert store.search(2 * vectors[1], 1) == [(records[1].chunk_id, pytest.approx(1.0, abs=1e-5))]


def test_a_long_text_is_split_under_the_document_quota(store: ChromaStore) -> None:
    text = "Élan vital – 東京 " * 8000  # ~150 KB in UTF-8, with 3-byte characters
    store.put_text("a1", text)
    parts = store._col("texts").get(where={"article_id": "a1"}, include=["documents"])["documents"]
    assert len(parts) > 1 and all(len(p.encode("utf-8")) <= MAX_DOCUMENT_BYTES for p in parts)
    assert store.has_text("a1", len(parts)) and not store.has_text("a1", len(parts) + 1)
    assert store.article_text("a1", len(parts)) == text
    assert store.article_text("missing", 1) is None


def test_heads_are_listed_in_pages_and_deleted_by_source(store: ChromaStore) -> None:
    heads = [head(f"dir/{i:04d}.txt", f"id{i}") for i in range(MANY)]
    store.put_heads(heads, 1)
    assert sorted(store.heads(), key=lambda h: h.source) == heads
    store.delete_heads(heads[:MAX_RECORDS_PER_CALL + 1], 2)
    assert sorted(store.heads(), key=lambda h: h.source) == heads[MAX_RECORDS_PER_CALL + 1 :]


def test_a_reader_behind_reads_what_changed_since_its_generation_from_the_log(store: ChromaStore) -> None:
    settings = StoreSettings("stand-in", 8, 300, 1, "c1")
    gens = [Generation(n, settings, None, log_id="log-a", log_from=1) for n in range(4)]
    many = [head(f"n/{i:04d}.txt", f"n{i}") for i in range(MANY)]
    store.put_heads([head("a.txt", "a"), head("b.txt", "b"), head("c.txt", "c")], 1)
    store.commit(gens[1])
    store.put_heads([head("b.txt", "b2"), *many], 2)  # an edit, and more new names than one call returns
    store.delete_heads([head("c.txt", "c")], 2)
    assert store.removed_after(1) == {"c"}  # before the commit: what a killed run would leave to clear
    store.commit(gens[2])
    assert store.removed_after(2) == set()
    put, gone = store.changes_since("log-a", 1, gens[2])
    assert sorted(h.source for h in put) == ["b.txt", *(h.source for h in many)] and gone == ["c.txt"]
    assert next(h for h in put if h.source == "b.txt").article_id == "b2"
    assert store.changes_since("log-a", 2, gens[2]) == ([], [])

    store.put_heads([head("c.txt", "c3")], 3)  # the removed name comes back
    store.commit(gens[3])
    put, gone = store.changes_since("log-a", 2, gens[3])
    assert [(h.source, h.article_id) for h in put] == [("c.txt", "c3")] and gone == []
    put, gone = store.changes_since("log-a", 1, gens[3])  # removed, then put back: only the new head
    assert ("c.txt", "c3") in [(h.source, h.article_id) for h in put] and gone == []

    # A run killed between marking a name removed and deleting its head: the head is still there,
    # so a reader must keep it (as a full listing would), and the next run removes it properly.
    store.put_heads([head("d.txt", "d")], 1)  # a head written long ago
    store._col("meta").upsert(ids=[_REMOVED_PREFIX + head_id("d.txt")], embeddings=[[1.0]], metadatas=[{"source": "d.txt", "gone": 3}])
    put, gone = store.changes_since("log-a", 2, gens[3])
    assert [h.source for h in put] == ["c.txt"] and gone == []

    # Another log (a rebuilt store), or removals forgotten past the reader: it must list every head.
    assert store.changes_since("log-b", 1, gens[3]) is None
    assert store.changes_since("", 1, gens[3]) is None
    forgot = Generation(4, settings, None, log_id="log-a", log_from=3)
    store.commit(forgot)
    assert store.counts(("meta",)) == {"meta": 3}  # the marker, c.txt's and d.txt's removals
    store.forget_removals(3)
    assert store.counts(("meta",)) == {"meta": 2}  # c.txt's, of generation 2, is forgotten
    assert store.changes_since("log-a", 1, forgot) is None
    assert store.changes_since("log-a", 2, forgot) == ([head("c.txt", "c3")], [])


def test_a_store_that_is_not_chroma_cloud_lists_in_pages_of_thousands(tmp_path: Path) -> None:
    """Each page of a listing skips the records before it again: fewer, larger pages where no quota
    forbids them (at 100,000 heads: 81 s in pages of 300, 21 s in pages of 5,000)."""
    from assistant.store import chroma

    store = open_store(Config(index_dir=tmp_path / "index"))
    heads = [head(f"{i:04d}.txt", f"id{i}") for i in range(MANY)]
    store.put_heads(heads, 1)
    calls = []
    real = store._call
    store._call = lambda fn: calls.append(fn) or real(fn)  # type: ignore[method-assign]
    assert len(store.heads()) == MANY and len(calls) == -(-MANY // chroma.LOCAL_READ_PAGE) == 1
    cloud = open_store(Config(index_dir=tmp_path / "index", chroma_url="https://api.trychroma.com"))
    assert cloud.client.is_cloud and not store.client.is_cloud


def test_metadata_values_are_capped(store: ChromaStore) -> None:
    long = head("x.txt", "id", title="t" * 10_000, duplicate_of="y" * 10_000)
    store.put_heads([long], 1)
    (got,) = store.heads()
    assert got.title == "t" * MAX_METADATA_CHARS and got.duplicate_of == "y" * MAX_METADATA_CHARS


def test_sentences_round_trip_in_text_order(store: ChromaStore) -> None:
    spans = np.asarray([(i * 10, i * 10 + 9) for i in range(MANY)], dtype=np.int64)
    vectors = EMBED.passage_vectors([str(s) for s in spans[:, 0]])
    store.put_sentences("a1", ArticleSentences(spans, vectors))
    store.put_sentences("a2", ArticleSentences(spans[:2], vectors[:2]))
    assert pack_count(MANY, EMBED.dimension) > 1  # the vectors of "a1" span several records
    assert store.has_sentences("a1", pack_count(MANY, EMBED.dimension)) and not store.has_sentences("none", 1)
    got = store.sentences(["a1", "a2", "none"])
    assert set(got) == {"a1", "a2"}
    assert np.array_equal(got["a1"].spans, spans)
    assert np.allclose(got["a1"].vectors, vectors, atol=0.01)  # quantised to int8 per vector
    assert list(got["a2"].within(0, 30)) == [0, 1]


def test_one_record_per_sentence_of_an_older_index_is_still_read_and_deleted(store: ChromaStore) -> None:
    old = store.client.api().get_or_create_collection(f"{store.client.collection}-sentences", embedding_function=None)
    spans = [(20, 29), (0, 9)]  # stored in any order, read in text order
    old.upsert(ids=[f"old:{s}-{e}" for s, e in spans], embeddings=EMBED.passage_vectors(["b", "a"]),
               metadatas=[{"article_id": "old", "start": s, "end": e} for s, e in spans])
    store = ChromaStore(store.client)  # a process opening that index
    store.put_sentences("new", ArticleSentences(np.asarray([[0, 4]]), EMBED.passage_vectors(["n"])))
    got = store.sentences(["old", "new"])
    assert np.array_equal(got["old"].spans, [[0, 9], [20, 29]])
    assert np.allclose(got["old"].vectors, EMBED.passage_vectors(["a", "b"]), atol=1e-6)
    assert store.counts()["sentences"] == 3 and store.article_ids_with("sentences") == {"old": 2, "new": 1}
    store.delete_articles(["old"])
    assert old.count() == 0 and set(store.sentences(["old", "new"])) == {"new"}


def test_sentence_vectors_are_few_records_of_bounded_size(store: ChromaStore) -> None:
    dimension = 1024  # a large model: fewer sentences per record
    spans = np.asarray([(i * 10, i * 10 + 9) for i in range(10 * per_pack(dimension) + 3)], dtype=np.int64)
    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((len(spans), dimension)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    written = store.put_sentences("big", ArticleSentences(spans, vectors))
    assert written == pack_count(len(spans), dimension) == 11 == store.counts()["sentences"]
    for _, meta in pack("big", ArticleSentences(spans, vectors)):  # Chroma Cloud's quotas
        assert len(meta) <= 32 and all(len(str(v).encode()) <= 4096 for v in meta.values())
    query = vectors[0] + rng.standard_normal(dimension).astype(np.float32) * 0.05
    query /= np.linalg.norm(query)
    moved = store.sentences(["big"])["big"].vectors @ query - vectors @ query
    assert np.abs(moved).max() < 2e-3  # what the answerer reads: cosines with the question


def test_an_incomplete_set_of_sentence_records_is_not_read(store: ChromaStore) -> None:
    spans = np.asarray([(i, i + 1) for i in range(MANY)], dtype=np.int64)
    vectors = EMBED.passage_vectors([str(i) for i in range(MANY)])
    records = pack("a1", ArticleSentences(spans, vectors))
    store._col("sentences").upsert(  # a run killed between two writes of the same article
        ids=[records[0][0]], metadatas=[records[0][1]], embeddings=[[1.0]]
    )
    assert store.sentences(["a1"]) == {} and not store.has_sentences("a1", len(records))


def test_deleting_articles_removes_their_records_only(store: ChromaStore) -> None:
    for aid, n in (("gone", MANY), ("kept", 3)):
        store.put_chunks(*chunks(aid, n))
        store.put_text(aid, f"text of {aid}")
        store.put_sentences(aid, ArticleSentences(np.asarray([[0, 4]]), EMBED.passage_vectors([aid])))
    store.delete_articles(["gone"])
    assert store.article_ids_with("chunks") == {"kept": 3}
    assert store.article_ids_with("texts") == {"kept": 1}
    assert store.article_ids_with("sentences") == {"kept": 1}


def test_drop_empties_the_archive_and_leaves_others_alone(store: ChromaStore, tmp_path: Path) -> None:
    store.put_chunks(*chunks("a1", 3))
    other = open_store(store.client.config.with_(collection=store.client.collection + "-other"))
    other.put_chunks(*chunks("b1", 2))
    store.drop()
    assert store.counts()["chunks"] == 0
    assert other.counts()["chunks"] == 2


def test_chunks_of_some_articles_are_read_in_pages(store: ChromaStore) -> None:
    for aid, n in (("big", MANY), ("small", 2), ("other", 4)):
        store.put_chunks(*chunks(aid, n))
    got = list(store.chunks_of(["big", "small"]))
    assert len(got) == MANY + 2 and {c.record.article_id for c in got} == {"big", "small"}
    assert all(c.text == f"text {c.record.article_id} {c.record.index}" for c in got)


def test_a_replica_lexical_cache_follows_the_store_article_by_article(store: ChromaStore, tmp_path: Path) -> None:
    from assistant.store.lexical_cache import open_lexical, sync_lexical

    for aid in ("a1", "a2"):
        store.put_chunks(*chunks(aid, 3))
    lexical = open_lexical(tmp_path / "replica", "archive")
    assert sync_lexical(lexical, store, {"a1", "a2"}) == (2, 0)
    assert sync_lexical(lexical, store, {"a1", "a2"}) == (0, 0)  # nothing changed: nothing read
    assert sync_lexical(lexical, store, {"a2"}) == (0, 1)
    assert lexical.article_ids() == {"a2"} and lexical.search("a1", 5) == []
    again = open_lexical(tmp_path / "replica", "archive")  # the cache survives a restart
    assert again.article_ids() == {"a2"} and again.search("a2", 5)


def test_a_damaged_lexical_cache_is_rebuilt_from_the_store(store: ChromaStore, tmp_path: Path) -> None:
    from assistant.store.lexical_cache import cache_path, open_lexical, sync_lexical

    store.put_chunks(*chunks("a1", 3))
    path = cache_path(tmp_path / "replica", "archive")
    path.parent.mkdir(parents=True)
    path.write_bytes(b"not a database" * 100)  # a file where the cache's folder goes
    lexical = open_lexical(tmp_path / "replica", "archive")
    assert lexical.path == path  # rebuilt in place, not in memory
    assert sync_lexical(lexical, store, {"a1"}) == (1, 0) and lexical.search("a1", 5)


def test_a_replica_catching_up_skips_what_another_replica_indexed_meanwhile(store: ChromaStore, tmp_path: Path) -> None:
    """Two readers sharing one cache folder (two `serve` on one machine) both catch up at start:
    the second lists the cache before the first has written, and reads from the store only the
    articles still missing once the cache's write lock is its own."""
    from assistant.lexical import LexicalIndex
    from assistant.store.lexical_cache import open_lexical, sync_lexical

    for aid in ("a1", "a2", "a3"):
        store.put_chunks(*chunks(aid, 3))
    first, second = open_lexical(tmp_path / "replica", "archive"), open_lexical(tmp_path / "replica", "archive")
    listing = second.article_ids

    def listed_then_overtaken() -> set[str]:
        held = listing()  # the second replica has listed the cache ...
        assert sync_lexical(first, store, {"a1", "a2"}) == (2, 0)  # ... and the first writes meanwhile
        read.clear()  # what the first replica read
        return held

    second.article_ids = listed_then_overtaken  # type: ignore[method-assign]
    read: list[str] = []
    chunks_of = store.chunks_of
    store.chunks_of = lambda ids: (read.extend(ids), chunks_of(ids))[1]  # type: ignore[method-assign]
    assert sync_lexical(second, store, {"a1", "a2", "a3"}) == (1, 0)
    assert read == ["a3"]
    assert LexicalIndex.article_ids(second) == {"a1", "a2", "a3"} and second.search("a3", 5)


def test_an_embedded_store_written_by_another_process_is_loaded_again(tmp_path: Path) -> None:
    """Chroma keeps an embedded store's vector index in each process's memory (chromadb #3792):
    a generation this process did not write makes every client of the folder load it again, and
    the copy loaded before is stopped once the calls that began on it have ended."""
    config = Config(index_dir=tmp_path / "index")
    here, other = open_store(config), open_store(config)
    generation = Generation(1, StoreSettings("stand-in", 8, 300, 1, "c1"), "2025-01-01T00:00:00+00:00")
    here.commit(generation)
    assert other.generation() == generation  # committed in this process: nothing to load again
    before = here.client.reloads
    old_meta = here._col("meta")

    def another_process_commits_during_this_call() -> int:
        # What another process's run leaves: a new marker in Chroma's SQLite (written here through
        # the same client, then read as if this process had not written it).
        from assistant.store import chroma

        here.commit(Generation(2, generation.settings, "2025-01-02T00:00:00+00:00"))
        chroma._SEEN[here.location] = generation
        assert other.generation().number == 2  # seen by another store object: both load again
        return old_meta.count()  # the call that began before the reload still ends on the old copy

    assert here._call(another_process_commits_during_this_call) == 1
    assert here.client.reloads == other.client.reloads == before + 1
    with pytest.raises(AttributeError):
        old_meta.count()  # stopped once that call ended: its memory is freed now
    assert here.generation().number == 2 and here._col("meta").count() == 1  # the new copy


def test_a_store_loaded_before_a_reload_is_stopped_while_later_calls_are_in_flight(tmp_path: Path) -> None:
    """A page that never pauses must not hold every copy it ever loaded: the copy loaded before a
    reload waits only for the calls begun before that reload, not for those begun after it."""
    import threading

    config = Config(index_dir=tmp_path / "index")
    here = open_store(config)
    generation = Generation(1, StoreSettings("stand-in", 8, 300, 1, "c1"), "2025-01-01T00:00:00+00:00")
    here.commit(generation)
    old_meta = here._col("meta")
    later_call_began, let_later_call_end = threading.Event(), threading.Event()

    def a_later_call() -> int:
        later_call_began.set()
        assert let_later_call_end.wait(30)
        return here._col("meta").count()

    later: list[int] = []
    thread = threading.Thread(target=lambda: later.append(here._call(a_later_call)))

    def another_process_commits_during_this_call() -> int:
        from assistant.store import chroma

        here.commit(Generation(2, generation.settings, "2025-01-02T00:00:00+00:00"))
        chroma._SEEN[here.location] = generation
        assert here.generation().number == 2  # loaded again, this call still in flight
        thread.start()  # a call on the new copy, in flight past the end of this one
        assert later_call_began.wait(30)
        return old_meta.count()

    try:
        assert here._call(another_process_commits_during_this_call) == 1
        with pytest.raises(AttributeError):
            old_meta.count()  # stopped when the call begun before the reload ended, the later one still running
    finally:
        let_later_call_end.set()
        if thread.ident is not None:
            thread.join(30)
    assert later == [1]


def _reloaded_by_another_process(store: ChromaStore, generation: Generation, number: int) -> None:
    """What another process's run leaves (a new marker), then seen by this one: the store is loaded again."""
    from assistant.store import chroma

    store.commit(Generation(number, generation.settings, f"2025-01-0{number}T00:00:00+00:00"))
    chroma._SEEN[store.location] = generation
    assert store.generation().number == number


def test_a_collection_looked_up_on_the_old_copy_is_not_kept_after_a_reload(tmp_path: Path) -> None:
    """A search's first call looks its collection up on the store as loaded; another thread reloads
    meanwhile: that collection must not serve later calls, whose copy is stopped once the search ends."""
    import threading

    here = open_store(Config(index_dir=tmp_path / "index"))
    generation = Generation(1, StoreSettings("stand-in", 8, 300, 1, "c1"), "2025-01-01T00:00:00+00:00")
    here.commit(generation)
    api = here.client.api()
    lookup, looked_up, go_on = api.get_or_create_collection, threading.Event(), threading.Event()

    def slow_lookup(*args: object, **kwargs: object) -> object:
        collection = lookup(*args, **kwargs)
        looked_up.set()
        assert go_on.wait(30)
        return collection

    api.get_or_create_collection = slow_lookup
    search = threading.Thread(target=lambda: here._call(lambda: here._col("chunks")))
    search.start()
    try:
        assert looked_up.wait(30)
        api.get_or_create_collection = lookup
        _reloaded_by_another_process(here, generation, 2)
        here._call(lambda: here._col("meta"))  # another call meanwhile, on the new copy
    finally:
        go_on.set()
        search.join(30)
    assert here._call(lambda: here._col("chunks").count()) == 0  # not the stopped copy's collection


def test_a_count_by_article_goes_on_across_a_reload_between_two_pages(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A long scan (`status`'s check counts every record, page by page) outlives a reload between two pages."""
    from assistant.store import chroma

    here = open_store(Config(index_dir=tmp_path / "index"))
    generation = Generation(1, StoreSettings("stand-in", 8, 300, 1, "c1"), "2025-01-01T00:00:00+00:00")
    here.commit(generation)
    here.put_texts([(f"a{i}", "x") for i in range(3)])
    monkeypatch.setattr(chroma, "MAX_RECORDS_PER_CALL", 1)
    monkeypatch.setattr(chroma, "LOCAL_READ_PAGE", 1)
    call, pages_read = here._call, []

    def reload_after_the_first_page(fn):  # type: ignore[no-untyped-def]
        got = call(fn)
        pages_read.append(got)
        if len(pages_read) == 1:  # between two pages, nothing in flight: the old copy is stopped at once
            _reloaded_by_another_process(here, generation, 2)
        return got

    monkeypatch.setattr(here, "_call", reload_after_the_first_page)
    assert here.article_ids_with("texts") == {"a0": 1, "a1": 1, "a2": 1}


def test_the_sentences_of_an_older_index_deleted_by_another_run_read_as_none_left(tmp_path: Path) -> None:
    """A page reading an index written before packs while another process's run repacks its sentences
    and deletes their old collection: none are left, which is not a damaged store."""
    config = Config(index_dir=tmp_path / "index")
    store = open_store(config)
    store._col("meta")
    name = f"{config.collection}-sentences"  # the one-record-per-sentence collection of older indexes
    rows = store.client.api().get_or_create_collection(name, embedding_function=None)
    rows.add(ids=["a1:0-5"], embeddings=[[1.0, 0.0]], metadatas=[{"article_id": "a1", "start": 0, "end": 5}])
    assert store.legacy_sentence_articles() == ["a1"]  # seen, and remembered
    store.client.api().delete_collection(name)  # what the other run's repack does once they are packed
    assert store.counts()["sentences"] == 0
    assert store.sentences(["a1"]) == {} and store.article_ids_with("sentences") == {}
    store.delete_legacy_sentences(["a1"])
    store.delete_articles(["a1"])
    assert store.legacy_sentence_articles() == []


def test_the_sentences_of_an_older_index_are_read_across_a_reload_between_two_pages(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The one-record-per-sentence rows of an index written before packs are read page by page too."""
    from assistant.store import chroma

    config = Config(index_dir=tmp_path / "index")
    here = open_store(config)
    generation = Generation(1, StoreSettings("stand-in", 2, 300, 1, "c1"), "2025-01-01T00:00:00+00:00")
    here.commit(generation)
    rows = here.client.api().get_or_create_collection(f"{config.collection}-sentences", embedding_function=None)
    rows.add(ids=[f"a{i}:0-5" for i in range(3)], embeddings=[[1.0, 0.0]] * 3,
             metadatas=[{"article_id": f"a{i}", "start": 0, "end": 5} for i in range(3)])
    monkeypatch.setattr(chroma, "MAX_RECORDS_PER_CALL", 1)
    monkeypatch.setattr(chroma, "LOCAL_READ_PAGE", 1)
    call, pages_read, reloads = here._call, [], iter([2, 3])

    def reload_after_the_first_page(fn):  # type: ignore[no-untyped-def]
        got = call(fn)
        if isinstance(got, dict) and "ids" in got:
            pages_read.append(got)
            if len(pages_read) == 1:
                _reloaded_by_another_process(here, generation, next(reloads))
        return got

    monkeypatch.setattr(here, "_call", reload_after_the_first_page)
    assert here.article_ids_with("sentences") == {"a0": 1, "a1": 1, "a2": 1}
    pages_read.clear()
    assert sorted(here.legacy_sentences(["a0", "a1", "a2"])) == ["a0", "a1", "a2"]
