"""Lead-ins ("Un dollar. C’est ce que coûteront…"): which two sentences are quoted together."""

from __future__ import annotations

from assistant.lead_ins import REACH, lead_in_before, points_back, sentence_after

TEXT = "Le contrat est signé. Un dollar. C’est ce que coûteront les modèles d’OpenAI. Le ministère n’a pas commenté."


def _span(text: str, sentence: str) -> tuple[int, int]:
    start = text.index(sentence)
    return start, start + len(sentence)


def test_a_lead_in_and_the_sentence_pointing_back_to_it_find_each_other() -> None:
    lead, rest = _span(TEXT, "Un dollar."), _span(TEXT, "C’est ce que coûteront les modèles d’OpenAI.")
    assert lead_in_before(TEXT, *rest) == lead
    assert sentence_after(TEXT, *lead) == rest
    # The sentences around them are neither.
    assert sentence_after(TEXT, *_span(TEXT, "Le contrat est signé.")) is None  # "Un dollar." does not point back
    assert lead_in_before(TEXT, *_span(TEXT, "Le ministère n’a pas commenté.")) is None


def test_a_short_sentence_followed_by_one_that_does_not_point_back_stands_alone() -> None:
    text = "Sam Altman démissionne. Le conseil d’administration se réunira lundi."
    assert sentence_after(text, *_span(text, "Sam Altman démissionne.")) is None
    other = "Gemini, cinq dollars. OpenAI proposera aussi ses modèles à l’administration."
    assert lead_in_before(other, *_span(other, "OpenAI proposera aussi ses modèles à l’administration.")) is None


def test_a_pair_never_crosses_a_line_break_and_a_long_sentence_is_no_lead_in() -> None:
    text = "Un dollar.\n\nC’est ce que coûteront les modèles."
    assert lead_in_before(text, *_span(text, "C’est ce que coûteront les modèles.")) is None
    assert sentence_after(text, *_span(text, "Un dollar.")) is None
    longer = "Le prix est d’un dollar. C’est ce que coûteront les modèles."
    assert lead_in_before(longer, *_span(longer, "C’est ce que coûteront les modèles.")) is None


def test_english_presentatives_and_anaphors_point_back() -> None:
    assert points_back("That is what the models will cost.") and points_back("It will cost a dollar.")
    assert points_back("Cette offre intervient après…") and not points_back("OpenAI a signé.")
    text = "One dollar. That is what the models will cost the administration."
    assert sentence_after(text, *_span(text, "One dollar.")) == _span(text, "That is what the models will cost the administration.")


def test_the_other_half_is_looked_for_within_reach_only() -> None:
    far = "Un dollar. C’est " + "x " * REACH + "fin."
    assert sentence_after(far, *_span(far, "Un dollar.")) is None  # its end lies beyond the reach
    before = "z " * REACH + "fin de phrase. "
    text = before + "Un dollar. C’est ce que coûteront les modèles."
    rest = _span(text, "C’est ce que coûteront les modèles.")
    assert lead_in_before(text, *rest) == _span(text, "Un dollar.")
    # Three "words" of which the first began before the reach: maybe a cut sentence, not a lead-in.
    cut = "w" * (2 * REACH) + " un dollar. C’est ce que coûteront les modèles."
    assert lead_in_before(cut, *_span(cut, "C’est ce que coûteront les modèles.")) is None
