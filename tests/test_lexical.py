"""BM25 per language (SQLite FTS5 + Snowball): search, idf, article-by-article updates and persistence."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.lexical import LexicalIndex, weighted_coverage
from assistant.text import lexical_tokens

CHUNKS = [
    ("fr1", "fr", "Le parc éolien de Bretagne comptera 62 éoliennes flottantes."),
    ("fr2", "fr", "Les ruches urbaines de Paris ont produit une tonne de miel."),
    ("fr3", "fr", "La mairie de Paris a voté le budget des écoles."),
    ("en1", "en", "The Brittany wind farm will have 62 floating turbines."),
]


@pytest.fixture(scope="module")
def lexical() -> LexicalIndex:
    return LexicalIndex.build(CHUNKS)


def test_search_ranks_the_chunk_holding_the_terms_first(lexical: LexicalIndex) -> None:
    hits = lexical.search("Combien d'éoliennes en Bretagne ?", 3)
    assert hits[0][0] == "fr1" and hits[0][1] == 1.0  # scores normalised per sub-index
    assert all(0 < score <= 1 for _, score in hits)
    assert lexical.search("miel des ruches", 1)[0][0] == "fr2"


def test_each_language_is_searched_with_its_own_stemmer(lexical: LexicalIndex) -> None:
    ids = [cid for cid, _ in lexical.search("turbines Brittany", 4)]
    assert ids[0] == "en1"
    assert "en1" in [cid for cid, _ in lexical.search("62", 4)] and "fr1" in [cid for cid, _ in lexical.search("62", 4)]


def test_a_question_with_no_known_term_finds_nothing(lexical: LexicalIndex) -> None:
    assert lexical.search("zzyzx quux", 5) == []


def test_idf_is_higher_for_rarer_terms_and_highest_for_absent_ones(lexical: LexicalIndex) -> None:
    paris, miel, absent = (lexical_tokens(w, "fr")[0] for w in ("Paris", "miel", "Zéphyrine"))
    idf = lexical.idf("fr", [paris, miel, absent])
    assert idf[miel] > idf[paris]  # one chunk against two
    assert idf[absent] > idf[miel]  # the ceiling: no chunk holds it
    assert lexical.idf("de", ["x"]) == {"x": 5.0}  # no sub-index for that language


def test_adding_and_removing_an_article_touches_only_its_chunks(tmp_path: Path) -> None:
    path = tmp_path / "lexical.sqlite"
    index = LexicalIndex(path)
    index.add("a1", CHUNKS[:2])
    index.add("a2", CHUNKS[2:])
    assert index.article_ids() == {"a1", "a2"}
    assert lexical_ids(index, "mairie Paris budget") == ["fr3", "fr2"]
    index.remove(["a2"])
    assert lexical_ids(index, "mairie Paris budget") == ["fr2"]  # a2's chunks are gone, a1's stay
    assert index.document_frequency("fr", lexical_tokens("Paris", "fr")[0]) == 1
    index.add("a1", [("fr9", "fr", "Les ruches du Louvre.")])  # re-adding replaces the article's chunks
    assert lexical_ids(index, "ruches") == ["fr9"]
    index.close()
    reopened = LexicalIndex(path)  # the file is the index: nothing to rebuild
    assert reopened.article_ids() == {"a1"} and lexical_ids(reopened, "ruches Louvre") == ["fr9"]


def test_a_thousand_articles_are_added_and_removed_one_at_a_time(tmp_path: Path) -> None:
    index = LexicalIndex(tmp_path / "lexical.sqlite")
    for n in range(1000):
        index.add(f"a{n}", [(f"c{n}", "fr", f"La commune de Ville{n} agrandit son port de plaisance.")])
    assert lexical_ids(index, "Ville517 port")[0] == "c517"
    index.remove([f"a{n}" for n in range(0, 1000, 2)])
    assert len(index.article_ids()) == 500 and lexical_ids(index, "Ville516") == []
    assert lexical_ids(index, "Ville517")[0] == "c517"


def lexical_ids(index: LexicalIndex, question: str) -> list[str]:
    return [cid for cid, _ in index.search(question, 10)]


def test_weighted_coverage() -> None:
    assert weighted_coverage({"a": 3.0, "b": 1.0}, {"a"}) == 0.75
    assert weighted_coverage({}, {"a"}) == 0.0


def test_idf_follows_changes_made_here_and_by_another_process(tmp_path: Path) -> None:
    path = tmp_path / "lexical.sqlite"
    reader = LexicalIndex(path)
    reader.add("a", [("a-0", "fr", "Le port de Brest"), ("a-1", "fr", "La rade de Brest")])
    port = lexical_tokens("port", "fr")[0]
    first = reader.idf("fr", [port])[port]
    writer = LexicalIndex(path)  # the same cache file, another connection (another process)
    writer.add("b", [(f"b-{i}", "fr", f"Une phrase numéro {i}") for i in range(20)])
    grown = reader.idf("fr", [port])[port]
    assert grown > first  # the count of chunks moved with the other connection's write
    assert grown == pytest.approx(LexicalIndex(path).idf("fr", [port])[port])
    reader.remove(["b"])
    assert reader.idf("fr", [port])[port] == pytest.approx(first)  # and with this connection's own
