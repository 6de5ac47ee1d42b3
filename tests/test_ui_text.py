"""The page's plain-Python helpers: language choice, Markdown export, stored conversations."""

from __future__ import annotations

import json

import pytest

from assistant.models import Answer, Citation, Passage
from assistant.ui import session
from assistant.ui.i18n import pick_language, t
from assistant.ui.markdown import answer_markdown, conversation_markdown
from assistant.ui.session import Turn


@pytest.mark.parametrize(("header", "chosen", "expected"), [
    ("fr-FR,fr;q=0.9,en-US;q=0.8,en;q=0.7", None, "fr"),
    ("en-GB,en;q=0.9,fr;q=0.8", None, "en"),
    ("de-DE,de;q=0.9,fr;q=0.5", None, "fr"),
    ("de-DE", None, "en"),
    ("", None, "en"),
    (None, None, "en"),
    ("en;q=0.2, fr;q=0.8", None, "fr"),
    ("fr-FR", "en", "en"),  # the reader's switch wins
    ("en", "fr", "fr"),
    ("fr;q=abc, en", "xx", "en"),
    ("x" * 100_000 + ",fr", None, "en"),  # an absurd header is cut, not parsed for ever
])
def test_page_language_from_accept_language_and_the_switch(header: str | None, chosen: str | None, expected: str) -> None:
    assert pick_language(header, chosen) == expected


def test_every_word_exists_in_both_languages() -> None:
    assert t("ask", "fr") == "Demander" and t("ask", "en") == "Ask" and t("ask", "de") == "Ask"
    assert t("added", "fr", "a.txt", "Titre", 0.5).startswith("a.txt ajouté")


def cited_answer(i: int = 0) -> Answer:
    c = Citation(1, f"a{i}.txt", f"Titre {i}", "2025-08-07", "Passage.", f"Phrase {i}.", 0, 9, 0.9, 0, 8)
    p = Passage("c", f"a{i}.txt", f"Titre {i}", None, "fr", "Passage.", 0, 8, 0.5)
    return Answer(f"Question {i} ?", f"Phrase {i}. [1]", False, [c], [p], standalone_question=None)


def test_answer_markdown_numbers_its_references() -> None:
    md = answer_markdown(cited_answer())
    assert md.startswith("Phrase 0. [^1]")
    assert "[^1]: Titre 0 (2025-08-07, a0.txt): “Phrase 0.”" in md


def test_conversation_markdown_keeps_references_unique_per_turn() -> None:
    doc = conversation_markdown([("Q1 ?", answer_markdown(cited_answer(0))), ("Q2 ?", answer_markdown(cited_answer(1)))])
    assert "## 1. Q1 ?" in doc and "## 2. Q2 ?" in doc
    assert "[^1.1]: Titre 0" in doc and "[^2.1]: Titre 1" in doc and "[^1]" not in doc


def test_stored_conversation_round_trips_through_json() -> None:
    turns = [Turn("Question 0 ?", cited_answer(0)), Turn("vide", error="la question est vide")]
    data = json.loads(json.dumps(session.to_store(turns)))
    back = session.from_store(data)
    assert back[0].answer == turns[0].answer.__class__(**{**turns[0].answer.__dict__,  # type: ignore[union-attr]
                                                          "retrieved": back[0].answer.retrieved})  # type: ignore[union-attr]
    assert back[0].answer.citations == turns[0].answer.citations  # type: ignore[union-attr]
    assert back[1].error == "la question est vide" and back[1].answer is None


def test_stored_conversation_is_bounded_and_junk_is_dropped() -> None:
    many = [Turn(f"Q{i}", cited_answer(i)) for i in range(session.MAX_STORED_TURNS * 10)]
    stored = session.to_store(many)
    assert len(stored) == session.MAX_STORED_TURNS and stored[-1]["question"] == f"Q{len(many) - 1}"
    junk = [None, 3, {"question": 5}, {"question": "q", "answer": {"answer": "no fields"}},
            {"question": "x" * 10 * session.MAX_TEXT_CHARS, "error": "e"}, *stored]
    back = session.from_store(junk * 10)
    assert len(back) == session.MAX_STORED_TURNS
    assert session.from_store("not a list") == [] and session.from_store(None) == []
    assert all(len(tn.question) <= session.MAX_TEXT_CHARS for tn in session.from_store(junk))
