"""The LLM judge (faithfulness, relevance) with scripted chat models, and the support metric."""

from __future__ import annotations

import json
from typing import Any

import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel, GenericFakeChatModel

from assistant.evaluate import (
    EvalCase,
    QuestionResult,
    Verdict,
    floors_from,
    format_table,
    judge,
    load_results,
    summarize,
)
from assistant.judge import judge_answer, judge_results, parse_scores, passages_of
from assistant.models import Answer

from conftest import invoke

PASSAGES = ["Le contrat vaut 200 millions de dollars.", "Il a été signé en mai."]


class Recording(FakeListChatModel):
    """A scripted model that keeps the messages it was sent."""

    seen: list[Any] = []

    def invoke(self, input: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: A002
        self.seen.append(input)
        return super().invoke(input, *args, **kwargs)


def test_a_good_json_reply_gives_both_scores_in_one_call():
    model = Recording(responses=['```json\n{"faithfulness": 0.5, "relevance": 1}\n```'], seen=[])
    scores = judge_answer(model, "Combien vaut le contrat ?", "200 millions, signé en juin.", PASSAGES)
    assert (scores.faithfulness, scores.relevance) == (0.5, 1.0)
    assert len(model.seen) == 1
    prompt = "\n".join(content for _, content in model.seen[0])
    assert "Combien vaut le contrat ?" in prompt and PASSAGES[0] in prompt and "200 millions, signé en juin." in prompt


@pytest.mark.parametrize(
    "reply, expected",
    [
        ("The answer is faithful.", (None, None)),
        ('{"faithfulness": 0.8, "relevance": ', (None, None)),
        ('{"faithfulness": 1.7, "relevance": 0.4}', (None, 0.4)),  # out of range: that score is missing
        ('{"faithfulness": "high", "relevance": true}', (None, None)),
        ("[0.5, 1.0]", (None, None)),
    ],
)
def test_a_malformed_reply_gives_missing_scores(reply, expected):
    scores = judge_answer(FakeListChatModel(responses=[reply]), "Q ?", "A.", PASSAGES)
    assert (scores.faithfulness, scores.relevance) == expected


def test_a_failing_model_gives_missing_scores_and_does_not_raise():
    def boom():
        raise TimeoutError("read timed out")
        yield  # pragma: no cover

    scores = judge_answer(GenericFakeChatModel(messages=boom()), "Q ?", "A.", PASSAGES)
    assert (scores.faithfulness, scores.relevance) == (None, None)
    assert parse_scores("") == parse_scores("no json here")


def _result(qid: str, answer: Answer, lang: str = "fr", error: str | None = None) -> QuestionResult:
    case = EvalCase(qid, f"question {qid} ?", lang, answerable=True)
    verdict = judge(case, None if error else answer, [], lambda s: "", error=error)
    return QuestionResult(case, answer.to_dict(), [], verdict)


def test_judge_results_scores_answers_and_skips_refusals_and_errors(tmp_path):
    answered = _result("a", Answer("q", "Il vaut 200 millions [1].", False, [], [], support=1.0))
    refused = _result("r", Answer("q", "Les articles ne disent pas cela.", True, [], []))
    failed = _result("e", Answer("q", "", False, [], []), error="the language model failed")
    garbled = _result("g", Answer("q", "En mai.", False, [], [], support=0.0), lang="en")
    model = FakeListChatModel(responses=['{"faithfulness": 1.0, "relevance": 0.5}', "sorry, I cannot grade this"])
    assert judge_results(model, [answered, refused, failed, garbled]) == 2
    assert (answered.verdict.judge_faithfulness, answered.verdict.judge_relevance) == (1.0, 0.5)
    assert refused.verdict.judge_faithfulness is None and failed.verdict.judge_relevance is None
    assert garbled.verdict.judge_faithfulness is None  # malformed reply: missing, not zero

    summary = summarize([(r.case.lang, r.verdict) for r in (answered, refused, failed, garbled)])
    assert summary.overall["judge_faithfulness"].to_dict() == {"value": 1.0, "count": 1}
    assert summary.overall["judge_relevance"].to_dict() == {"value": 0.5, "count": 1}
    assert summary.by_lang["en"]["judge_relevance"].count == 0

    # the scores survive a results file (--output then --baseline)
    path = tmp_path / "r.jsonl"
    path.write_text(json.dumps({"id": "a", "lang": "fr", "verdict": answered.verdict.to_dict()}) + "\n", encoding="utf-8")
    records, _ = load_results(path)
    assert records[0].verdict.judge_relevance == 0.5 and records[0].verdict.support == 1.0


def test_passages_of_prefers_the_cited_passages_over_the_retrieved_ones():
    answer = {"citations": [{"passage": "P1", "quote": "q"}, {"passage": "P1"}, {"quote": "only a quote"}], "retrieved": [{"text": "R"}]}
    assert passages_of(answer) == ["P1", "only a quote"]
    assert passages_of({"citations": [], "retrieved": [{"text": "R1"}, {"text": "R2"}]}) == ["R1", "R2"]


# --- the support metric ---------------------------------------------------------


def test_support_is_the_mean_over_answers_that_have_one_overall_and_per_language():
    case = EvalCase("x", "Q ?", "fr", answerable=True)
    assert judge(case, Answer("q", "A [1].", False, [], [], support=0.5), [], lambda s: "").support == 0.5
    assert judge(case, None, [], lambda s: "", error="boom").support is None
    records = [
        ("fr", Verdict(support=1.0)),
        ("fr", Verdict(support=0.5)),
        ("fr", Verdict(refused=True, support=None)),  # refusal: not counted
        ("en", Verdict(support=0.0)),
        ("en", Verdict()),
    ]
    summary = summarize(records)
    assert summary.overall["support"].value == pytest.approx(0.5) and summary.overall["support"].count == 3
    assert summary.by_lang["fr"]["support"].value == pytest.approx(0.75) and summary.by_lang["fr"]["support"].count == 2
    assert summary.by_lang["en"]["support"].to_dict() == {"value": 0.0, "count": 1}
    assert summary.to_dict()["overall"]["support"] == {"value": 0.5, "count": 3}
    table = format_table(summary)
    assert "answer support" in table and "0.500 (3)" in table and "judge faithfulness (LLM)" in table
    # reported, never gated: no floor is derived for it
    assert "support" not in floors_from(summary).get("overall", {})


def test_support_and_judge_rows_are_in_the_html_report_table():
    from assistant.report import metrics_table

    summary = summarize([("fr", Verdict(support=0.25, judge_faithfulness=0.75, judge_relevance=1.0))])
    table = metrics_table(summary, {})
    assert "answer support" in table and "0.250" in table and "0.750" in table and "LLM judge" in table


def test_judge_without_a_language_model_is_a_one_line_error(tmp_path):
    testset = tmp_path / "t.jsonl"
    testset.write_text('{"id": "a", "question": "Combien ?"}\n', encoding="utf-8")
    result = invoke(["--index", str(tmp_path / "index"), "--sources", str(tmp_path), "eval", str(testset), "--judge"])
    assert result.exit_code == 1
    assert result.stderr.strip() == "Error: --judge needs a language model: pass --llm PROVIDER:MODEL"
