"""How the extractive answer is composed from ranked sentences: the actor rule, lead-ins and the second sentence.

Real BM25 statistics and the real feature code over a hand-made article; the sentence
probabilities are set by hand, since what is tested is the composition, not the model.
"""

from __future__ import annotations

import pytest

from assistant.answer import MONEY, ExtractiveAnswerer, ExtractiveResult, Ranking, cited_first, selector_first, unmet
from assistant.lexical import LexicalIndex
from assistant.models import Citation, Passage
from assistant.selector import NEVER, AnswererModel
from assistant.sentence_features import candidates, corpus_knowledge, question_terms

TEXT = (
    "OpenAI a signé en juin un contrat de 200 millions de dollars avec le Pentagone. "
    "Cette offre marque une première pour la défense américaine. "
    "Le ministère de la Défense n'a pas commenté."
)


@pytest.fixture(scope="module")
def lexical() -> LexicalIndex:
    return LexicalIndex.build([
        ("c1", "fr", TEXT),
        ("c2", "fr", "Anthropic propose Claude aux agences fédérales pour un dollar."),
    ])


def compose(
    lexical: LexicalIndex, question: str, probs: dict[str, float], swap: float, ratio: float = 0.9,
    third: float = NEVER, text: str = TEXT,
) -> list[str]:
    passage = Passage("c1", "a.txt", "Contrat", None, "fr", text, 0, len(text), 1.0, 0.85)
    q = question_terms(question, "fr")
    found = candidates(q, [passage], lexical, lambda p: ("art", text), None)
    ranked = sorted(found, key=lambda c: -probs[c.text[:11]])
    model = AnswererModel(None, None, 0.3, ratio, 0.0, {}, {}, swap, third)  # type: ignore[arg-type]
    answerer = ExtractiveAnswerer(lexical, lambda p: ("art", text), None, model)
    ranking = Ranking(q, ranked, [probs[c.text[:11]] for c in ranked], 0.9, corpus_knowledge(q, lexical))
    return [group[0][0].text for group in answerer._choose(ranking)]


PROBS = {"OpenAI a si": 0.5, "Cette offre": 0.6, "Le ministèr": 0.05}


def test_an_anaphoric_best_sentence_is_kept_after_the_sentence_naming_its_subject(lexical: LexicalIndex) -> None:
    texts = compose(lexical, "Qui fait une première pour la défense américaine ?", PROBS, swap=1.01, ratio=0.3)
    assert texts[0].startswith("OpenAI a signé") and texts[1].startswith("Cette offre"), texts
    assert len(texts) == 2  # the naming sentence is not quoted twice


def test_a_close_sentence_naming_the_actor_replaces_the_anaphoric_one_when_the_rule_allows(lexical: LexicalIndex) -> None:
    texts = compose(lexical, "Qui fait une première pour la défense américaine ?", PROBS, swap=0.8, ratio=0.3)
    assert texts == ["OpenAI a signé en juin un contrat de 200 millions de dollars avec le Pentagone."]


def test_a_second_sentence_needs_to_be_close_to_the_best(lexical: LexicalIndex) -> None:
    probs = {"OpenAI a si": 0.6, "Cette offre": 0.05, "Le ministèr": 0.3}
    close = compose(lexical, "Quel est le montant du contrat ?", probs, swap=1.01, ratio=0.4)
    far = compose(lexical, "Quel est le montant du contrat ?", probs, swap=1.01, ratio=0.6)
    assert close == [TEXT.split(". ")[0] + ".", "Le ministère de la Défense n'a pas commenté."]
    assert far == [TEXT.split(". ")[0] + "."]


FOUR = (
    "OpenAI a signé en juin un contrat avec le Pentagone. "
    "Anthropic propose Claude aux agences pour un dollar. "
    "Google a ajouté Gemini au catalogue de la GSA. "
    "Le ministère de la Défense n'a pas commenté."
)


