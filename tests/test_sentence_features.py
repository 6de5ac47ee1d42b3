"""Unit tests of the answerer's features: real BM25 statistics, hand-made passages."""

from __future__ import annotations

import numpy as np
import pytest

from assistant.answer_types import NUMBER, PERSON
from assistant.lexical import LexicalIndex
from assistant.models import Passage
from assistant.sentence_features import (
    SENTENCE_FEATURES,
    corpus_knowledge,
    candidates,
    question_terms,
)

TEXT = (
    "OpenAI et le Pentagone\n\n"
    "OpenAI a signé en juin un contrat de 200 millions de dollars avec le Pentagone. "
    "Cette offre marque une première pour l'entreprise. "
    "Le ministère de la Défense n'a pas commenté."
)
COL = {name: i for i, name in enumerate(SENTENCE_FEATURES)}


@pytest.fixture(scope="module")
def lexical() -> LexicalIndex:
    return LexicalIndex.build([
        ("c1", "fr", TEXT),
        ("c2", "fr", "Anthropic propose Claude aux agences fédérales pour un dollar."),
        ("c3", "fr", "La GSA gère les achats publics du gouvernement américain."),
    ])


def passage(start: int = 0, end: int | None = None, dense: float = 0.85) -> Passage:
    end = len(TEXT) if end is None else end
    return Passage("c1", "a.txt", "OpenAI et le Pentagone", None, "fr", TEXT[start:end], start, end, 1.0, dense)


def features_of(question: str, lexical: LexicalIndex) -> dict[str, np.ndarray]:
    q = question_terms(question, "fr")
    found = candidates(q, [passage()], lexical, lambda p: ("art", TEXT), None)
    return {c.text[:12]: c.features for c in found}


def test_question_terms_keep_names_not_question_words() -> None:
    q = question_terms("Qui a signé un contrat avec le Pentagone et OpenAI ?", "fr")
    assert q.kind == PERSON
    assert q.names == ("pentagone", "openai")
    assert question_terms("Combien coûte ChatGPT Enterprise ?", "fr").kind == NUMBER


def test_every_sentence_of_the_passage_is_a_candidate_once(lexical: LexicalIndex) -> None:
    q = question_terms("Quel est le montant du contrat avec le Pentagone ?", "fr")
    twice = [passage(), passage()]
    found = candidates(q, twice, lexical, lambda p: ("art", TEXT), None)
    assert [c.text for c in found] == [
        "OpenAI et le Pentagone",
        "OpenAI a signé en juin un contrat de 200 millions de dollars avec le Pentagone.",
        "Cette offre marque une première pour l'entreprise.",
        "Le ministère de la Défense n'a pas commenté.",
    ]
    for c in found:
        assert TEXT[c.start : c.end] == c.text
        assert c.features.shape == (len(SENTENCE_FEATURES),)


def test_features_tell_the_answer_from_its_neighbours(lexical: LexicalIndex) -> None:
    rows = features_of("Quel est le montant du contrat avec le Pentagone ?", lexical)
    answer, anaphor, heading = rows["OpenAI a sig"], rows["Cette offre "], rows["OpenAI et le"]
    assert answer[COL["lex_cov"]] > anaphor[COL["lex_cov"]]
    assert answer[COL["type_present"]] == 1 and anaphor[COL["type_absent"]] == 1
    assert anaphor[COL["anaphor_start"]] == 1 and answer[COL["anaphor_start"]] == 0
    assert heading[COL["is_heading"]] == 1 and heading[COL["is_title"]] == 1 and answer[COL["is_heading"]] == 0
    assert answer[COL["lex_gap"]] == 0.0 and anaphor[COL["lex_gap"]] > 0
    assert answer[COL["names_cov"]] == 1.0


def test_sentence_vectors_are_used_when_given(lexical: LexicalIndex) -> None:
    q = question_terms("Qui a signé le contrat ?", "fr")
    s = TEXT.index("OpenAI a signé")
    e = TEXT.index("Pentagone.") + len("Pentagone.")
    found = candidates(q, [passage(dense=0.80)], lexical, lambda p: ("art", TEXT), lambda a, st, en: {(s, e): 0.90})
    by_start = {c.start: c for c in found}
    assert by_start[s].cos == pytest.approx(0.90)
    assert all(c.cos == pytest.approx(0.80) for c in found if c.start != s)  # the passage's, when no vector


