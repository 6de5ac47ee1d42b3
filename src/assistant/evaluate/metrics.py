"""Metrics over verdicts, per language and overall, and their table."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from .judging import Verdict
from .running import QuestionResult

OVERALL = "overall"

@dataclass(frozen=True)
class Metric:
    value: float | None  # None: nothing to measure (count 0)
    count: int  # the questions (or citations) it was measured on

    def to_dict(self) -> dict[str, Any]:
        return {"value": None if self.value is None else round(self.value, 4), "count": self.count}


# key -> (label, group); ratios lie in [0, 1], latencies are milliseconds.
METRICS: dict[str, tuple[str, str]] = {
    "hit_at_1": ("retrieval hit@1", "retrieval"),
    "hit_at_3": ("retrieval hit@3", "retrieval"),
    "hit_at_5": ("retrieval hit@5", "retrieval"),
    "mrr_at_10": ("retrieval MRR@10", "retrieval"),
    "accuracy": ("answer accuracy", "answers"),
    "f1": ("answer token F1", "answers"),
    "citation_validity": ("citation validity", "citations"),
    "source_precision": ("citation source precision", "citations"),
    "evidence_recall": ("citation evidence recall", "citations"),
    "refusal_precision": ("refusal precision", "refusals"),
    "refusal_recall": ("refusal recall", "refusals"),
    "support": ("answer support", "answers"),
    "judge_faithfulness": ("judge faithfulness (LLM)", "LLM judge"),
    "judge_relevance": ("judge relevance (LLM)", "LLM judge"),
    "latency_p50_ms": ("latency p50 (ms)", "latency"),
    "latency_p95_ms": ("latency p95 (ms)", "latency"),
}
RATIO_METRICS = [k for k in METRICS if not k.endswith("_ms")]
# Reported, never given a floor by floors_from: support is 1.0 by construction for the
# extractive answerer, and the judge depends on a language model that CI does not run.
UNGATED_METRICS = frozenset({"support", "judge_faithfulness", "judge_relevance"})

Metrics = dict[str, Metric]


def metrics_for(verdicts: Sequence[Verdict]) -> Metrics:
    judged = [v for v in verdicts if v.retrieval_judged]
    ranks = [v.hit_rank for v in judged]
    graded = [v for v in verdicts if v.answer_correct is not None]
    with_f1 = [v.f1 for v in verdicts if v.f1 is not None]
    cited = sum(v.citations for v in verdicts)
    source_judged = sum(v.citations_judged_source for v in verdicts)
    evidence = [v.evidence_found for v in verdicts if v.evidence_found is not None]
    known = [v for v in verdicts if v.answerable is not None and v.error is None]
    refused = [v for v in known if v.refused]
    unanswerable = [v for v in known if v.answerable is False]
    latencies = sorted(v.latency_ms for v in verdicts if v.latency_ms is not None)
    support = [v.support for v in verdicts if v.support is not None]
    faithful = [v.judge_faithfulness for v in verdicts if v.judge_faithfulness is not None]
    relevant = [v.judge_relevance for v in verdicts if v.judge_relevance is not None]
    return {
        "hit_at_1": _share(sum(r is not None and r <= 1 for r in ranks), len(ranks)),
        "hit_at_3": _share(sum(r is not None and r <= 3 for r in ranks), len(ranks)),
        "hit_at_5": _share(sum(r is not None and r <= 5 for r in ranks), len(ranks)),
        "mrr_at_10": _share(sum(1 / r for r in ranks if r is not None and r <= 10), len(ranks)),
        "accuracy": _share(sum(bool(v.answer_correct) for v in graded), len(graded)),
        "f1": _share(sum(with_f1), len(with_f1)),
        "citation_validity": _share(sum(v.citations_valid for v in verdicts), cited),
        "source_precision": _share(sum(v.citations_expected_source for v in verdicts), source_judged),
        "evidence_recall": _share(sum(evidence), len(evidence)),
        "refusal_precision": _share(sum(v.answerable is False for v in refused), len(refused)),
        "refusal_recall": _share(sum(v.refused for v in unanswerable), len(unanswerable)),
        "support": _share(sum(support), len(support)),
        "judge_faithfulness": _share(sum(faithful), len(faithful)),
        "judge_relevance": _share(sum(relevant), len(relevant)),
        "latency_p50_ms": Metric(percentile(latencies, 50), len(latencies)),
        "latency_p95_ms": Metric(percentile(latencies, 95), len(latencies)),
    }


def _share(total: float, count: int) -> Metric:
    return Metric(total / count if count else None, count)


def percentile(sorted_values: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile of already sorted values (None when empty)."""
    if not sorted_values:
        return None
    rank = max(1, math.ceil(q / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


@dataclass
class Summary:
    questions: int
    overall: Metrics
    by_lang: dict[str, Metrics]
    counts: dict[str, int] = field(default_factory=dict)  # questions per language
    errors: int = 0

    def section(self, name: str) -> Metrics | None:
        return self.overall if name == OVERALL else self.by_lang.get(name)

    def to_dict(self) -> dict[str, Any]:
        return {
            "questions": self.questions,
            "errors": self.errors,
            "languages": dict(self.counts),
            OVERALL: {k: m.to_dict() for k, m in self.overall.items()},
            "by_lang": {lang: {k: m.to_dict() for k, m in ms.items()} for lang, ms in self.by_lang.items()},
        }


def summarize(records: Sequence[tuple[str, Verdict]]) -> Summary:
    """Metrics overall and per language from (lang, verdict) pairs."""
    langs = sorted({lang for lang, _ in records})
    return Summary(
        questions=len(records),
        overall=metrics_for([v for _, v in records]),
        by_lang={lang: metrics_for([v for l, v in records if l == lang]) for lang in langs},
        counts={lang: sum(1 for l, _ in records if l == lang) for lang in langs},
        errors=sum(1 for _, v in records if v.error),
    )


def summarize_results(results: Sequence[QuestionResult]) -> Summary:
    return summarize([(r.case.lang, r.verdict) for r in results])


def format_value(key: str, metric: Metric | None) -> str:
    if metric is None or metric.value is None:
        return "n/a"
    return f"{metric.value:.0f}" if key.endswith("_ms") else f"{metric.value:.3f}"


def format_table(summary: Summary) -> str:
    """A plain-text table: one row per metric, a column per language, counts in brackets."""
    columns = [OVERALL, *summary.by_lang]
    header = ["metric", *(f"{c} ({summary.questions if c == OVERALL else summary.counts[c]} q)" for c in columns)]
    rows = [header]
    for key, (label, _) in METRICS.items():
        row = [label]
        for c in columns:
            m = (summary.section(c) or {}).get(key)
            row.append(f"{format_value(key, m)} ({m.count if m else 0})")
        rows.append(row)
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in enumerate(zip(r, widths))) for r in rows]
    lines.insert(1, "-" * len(lines[0]))
    if summary.errors:
        lines.append(f"{summary.errors} question(s) could not be asked (see their 'error' verdict)")
    return "\n".join(lines)

