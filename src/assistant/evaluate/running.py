"""Running a test set through the assistant, question by question."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import AssistantError
from ..models import Answer

if TYPE_CHECKING:  # pragma: no cover
    from ..api import Assistant

from .judging import RETRIEVAL_DEPTH, ArticleText, Verdict, judge
from .testset import EvalCase


@dataclass
class QuestionResult:
    case: EvalCase
    answer: dict[str, Any]  # Answer.to_dict(), or a stub when the question failed
    ranked: list[dict[str, Any]]  # top passages of the retrieval search (Passage.to_dict())
    verdict: Verdict

    def to_record(self) -> dict[str, Any]:
        """One line of ``--output``: the ``assistant ask --json`` object plus id, lang and verdicts."""
        return {"id": self.case.id, "lang": self.case.lang, **self.answer, "verdict": self.verdict.to_dict()}


ProgressFn = Callable[[int, int], None]


def run_eval(
    bot: "Assistant",
    cases: Sequence[EvalCase],
    k: int | None = None,
    progress: ProgressFn | None = None,
) -> list[QuestionResult]:
    """Ask every question in this process; latency is that of ``bot.ask`` alone, warm."""
    texts: dict[str, str] = {}

    def article_text(source: str) -> str:
        if source not in texts:
            texts[source] = bot.article_text(source)
        return texts[source]

    bot.search("warm up", 1)  # load the models and the index before the first timed question
    results: list[QuestionResult] = []
    for i, case in enumerate(cases):
        results.append(ask_one(bot, case, k, article_text))
        if progress:
            progress(i + 1, len(cases))
    return results


def ask_one(bot: "Assistant", case: EvalCase, k: int | None, article_text: ArticleText) -> QuestionResult:
    try:
        t0 = time.perf_counter()
        answer = bot.ask(case.question, k=k)
        latency = (time.perf_counter() - t0) * 1000
        ranked = bot.search(case.question, max(RETRIEVAL_DEPTH, k or 0))
    except AssistantError as exc:  # an unusable question, an LLM failure: recorded, the run goes on
        stub = Answer(question=case.question, answer="", refused=False, citations=[], retrieved=[])
        verdict = judge(case, None, [], article_text, None, str(exc))
        return QuestionResult(case, stub.to_dict(), [], verdict)
    verdict = judge(case, answer, ranked, article_text, latency)
    return QuestionResult(case, answer.to_dict(), [p.to_dict() for p in ranked], verdict)