def test_a_further_sentence_may_lean_on_the_sentence_quoted_just_before_it(lexical: LexicalIndex) -> None:
    # "Cette offre…" follows the best sentence in the article: its anaphor reads right there.
    probs = {"OpenAI a si": 0.6, "Cette offre": 0.4, "Le ministèr": 0.05}
    after_best = compose(lexical, "Quel contrat marque une première pour la défense ?", probs, swap=NEVER, ratio=0.5)
    assert [t[:11] for t in after_best] == ["OpenAI a si", "Cette offre"]
    # Not after another sentence, and never for a who-question, which needs a name of its own.
    probs = {"OpenAI a si": 0.05, "Cette offre": 0.4, "Le ministèr": 0.6}
    elsewhere = compose(lexical, "Quel contrat marque une première pour la défense ?", probs, swap=NEVER, ratio=0.5)
    assert [t[:11] for t in elsewhere] == ["Le ministèr"]
    probs = {"OpenAI a si": 0.6, "Cette offre": 0.4, "Le ministèr": 0.05}
    who = compose(lexical, "Qui marque une première pour la défense ?", probs, swap=NEVER, ratio=0.5)
    assert [t[:11] for t in who] == ["OpenAI a si"]
    # Two sentences back is not "just before": the anaphor would read as the one between.
    three = TEXT.replace("Le ministère de la Défense n'a pas commenté.", "Elle sera reconduite en 2026.")
    probs = {"OpenAI a si": 0.6, "Cette offre": 0.01, "Elle sera r": 0.4}
    assert [t[:11] for t in compose(lexical, "Quel contrat sera reconduit ?", probs, swap=NEVER, ratio=0.5, text=three)] == [
        "OpenAI a si"]


def test_a_sentence_leaning_on_a_quoted_one_is_placed_right_after_it(lexical: LexicalIndex) -> None:
    text = ("OpenAI a signé en juin un contrat avec le Pentagone. "
            "Cette offre marque une première pour la défense américaine. "
            "Google a aussi signé un contrat pour la défense avec la marine.")
    probs = {"OpenAI a si": 0.6, "Cette offre": 0.45, "Google a au": 0.5}
    texts = compose(lexical, "Quel contrat marque une première pour la défense ?", probs, swap=NEVER, ratio=0.5,
                    third=0.5, text=text)
    assert [t[:11] for t in texts] == ["OpenAI a si", "Cette offre", "Google a au"]


SAME = (
    "OpenAI Public Sector a conclu un contrat avec le Pentagone pour la défense. "
    "Le contrat avec le Pentagone lie OpenAI Public Sector, entité chargée des relations institutionnelles, à la défense."
)


def test_a_sentence_on_the_same_fact_is_added_when_it_holds_more_of_what_was_asked(lexical: LexicalIndex) -> None:
    probs = {"OpenAI Publ": 0.6, "Le contrat ": 0.5}
    asked = compose(lexical, "Quelles relations OpenAI Public Sector entretient-il avec le Pentagone ?", probs,
                    swap=NEVER, ratio=0.5, text=SAME)
    assert [t[:11] for t in asked] == ["OpenAI Publ", "Le contrat "]
    restated = compose(lexical, "Quel contrat OpenAI Public Sector a-t-il conclu avec le Pentagone ?", probs,
                       swap=NEVER, ratio=0.5, text=SAME)
    assert [t[:11] for t in restated] == ["OpenAI Publ"]


def test_a_third_sentence_is_quoted_only_when_it_reaches_its_own_ratio(lexical: LexicalIndex) -> None:
    probs = {"OpenAI a si": 0.6, "Anthropic p": 0.4, "Google a aj": 0.35, "Le ministèr": 0.05}
    question = "Quelles entreprises ont des accords avec le gouvernement ?"
    two = compose(lexical, question, probs, swap=NEVER, ratio=0.5, third=0.7, text=FOUR)
    three = compose(lexical, question, probs, swap=NEVER, ratio=0.5, third=0.55, text=FOUR)
    assert [t[:11] for t in two] == ["OpenAI a si", "Anthropic p"]
    assert [t[:11] for t in three] == ["OpenAI a si", "Anthropic p", "Google a aj"]
    # never more than three, however close the rest
    probs["Le ministèr"] = 0.34
    assert len(compose(lexical, question, probs, swap=NEVER, ratio=0.1, third=0.1, text=FOUR)) == 3


