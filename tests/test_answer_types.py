"""What a question asks for, and whether a sentence holds it (pure functions, no index)."""

from __future__ import annotations

import pytest

from assistant.answer_types import (
    COUNT, DATE, MONEY, NUMBER, OTHER, PERSON, PLACE, asked_measure, holds, question_type, states,
)


@pytest.mark.parametrize(("question", "kind"), [
    ("Combien les agences paieront-elles ?", NUMBER),
    ("How much does it cost?", NUMBER),
    ("Quand le contrat a-t-il été signé ?", DATE),
    ("In what year was it founded?", DATE),
    ("Qui dirige Anthropic ?", PERSON),
    ("Which agency signed the deal?", PERSON),
    ("Où le travail sera-t-il effectué ?", PLACE),
    ("Pourquoi OpenAI fait-il cette offre ?", OTHER),
])
def test_question_type(question: str, kind: str) -> None:
    assert question_type(question) == kind


def test_holds_needs_a_value_the_question_does_not_already_name() -> None:
    assert holds(NUMBER, "Le contrat vaut 200 millions de dollars.", "Combien vaut le contrat ?")
    assert not holds(NUMBER, "Le contrat est signé.", "Combien vaut le contrat ?")
    assert not holds(DATE, "Il a signé en juin.", "Quand a-t-il signé, en juin ?")
    assert holds(DATE, "Signé le 16 juin.", "Quand a-t-il été signé ?")
    assert not holds(DATE, "Le contrat est signé.", "Quand a-t-il été signé ?")


@pytest.mark.parametrize(("question", "measure"), [
    ("Combien coûte le projet Stargate ?", MONEY),
    ("Quel prix Google propose-t-il pour Gemini ?", MONEY),
    ("Quel est le montant du contrat ?", MONEY),
    ("Quel est le coût du projet ?", MONEY),
    ("What price has xAI offered for Grok?", MONEY),
    ("How much money did the agency pay?", MONEY),
    ("How much did the agency pay for Claude?", MONEY),
    ("How much does the Stargate project cost?", MONEY),
    ("Quelle est la date de naissance de Sam Altman ?", DATE),
    ("In what year did the protests start?", DATE),
    ("When was the Duchy of Normandy founded?", DATE),
    ("Combien d'employés utilisent ChatGPT ?", COUNT),
    ("How many employees does Anthropic have?", COUNT),
    # Not plainly a measure: a prize, a share, a circumstance, no question word at all.
    ("Quel prix obtient-il après sa victoire ?", None),
    ("Que faire quand on a la peau claire ?", None),
    ("Qui a signé le contrat ?", None),
    ("Pourquoi cette offre ?", None),
])
def test_asked_measure(question: str, measure: str | None) -> None:
    assert asked_measure(question) == measure


@pytest.mark.parametrize(("measure", "sentence", "stated"), [
    (MONEY, "Les agences paieront 1 $ par an.", True),
    (MONEY, "ChatGPT Enterprise pour un dollar symbolique.", True),
    (MONEY, "Un contrat de 200 millions d'euros.", True),
    (MONEY, "L'accès est gratuit pour les agences.", True),
    (MONEY, "La GSA intègre trois modèles à son catalogue.", False),
    (MONEY, "L'exécutif dévoilait Stargate, une méga-infrastructure.", False),
    (DATE, "The Normans attacked in 1185.", True),
    (DATE, "Robert Crispin fought in the 1060s.", True),
    (DATE, "They were there in the 10th and 11th centuries.", True),
    (DATE, "Les ambassadeurs apparaissent au XVIe siècle.", True),
    (DATE, "Le contrat a été signé le 16 juin.", True),
    (DATE, "Sam Altman dirige OpenAI.", False),
    (COUNT, "L'entreprise compte 1 500 salariés.", True),
    (COUNT, "Plusieurs agences l'utilisent.", True),
    (COUNT, "Le plan met l’accent sur l’innovation.", False),
    (COUNT, "Le plan met l’accent sur une infrastructure d’IA.", False),
    (COUNT, "Une seule agence l’utilise.", True),
])
def test_states(measure: str, sentence: str, stated: bool) -> None:
    assert states(measure, sentence, "question") is stated


def test_a_value_only_repeated_from_the_question_is_not_stated() -> None:
    assert not states(MONEY, "Le contrat en dollars est signé.", "Combien de dollars coûte le contrat ?")
    assert states(MONEY, "Il coûte 5 $.", "Combien de dollars coûte le contrat ?")


def test_a_question_ten_times_the_length_cap_is_read_whole() -> None:
    # 20,000 characters (questions are capped at 2,000): the gaps the patterns allow are bounded.
    long = "how much did " * 1600
    assert asked_measure(long) is None
    assert asked_measure("Context. " * 2000 + "How much did the agency pay for Claude?") == MONEY