def test_corpus_knowledge_is_zero_for_gibberish_and_one_for_known_words(lexical: LexicalIndex) -> None:
    gibberish = corpus_knowledge(question_terms("zzzz qqqq xxxx", "en"), lexical)
    assert gibberish.known_share == 0.0
    known = corpus_knowledge(question_terms("Quel contrat avec le Pentagone ?", "fr"), lexical)
    assert known.known_share == 1.0 and known.known_names_share == 1.0
    unknown_name = corpus_knowledge(question_terms("Quel contrat pour Mistral ?", "fr"), lexical)
    assert unknown_name.known_names_share == 0.0


def test_no_passages_no_candidates(lexical: LexicalIndex) -> None:
    assert candidates(question_terms("Qui ?", "fr"), [], lexical, lambda p: ("art", TEXT), None) == []


def test_alignment_follows_the_question_word_order_and_word_forms() -> None:
    from assistant.sentence_features import ALIGNMENT_FEATURES, alignment_rows

    col = {name: i for i, name in enumerate(ALIGNMENT_FEATURES)}
    q = question_terms("Quand la guerre napoléonienne a-t-elle commencé en Espagne ?", "fr")
    rows = alignment_rows(q, [
        ("La guerre napoléonienne commença en Espagne en 1808.", "fr"),
        ("Napoléon entra en Espagne ; la guerre suivit.", "fr"),
        ("Le climat de la région est doux.", "fr"),
    ])
    same_order, other_form, unrelated = rows
    assert same_order[col["bigram_cov"]] > other_form[col["bigram_cov"]] == 0.0
    assert other_form[col["prefix_cov"]] > unrelated[col["prefix_cov"]] == 0.0  # "napol…" matches
    assert same_order[col["bigram_gap"]] == 0.0 and unrelated[col["bigram_gap"]] > 0
    assert unrelated[col["question_share"]] == 0.0 and unrelated[col["match_density"]] == 0.0


def test_cached_candidates_get_the_alignment_features_once(lexical: LexicalIndex) -> None:
    from assistant.sentence_features import BASE_SENTENCE_FEATURES, with_alignment

    q = question_terms("Quel est le montant du contrat avec le Pentagone ?", "fr")
    found = candidates(q, [passage()], lexical, lambda p: ("art", TEXT), None)
    full = [c.features.copy() for c in found]
    for c in found:  # as cached before the alignment features existed
        c.features = c.features[: len(BASE_SENTENCE_FEATURES)]
    with_alignment(q, found)
    with_alignment(q, found)  # a second call changes nothing
    for c, expected in zip(found, full):
        assert np.array_equal(c.features, expected)


def question_features(question: str, lexical: LexicalIndex) -> dict[str, float]:
    from assistant.sentence_features import QUESTION_FEATURES, question_row

    q = question_terms(question, "fr")
    found = candidates(q, [passage()], lexical, lambda p: ("art", TEXT), None)
    ranked = sorted(found, key=lambda c: -c.features[COL["lex_cov"]])  # best-covering sentence first
    row = question_row(q, ranked, [0.5] * len(ranked), corpus_knowledge(q, lexical))
    return dict(zip(QUESTION_FEATURES, row.tolist()))


def test_a_question_word_no_passage_holds_is_counted(lexical: LexicalIndex) -> None:
    held = question_features("Quel contrat OpenAI a-t-il signé avec le Pentagone ?", lexical)
    assert held["unseen_share_top"] == 0.0
    # "contrats" and "signés" share their first five letters with the passage's words; "Mistral" does not
    swapped = question_features("Quels contrats Mistral a-t-il signés avec le Pentagone ?", lexical)
    assert swapped["unseen_share_top"] == pytest.approx(1 / 4)  # contrats, mistral, signés, pentagone


def test_a_count_not_beside_the_counted_noun_is_flagged(lexical: LexicalIndex) -> None:
    # The passage's number is an amount of dollars, not a count of contracts or employees.
    beside = question_features("Combien de millions de dollars OpenAI a-t-il obtenus du Pentagone ?", lexical)
    assert beside["count_not_beside_best"] == 0.0  # "200 millions"
    away = question_features("Combien d'employés du Pentagone ont signé le contrat ?", lexical)
    assert away["count_not_beside_best"] == 1.0
    assert question_features("Qui a signé le contrat ?", lexical)["count_not_beside_best"] == 0.0
