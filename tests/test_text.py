"""text.py: cleaning, sentence spans (Western and CJK), language guess, BM25 tokens."""

from __future__ import annotations

import pytest

from assistant.text import clean_text, detect_language, fold, lexical_tokens, sentence_spans


def sentences(text: str) -> list[str]:
    return [text[a:b] for a, b in sentence_spans(text)]


def test_clean_text_folds_spaces_controls_and_blank_lines() -> None:
    raw = "  Titre\r\n\r\n\r\n\r\nUn\u00a0texte\u200b  avec\x07 des   espaces.\t\n\n\n"
    assert clean_text(raw) == "Titre\n\nUn texte avec des espaces."


def test_fold_is_case_width_and_space_insensitive() -> None:
    assert fold("  ＣＨＡＴＧＰＴ\n Enterprise ") == fold("chatgpt enterprise") == "chatgpt enterprise"


def test_sentences_skip_abbreviations_initials_and_numbers() -> None:
    text = "M. Dupont a vu J. Smith à 3.5 km. Il pleuvait ! Etc. ensuite ?"
    assert sentences(text) == ["M. Dupont a vu J. Smith à 3.5 km.", "Il pleuvait !", "Etc. ensuite ?"]


def test_paragraph_breaks_always_end_a_sentence() -> None:
    assert sentences("Un titre sans point\n\nLe texte suit.") == ["Un titre sans point", "Le texte suit."]


def test_cjk_full_stops_end_sentences_without_a_space() -> None:
    text = "東京都は予算案を発表した。市民は歓迎した！本当か？「はい。」"
    assert sentences(text) == ["東京都は予算案を発表した。", "市民は歓迎した！", "本当か？", "「はい。」"]


def test_spans_are_offsets_into_the_text() -> None:
    text = "  Une phrase.   Une autre.  "
    for a, b in sentence_spans(text):
        assert text[a:b] == text[a:b].strip() and text[a:b]


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("Le conseil a voté une subvention pour les écoles du quartier.", "fr"),
        ("The council voted a grant for the schools of the district.", "en"),
        ("Der Rat hat eine Förderung für die Schulen beschlossen und sich darauf geeinigt.", "de"),
        ("xyz 123", "fr"),  # nothing to go on: the default
    ],
)
def test_detect_language(text: str, lang: str) -> None:
    assert detect_language(text) == lang


def test_lexical_tokens_drop_stop_words_and_stem() -> None:
    assert lexical_tokens("Les agences fédérales", "fr") == lexical_tokens("agence fédérale", "fr")
    assert "the" not in lexical_tokens("the price of the subscription", "en")
