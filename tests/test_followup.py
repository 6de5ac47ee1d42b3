"""followup.py: the rule-based rewrite of a follow-up, and the bound on the history."""

from __future__ import annotations

import pytest

from assistant.errors import QuestionError
from assistant.followup import (
    MAX_HISTORY_MESSAGE_CHARS,
    MAX_HISTORY_MESSAGES,
    bound_history,
    last_user_question,
    standalone_question,
)

HISTORY = [
    {"role": "user", "content": "Combien coûte l'abonnement d'OpenAI ?"},
    {"role": "assistant", "content": "Il coûte 20 dollars par mois [1]."},
]


def test_a_follow_up_swaps_the_subject_of_the_previous_question() -> None:
    assert standalone_question("Et Anthropic ?", HISTORY) == "Combien coûte l'abonnement d'Anthropic ?"


def test_a_question_that_stands_alone_is_left_alone() -> None:
    assert standalone_question("Quand le tramway de Brest ouvrira-t-il ses portes au public ?", HISTORY) is None
    assert standalone_question("Et Anthropic ?", None) is None
    assert standalone_question("Et ?", HISTORY) is None


def test_without_a_name_the_subject_is_appended() -> None:
    assert standalone_question("et en 2026 ?", HISTORY) == "Combien coûte l'abonnement d'OpenAI — en 2026 ?"


def test_last_user_question_skips_answers_and_blanks() -> None:
    assert last_user_question(HISTORY + [{"role": "user", "content": "  "}]) == HISTORY[0]["content"]
    assert last_user_question([]) is None


def test_bound_history_keeps_the_last_turns_cut_to_the_question_limit() -> None:
    long = [{"role": "user", "content": "q" * 10_000}, {"role": "assistant", "content": "a" * 10_000}] * 50
    kept = bound_history(long)
    assert len(kept) == MAX_HISTORY_MESSAGES
    assert all(len(m["content"]) == MAX_HISTORY_MESSAGE_CHARS for m in kept)
    assert bound_history(tuple(HISTORY)) == HISTORY


@pytest.mark.parametrize("bad", ["text", {"role": "user"}, [1, 2], [{"role": "bot", "content": "x"}], [{"role": "user", "content": None}]])
def test_bound_history_refuses_what_is_not_a_list_of_messages(bad: object) -> None:
    with pytest.raises(QuestionError, match="history"):
        bound_history(bad)
