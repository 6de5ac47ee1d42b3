"""Judging one question: retrieval hits, answer correctness, citations, refusals."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, fields
from typing import Any

from ..errors import AssistantError
from ..models import Answer, Passage
from .matching import answer_contains, contains_evidence, token_f1
from .testset import EvalCase

RETRIEVAL_DEPTH = 10  # passages searched per question for hit@k and MRR@10

@dataclass
class Verdict:
    retrieval_judged: bool = False
    hit_rank: int | None = None  # 1-based rank of the first passage that hits (within RETRIEVAL_DEPTH)
    answer_correct: bool | None = None
    f1: float | None = None
    citations: int = 0
    citations_valid: int = 0  # quote == article_text(source)[start:end]
    citations_judged_source: int = 0  # citations of questions that list expected sources
    citations_expected_source: int = 0  # ... of which from an expected source
    evidence_found: bool | None = None
    answerable: bool | None = None
    refused: bool = False
    refusal_right: bool | None = None
    latency_ms: float | None = None
    error: str | None = None
    support: float | None = None  # Answer.support: share of answer sentences a verified quote backs
    judge_faithfulness: float | None = None  # filled by judge.judge_results (``eval --judge``)
    judge_relevance: float | None = None

    @property
    def passed(self) -> bool | None:
        """The one yes/no per question used in the report and the run comparison."""
        if self.error:
            return False
        checks = [self.citations_valid == self.citations]
        if self.refusal_right is not None:
            checks.append(self.refusal_right)
        if self.answer_correct is not None:
            checks.append(self.answer_correct)
        elif self.evidence_found is not None:
            checks.append(self.evidence_found)
        if len(checks) == 1 and self.citations == 0:
            return None  # nothing known about this question
        return all(checks)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        if d["f1"] is not None:
            d["f1"] = round(d["f1"], 4)
        if d["latency_ms"] is not None:
            d["latency_ms"] = round(d["latency_ms"], 2)
        for name in ("support", "judge_faithfulness", "judge_relevance"):
            if d[name] is not None:
                d[name] = round(d[name], 4)
        d["passed"] = self.passed
        return d

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Verdict":
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


ArticleText = Callable[[str], str]


def judge(
    case: EvalCase,
    answer: Answer | None,
    ranked: Sequence[Passage],
    article_text: ArticleText,
    latency_ms: float | None = None,
    error: str | None = None,
) -> Verdict:
    """Verdicts of one question: ``ranked`` are the top passages of a search, best first."""
    v = Verdict(latency_ms=latency_ms, error=error, answerable=case.answerable)
    v.support = None if answer is None else answer.support
    if case.evidence or case.expected_sources:
        v.retrieval_judged = True
        for rank, passage in enumerate(ranked[:RETRIEVAL_DEPTH], 1):
            if _hits(case, passage):
                v.hit_rank = rank
                break
    refused = bool(answer.refused) if answer is not None else False
    v.refused = refused
    if case.answerable is not None and error is None:
        v.refusal_right = refused == (not case.answerable)
    if case.answers and case.answerable is not False:
        text = "" if (answer is None or refused) else answer.answer
        v.answer_correct = any(answer_contains(text, g) for g in case.answers)
        v.f1 = max(token_f1(text, g) for g in case.answers) if text else 0.0
    citations = [] if answer is None else answer.citations
    v.citations = len(citations)
    for c in citations:
        v.citations_valid += _verbatim(c.source, c.quote, c.start, c.end, article_text)
        if case.expected_sources:
            v.citations_judged_source += 1
            v.citations_expected_source += c.source in case.expected_sources
    if case.evidence and case.answerable is not False:
        v.evidence_found = not refused and any(
            contains_evidence(c.quote, case.evidence) or contains_evidence(c.passage, case.evidence) for c in citations
        )
    return v


def _hits(case: EvalCase, passage: Passage) -> bool:
    if case.evidence:
        return contains_evidence(passage.text, case.evidence)
    return passage.source in case.expected_sources


def _verbatim(source: str, quote: str, start: int, end: int, article_text: ArticleText) -> bool:
    if not quote:
        return False
    try:
        return article_text(source)[start:end] == quote
    except AssistantError:
        return False

