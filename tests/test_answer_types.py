"""What a question asks for, and whether a sentence holds it (pure functions, no index)."""

from __future__ import annotations

import pytest

from assistant.answer_types import (
    COUNT, DATE, MONEY, NUMBER, OTHER, PERSON, PLACE, asked_measure, asks_birth, asks_negated, count_beside, counted_nouns,
    holds, question_type, states, states_birth, states_negation, swapped_name, swapped_opposite,
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


@pytest.mark.parametrize(("question", "sentence", "stated"), [
    # a clock time, a year or an amount of money is not a count of people or things
    ("Combien de salariés compte l'agence ?", "Certains employés disent avoir gagné 1h30 par jour.", False),
    ("How many soldiers does the Pentagon have?", "In 2026 the Pentagon will have a budget of $1,000 billion.", False),
    ("Combien de soldats compte le Pentagone ?", "Un contrat de 200 millions de dollars, signé en 2025.", False),
    ("Combien de salariés compte l'agence ?", "L'agence compte 2 000 salariés depuis 2025.", True),
    # nor a day of the month
    ("Combien de personnes assistaient à la soirée ?", "Le 23 juillet, certains des dirigeants figuraient parmi les invités.", False),
    ("How many people attended the dinner?", "On June 16th, some of the leaders were among the guests.", False),
    ("Combien de personnes assistaient à la soirée ?", "Le 1er août, 300 personnes assistaient à la soirée.", True),
    ("How many people died in the fire?", "Officials said as many as 20 may have died in the fire.", True),
    ("Combien d'agences ont adopté l'outil ?", "En juillet 40 agences ont adopté l'outil.", True),
    # ... unless the question counts those units
    ("Combien de temps les employés gagnent-ils ?", "Certains employés disent avoir gagné 1h30 par jour.", True),
    ("How many dollars will the agencies pay?", "The agencies will pay $1 a year.", True),
    ("How many years did the war last?", "The war lasted from 1754 to 1763.", True),
    # an ordinal answers how many
    ("Combien de saisons a-t-elle jouées à San Antonio ?", "Elle dispute sa troisième saison à San Antonio.", True),
])
def test_what_counts_as_a_count(question: str, sentence: str, stated: bool) -> None:
    assert states(COUNT, sentence, question) is stated


@pytest.mark.parametrize(("question", "asked"), [
    ("Quelle est la date de naissance de Sam Altman ?", True),
    ("Où est né Victor Hugo ?", True),
    ("When was Zhu Shijie born?", True),
    ("What is the birthplace of Chopin?", True),
    ("Quand le contrat a-t-il été signé ?", False),
    ("Who founded the company?", False),
])
def test_asks_birth(question: str, asked: bool) -> None:
    assert asks_birth(question) is asked


@pytest.mark.parametrize(("sentence", "stated"), [
    ("Victor Hugo est né à Besançon en 1802.", True),
    ("Chopin was born in Żelazowa Wola.", True),
    ("The mathematician Zhu Shijie (1249–1314) solved equations.", True),  # life dates in brackets
    ("En mai dernier, Sam Altman accompagnait Donald Trump.", False),  # a date, but no birth
    ("The company was founded in 2015.", False),
])
def test_states_birth(sentence: str, stated: bool) -> None:
    assert states_birth(sentence) is stated


def test_the_counted_noun_and_a_number_beside_it() -> None:
    assert counted_nouns("How many employees does the agency have?") == ["employees"]
    assert counted_nouns("Combien d’employés fédéraux utilisent ChatGPT ?") == ["employés"]
    assert counted_nouns("Qui a signé ?") == []
    assert count_beside("employés", "L'agence compte 2 000 employés fédéraux.")
    assert count_beside("employees", "It has three thousand employees.")
    assert count_beside("employés", "Des employés, environ trois cents, l'utilisent.")  # within three words
    assert not count_beside("employés", "Certains employés disent avoir gagné jusqu'à 1h30 par jour.")
    assert not count_beside("employees", "Access across the three branches of government for employees.")


def test_a_value_only_repeated_from_the_question_is_not_stated() -> None:
    assert not states(MONEY, "Le contrat en dollars est signé.", "Combien de dollars coûte le contrat ?")
    assert states(MONEY, "Il coûte 5 $.", "Combien de dollars coûte le contrat ?")


def test_a_question_ten_times_the_length_cap_is_read_whole() -> None:
    # 20,000 characters (questions are capped at 2,000): the gaps the patterns allow are bounded.
    long = "how much did " * 1600
    assert asked_measure(long) is None
    assert asked_measure("Context. " * 2000 + "How much did the agency pay for Claude?") == MONEY
    # the premise checks too (each under 50 ms at this size; measured, not asserted)
    assert asks_negated("ne " * 6000 + "pas") and not asks_negated("ne x " * 5000)
    assert not swapped_opposite("largest " * 2500, "smallest largest " * 1250)
    assert swapped_name("the Finnish research network " * 700, "the French research network " * 700)
    assert not states(COUNT, "1h30 en 2026 pour 200 millions de dollars. " * 500, "Combien de salariés ?")
    assert asks_birth("x " * 10000 + "born") and not states_birth("(1249 " * 3000)
    assert not count_beside("employés", "employés " * 4000)


@pytest.mark.parametrize(("question", "negated"), [
    ("What wasn't the first British empire based on?", True),
    ("Who does not have the ability to alter income tax?", True),
    ("Which agency has no contract with OpenAI?", True),
    ("Quelle entreprise n'a pas signé de contrat ?", True),
    ("Qui ne propose jamais de remise ?", True),
    ("Quelle agence n'utilise plus Claude ?", True),
    ("Quel pays n'a aucune base ?", True),
    # French "ne" without its second part is expletive, not a negation
    ("Que faisait-il avant qu'il ne parte ?", False),
    ("Who signed the contract with the Pentagon?", False),
    ("Qui a signé le contrat ?", False),
    ("What is the Notre-Dame cathedral?", False),
    ("Who lives at No. 10 Downing Street?", False),
    ("Who won the no-bid contract?", False),
])
def test_asks_negated(question: str, negated: bool) -> None:
    assert asks_negated(question) is negated


@pytest.mark.parametrize(("sentence", "stated"), [
    ("The Scottish Parliament has the power to pass laws.", False),
    ("Westminster cannot pass laws on devolved matters.", True),
    ("The offer was refused by Google.", True),
    ("L'entreprise n'a pas signé.", True),
    ("Anthropic a refusé l'offre.", True),
    ("OpenAI a signé un contrat de 200 millions de dollars.", False),
])
def test_states_negation(sentence: str, stated: bool) -> None:
    assert states_negation(sentence) is stated


@pytest.mark.parametrize(("question", "sentence", "swapped"), [
    ("What is the smallest city in Scotland?", "Glasgow is the largest city in Scotland.", True),
    ("Who won the first round?", "Smith won the last round.", True),
    ("Quel fut le premier contrat ?", "Le dernier contrat fut signé en juin.", True),
    # the asked word is said too, or both words are in the question: no swap
    ("What is the largest city?", "Glasgow is the largest city and Stirling the smallest.", False),
    ("Was the first or the last offer better?", "The last offer was better.", False),
    ("Qui a signé le contrat ?", "OpenAI a signé après Anthropic.", False),
    # a negative prefix makes an opposite, either way round
    ("What illegitimate dynasty came after the Yuan?", "The Yuan is the legitimate dynasty.", True),
    ("What was the official name?", "Its unofficial name was Cathay.", True),
    ("Quel accord était illégal ?", "Cet accord était légal.", True),
    ("What was the income?", "They come from afar.", False),  # stems under 5 letters do not count
    # prefixes that make other words are not read as negations
    ("Qui a signé le contrat ?", "Le Pentagone a désigné OpenAI.", False),
    ("What did he discover?", "He covered the war.", False),
    ("Where was the information kept?", "The formation was kept in Paris.", False),
    # a word inside an elision counts: "l'après-guerre" says "après"
    ("Que s'est-il passé avant la guerre ?", "Dans l'après-guerre, la ville grandit.", True),
])
def test_an_opposite_said_instead_of_the_asked_word(question: str, sentence: str, swapped: bool) -> None:
    assert swapped_opposite(question, sentence) is swapped


@pytest.mark.parametrize(("question", "sentence", "swapped"), [
    ("Who developed the Finnish research network?", "It was a French research network designed by Pouzin.", True),
    ("What functions lie with US Government ministers?", "Functions lie with UK Government ministers.", True),
    ("Qui dirige la filiale Anthropic Europe ?", "La filiale OpenAI Europe est dirigée par Jane Doe.", True),
    # the name is said, or only its word form differs, or nothing but glue words surround it
    ("Who developed the French research network?", "It was a French research network.", False),
    ("Who joined the Normans forces?", "The Norman forces joined.", False),
    ("Who is the head of the Pentagon?", "Smith is the head of the agency.", False),
])
def test_a_name_swapped_for_another_between_the_same_words(question: str, sentence: str, swapped: bool) -> None:
    assert swapped_name(question, sentence) is swapped
