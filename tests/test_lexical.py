"""BM25 per language (bm25s + Snowball): search, idf and persistence."""

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


def test_save_and_load_give_the_same_results(lexical: LexicalIndex, tmp_path: Path) -> None:
    lexical.save(tmp_path / "lex")
    loaded = LexicalIndex.load(tmp_path / "lex")
    for question in ("éoliennes Bretagne", "wind turbines", "budget des écoles"):
        assert loaded.search(question, 4) == lexical.search(question, 4)


def test_weighted_coverage() -> None:
    assert weighted_coverage({"a": 3.0, "b": 1.0}, {"a"}) == 0.75
    assert weighted_coverage({}, {"a"}) == 0.0