LEAD = (
    "Le contrat est signé. Un dollar. C’est ce que coûteront les modèles d’OpenAI à l’administration. "
    "Le ministère de la Défense n’a pas commenté.\n\nDeux dollars.\n\nGoogle a ajouté Gemini au catalogue."
)
LEAD_PROBS = {"Le contrat ": 0.1, "Un dollar.": 0.2, "C’est ce qu": 0.1, "Le ministèr": 0.05, "Deux dollar": 0.01, "Google a aj": 0.01}


def test_a_lead_in_is_quoted_with_the_sentence_it_introduces_and_that_sentence_with_its_lead_in(lexical: LexicalIndex) -> None:
    question = "Combien coûtent les modèles d’OpenAI ?"
    after = compose(lexical, question, LEAD_PROBS, swap=NEVER, ratio=0.9, text=LEAD)
    assert after == ["Un dollar.", "C’est ce que coûteront les modèles d’OpenAI à l’administration."]
    before = compose(lexical, question, {**LEAD_PROBS, "Un dollar.": 0.01, "C’est ce qu": 0.3}, swap=NEVER, ratio=0.9, text=LEAD)
    assert before == after  # in the article's order, each sentence once
    # A lead-in alone in its paragraph introduces nothing of the next one.
    alone = compose(lexical, question, {**LEAD_PROBS, "Deux dollar": 0.5}, swap=NEVER, ratio=0.9, text=LEAD)
    assert alone == ["Deux dollars."]
    # A sentence of more than three words stands on its own: nothing is added either way.
    plain = compose(lexical, question, {**LEAD_PROBS, "Le ministèr": 0.5}, swap=NEVER, ratio=0.9, text=LEAD)
    assert plain == ["Le ministère de la Défense n’a pas commenté."]


def test_a_lead_in_outside_the_passage_is_quoted_once_within_a_widened_passage(lexical: LexicalIndex) -> None:
    # Chunks overlap: the retriever's first passage may begin with the sentence that goes on from the lead-in.
    at = LEAD.index("C’est")
    passage = Passage("c1", "a.txt", "Contrat", None, "fr", LEAD[at:], at, len(LEAD), 1.0, 0.85)
    earlier = Passage("c0", "a.txt", "Contrat", None, "fr", LEAD[:at], 0, at, 0.9, 0.8)
    question = "Combien coûtent les modèles d’OpenAI ?"
    q = question_terms(question, "fr")
    found = candidates(q, [passage, earlier], lexical, lambda p: ("art", LEAD), None)
    probs = {"C’est ce qu": 0.5, "Un dollar.": 0.45}
    ranked = sorted(found, key=lambda c: -probs.get(c.text[:11], 0.01))
    model = AnswererModel(None, None, 0.3, 0.5, 0.0, {}, {}, NEVER, NEVER)  # type: ignore[arg-type]
    answerer = ExtractiveAnswerer(lexical, lambda p: ("art", LEAD), None, model)
    ranking = Ranking(q, ranked, [probs.get(c.text[:11], 0.01) for c in ranked], 0.9, corpus_knowledge(q, lexical))
    groups = answerer._choose(ranking)
    assert [g[0][0].text[:11] for g in groups] == ["Un dollar.", "C’est ce qu"]
    for group in groups:
        cand = group[0][0]
        assert LEAD[cand.start:cand.end] == cand.text
        assert cand.passage.start <= cand.start and cand.end <= cand.passage.end
        assert cand.passage.text == LEAD[cand.passage.start:cand.passage.end]
    # Read with the article, the measure stands before the sentence whichever passage holds it.
    first = next(c for c in found if c.passage is passage and c.text.startswith("C’est"))
    assert unmet(question, [first], lambda p: ("art", LEAD)) is None
    assert unmet(question, [first]) == MONEY  # the passage alone does not hold the lead-in


