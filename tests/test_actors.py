"""Answers name the actor: anaphors and who-questions."""

from __future__ import annotations

from assistant.actors import antecedent_span, asks_for_title, is_heading, names_someone, needs_actor
from assistant.answer_types import OTHER, PERSON

TEXT = (
    "OpenAI indique que l’offre ChatGPT Enterprise sera mise à disposition de tous les employés fédéraux. "
    "Cette mesure s’inscrit dans le plan d’action de la Maison Blanche.\n\n"
    "Cette offre intervient après la signature en juin d’un contrat de 200 millions de dollars avec le Pentagone."
)
QUESTION = "Qui a signé un contrat de 200 millions de dollars avec le Pentagone ?"


def test_names_someone() -> None:
    assert names_someone("OpenAI indique que l’offre sera disponible.", "fr")
    assert names_someone("Le contrat a été signé par Sam Altman.", "fr")
    assert not names_someone("Cette mesure s’inscrit dans le plan d’action.", "fr")
    assert not names_someone("Selon le texte, le prix est bas.", "fr")
    # A name the question already uses does not answer "who".
    assert not names_someone("Le Pentagone a signé.", "fr", QUESTION)


def test_needs_actor() -> None:
    anaphoric = TEXT[TEXT.index("Cette offre") :]
    assert needs_actor(PERSON, QUESTION, anaphoric, "fr")
    assert needs_actor(OTHER, "Quand ?", "It was signed in June.", "en")
    assert not needs_actor(PERSON, QUESTION, "OpenAI a signé en juin un contrat avec le Pentagone.", "fr")
    assert not needs_actor(OTHER, "Quand ?", "Le contrat a été signé en juin.", "fr")
    # A demonstrative whose noun phrase names the actor stands on its own; a pronoun does not.
    assert not needs_actor(OTHER, "Avec quel organisme ?", "Cette manœuvre stratégique d’Anthropic intervient après l’accord.", "fr")
    assert not needs_actor(OTHER, "When?", "This deal with OpenAI was signed in June.", "en")
    assert not needs_actor(OTHER, "Quelle durée ?", "L’accord d’Anthropic avec la GSA fournira un accès pour un an.", "fr")
    assert not needs_actor(OTHER, "When?", "The company OpenAI signed in June.", "en")
    assert not needs_actor(OTHER, "Quel but ?", "L’initiative de la GSA vise une adoption généralisée.", "fr")
    assert needs_actor(OTHER, "Quel but ?", "L’initiative de la GSA vise une adoption généralisée.", "fr", named_noun_stands=False)
    assert needs_actor(OTHER, "Quelle durée ?", "L’accord fournira un accès à ses modèles pour un an.", "fr")
    assert needs_actor(OTHER, "Quand ?", "L’entreprise va offrir l’accès à ChatGPT Enterprise.", "fr")
    assert needs_actor(OTHER, "Quand ?", "Il a signé avec OpenAI en juin.", "fr")
    assert needs_actor(OTHER, "Quand ?", "Ce dernier a signé avec OpenAI en juin.", "fr")


def test_antecedent_skips_other_anaphors_and_crosses_a_paragraph() -> None:
    span = antecedent_span(TEXT, TEXT.index("Cette offre"), "fr", QUESTION)
    assert span is not None
    assert TEXT[span[0] : span[1]].startswith("OpenAI indique")


def test_the_antecedent_is_looked_for_within_the_section_and_may_be_a_named_noun_anaphor() -> None:
    text = (
        "OpenAI a signé avec le Pentagone.\n\nSignal aux alliés\n\n"
        "Ce contrat avec le DoD sert de modèle. Elle pourrait aussi servir l’OTAN."
    )
    span = antecedent_span(text, text.index("Elle"), "fr", "Quand ?")
    assert span is not None and text[span[0] : span[1]].startswith("Ce contrat avec le DoD")
    # A heading is not quoted as the sentence naming the actor, and nothing before it is looked at.
    no_named = text.replace("Ce contrat avec le DoD", "Ce contrat")
    assert antecedent_span(no_named, no_named.index("Elle"), "fr", "Quand ?") is None


def test_headings() -> None:
    assert is_heading("Signal aux alliés") and is_heading("Course aux “frontier models”")
    assert not is_heading("OpenAI a signé avec le Pentagone.") and not is_heading("Il a dit « oui ».")
    assert not is_heading("« Nous sommes fiers de ce partenariat », a déclaré Sam Altman.")
    assert not is_heading("OpenAI a signé (voir encadré)") and not is_heading("OpenAI a signé le contrat [1]")
    assert not is_heading("**OpenAI a signé.**")


def test_no_antecedent_at_the_start_of_an_article() -> None:
    assert antecedent_span(TEXT, 0, "fr", QUESTION) is None


def test_title_questions() -> None:
    assert asks_for_title("Quel est le titre du programme ?")
    assert not asks_for_title("Qui a signé le contrat ?")
