"""Questions asked of articles in the other language: the glossary's words join the lexical search."""

from __future__ import annotations

from assistant.glossary import PAIRS, question_tokens
from assistant.lexical import LexicalIndex
from assistant.text import lexical_tokens

FRENCH = [
    ("ceo", "fr", "Sam Altman, PDG d'OpenAI, a exprimé sa fierté."),
    ("deal", "fr", "OpenAI a signé un contrat avec le Pentagone en juin."),
    ("other", "fr", "Les ruches urbaines de Paris ont produit une tonne de miel."),
]
ENGLISH = [
    ("deal", "en", "OpenAI signed a contract with the Pentagon in June."),
    ("other", "en", "Urban beehives in Paris produced a tonne of honey."),
]


def test_a_question_in_the_articles_language_is_stemmed_as_before() -> None:
    for question, lang in (("Qui a signé le contrat avec le Pentagone ?", "fr"), ("Who signed the contract?", "en")):
        assert question_tokens(question, lang) == tuple(lexical_tokens(question, lang))


def test_an_english_question_asks_french_articles_with_the_glossarys_words() -> None:
    tokens = question_tokens("Who is the CEO of OpenAI?", "fr")
    assert set(lexical_tokens("PDG", "fr")) <= set(tokens)
    # English stop words stemmed the French way would read as rare words the articles lack.
    assert not {"who", "is", "the", "of"} & set(tokens)
    assert set(lexical_tokens("signer contrat", "fr")) <= set(question_tokens("Who signed the contract?", "fr"))
    # Acronyms that differ between the languages: "l’OTAN" answers "NATO".
    assert set(lexical_tokens("OTAN", "fr")) <= set(question_tokens("For which alliance could it serve NATO?", "fr"))


def test_a_french_question_asks_english_articles_with_the_glossarys_words() -> None:
    tokens = question_tokens("Qui a signé le contrat avec le Pentagone ?", "en", "fr")
    assert set(lexical_tokens("contract sign", "en")) <= set(tokens)


def test_the_lexical_search_finds_a_french_passage_for_an_english_question() -> None:
    index = LexicalIndex()
    index.add("", FRENCH)
    # No name to share: only the glossary's "PDG", "signer", "contrat" can find them.
    assert [cid for cid, _ in index.search("Who is the CEO?", 3)] == ["ceo"]
    assert [cid for cid, _ in index.search("Who signed the contract?", 3)] == ["deal"]


def test_the_lexical_search_finds_an_english_passage_for_a_french_question() -> None:
    index = LexicalIndex()
    index.add("", ENGLISH)
    assert [cid for cid, _ in index.search("Qui a signé le contrat ?", 3)] == ["deal"]


def test_every_entry_has_words_on_both_sides() -> None:
    for en, fr in PAIRS:
        assert lexical_tokens(en, "en") and lexical_tokens(fr, "fr"), (en, fr)