def test_a_lead_in_does_not_keep_out_a_further_sentence_on_another_fact(lexical: LexicalIndex) -> None:
    text = LEAD.replace("Le ministère de la Défense n’a pas commenté.", "Anthropic facturera Claude aux agences un dollar par an.")
    probs = {**LEAD_PROBS, "Anthropic f": 0.19}
    texts = compose(lexical, "Combien coûtent les modèles d’OpenAI ?", probs, swap=NEVER, ratio=0.9, text=text)
    assert [t[:11] for t in texts] == ["Un dollar.", "C’est ce qu", "Anthropic f"]


def test_the_measure_asked_for_may_stand_in_the_lead_in_of_the_quoted_sentence(lexical: LexicalIndex) -> None:
    passage = Passage("c1", "a.txt", "Contrat", None, "fr", LEAD, 0, len(LEAD), 1.0, 0.85)
    question = "Combien coûtent les modèles d’OpenAI ?"
    found = candidates(question_terms(question, "fr"), [passage], lexical, lambda p: ("art", LEAD), None)
    by_start = {c.text[:11]: c for c in found}
    assert unmet(question, [by_start["C’est ce qu"]]) is None  # "Un dollar." before it
    assert unmet(question, [by_start["Le ministèr"]]) == MONEY


# --- the passages listed with an answer -------------------------------------------------------

def _passages() -> list[Passage]:
    return [Passage(f"c{i}", f"{name}.txt", name, None, "fr", "x" * 100, 100 * i, 100 * i + 100, 1.0 - i / 10)
            for i, name in enumerate(["a", "b", "c", "d"])]


def _quote(source: str, start: int) -> Citation:
    return Citation(id=1, source=source, title="", date=None, passage="", quote="x", start=start, end=start + 10, score=0.5)


def test_the_passage_of_the_first_quote_is_listed_first_and_the_rest_keep_their_order() -> None:
    passages = _passages()
    result = ExtractiveResult("x [1]", False, [_quote("c.txt", 210), _quote("a.txt", 10)], 0.9)
    listed = result.to_answer("q", passages, k=3).retrieved
    assert [p.source for p in listed] == ["c.txt", "a.txt", "b.txt"]
    # A passage beyond k that the answer quotes is listed all the same.
    listed = ExtractiveResult("x [1]", False, [_quote("d.txt", 305)], 0.9).to_answer("q", passages, k=2).retrieved
    assert [p.source for p in listed] == ["d.txt", "a.txt"]


def test_a_refusal_or_a_quote_outside_the_passages_keeps_the_retrievers_order() -> None:
    passages = _passages()
    refused = ExtractiveResult("no", True, [], 0.1).to_answer("q", passages, k=3).retrieved
    assert [p.source for p in refused] == ["a.txt", "b.txt", "c.txt"]
    elsewhere = ExtractiveResult("x [1]", False, [_quote("c.txt", 150)], 0.9).to_answer("q", passages, k=3).retrieved
    assert [p.source for p in elsewhere] == ["a.txt", "b.txt", "c.txt"]
    assert cited_first(passages, []) == passages


def test_search_lists_the_passage_of_the_likeliest_sentence_first(lexical: LexicalIndex) -> None:
    other = "Anthropic propose Claude aux agences fédérales pour un dollar."
    first = Passage("c2", "b.txt", "Claude", None, "fr", other, 0, len(other), 1.0, 0.9)  # the retriever's first
    second = Passage("c1", "a.txt", "Contrat", None, "fr", TEXT, 0, len(TEXT), 0.9, 0.85)
    texts = {"c1": TEXT, "c2": other}
    q = question_terms("Qui a signé un contrat avec le Pentagone ?", "fr")
    found = candidates(q, [first, second], lexical, lambda p: ("art-" + p.chunk_id, texts[p.chunk_id]), None)
    for best_in, expected in (("c1", ["a.txt", "b.txt"]), ("c2", ["b.txt", "a.txt"])):
        ranked = sorted(found, key=lambda c: c.passage.chunk_id != best_in)
        ranking = Ranking(q, ranked, [0.9 - 0.1 * i for i in range(len(ranked))], 0.9, corpus_knowledge(q, lexical))
        assert [p.source for p in selector_first(q.text, [first, second], ranking)] == expected
    nothing = Ranking(q, [], [], 0.0, corpus_knowledge(q, lexical))
    assert selector_first(q.text, [first, second], nothing) == [first, second]
