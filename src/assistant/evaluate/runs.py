"""Results files (``--output``) read back, and two runs compared question by question."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import EvalError
from .judging import Verdict
from .metrics import METRICS, OVERALL, Metric, Summary, format_value, summarize
from .running import QuestionResult
from .testset import LineError, read_text


@dataclass(frozen=True)
class Record:
    """One question of a results file (``--output``), enough to re-score and compare it."""

    id: str
    lang: str
    question: str
    answer: str
    verdict: Verdict


def load_results(path: Path) -> tuple[list[Record], list[str]]:
    text = read_text(path, "results file")
    records: list[Record] = []
    problems: list[str] = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
            if not isinstance(obj, dict) or "id" not in obj or not isinstance(obj.get("verdict"), dict):
                raise LineError('expected an object with "id" and "verdict"; give a file written by `assistant eval --output`')
            verdict = Verdict.from_dict(obj["verdict"])
        except json.JSONDecodeError as exc:
            problems.append(f"{path}:{number}: not valid JSON ({exc.msg}, column {exc.colno}); give a file written by `assistant eval --output`")
            continue
        except (LineError, TypeError) as exc:
            problems.append(f"{path}:{number}: {exc}")
            continue
        records.append(Record(str(obj["id"]), str(obj.get("lang", "")), str(obj.get("question", "")), str(obj.get("answer", "")), verdict))
    if not records:
        detail = f"; first problem: {problems[0]}" if problems else ""
        raise EvalError(f"results file {path} holds no question{detail}; give a file written by `assistant eval --output`")
    return records, problems


def records_of(results: Sequence[QuestionResult]) -> list[Record]:
    return [Record(r.case.id, r.case.lang, r.case.question, str(r.answer.get("answer", "")), r.verdict) for r in results]


@dataclass(frozen=True)
class Change:
    id: str
    question: str
    what: str  # e.g. "answer correct: no -> yes; hit rank 3 -> 1"
    old_answer: str
    new_answer: str


@dataclass
class Comparison:
    old: Summary
    new: Summary
    better: list[Change]
    worse: list[Change]
    other: list[Change]  # verdicts that moved without changing pass/fail
    only_old: list[str]
    only_new: list[str]

    def deltas(self, section: str = OVERALL) -> dict[str, tuple[float | None, float | None, float | None]]:
        old, new = self.old.section(section) or {}, self.new.section(section) or {}
        out = {}
        for key in METRICS:
            a = old[key].value if key in old else None
            b = new[key].value if key in new else None
            out[key] = (a, b, None if a is None or b is None else b - a)
        return out

    def to_dict(self) -> dict[str, Any]:
        def changes(items: list[Change]) -> list[dict[str, str]]:
            return [{"id": c.id, "question": c.question, "what": c.what} for c in items]

        return {
            "deltas": {k: {"old": a, "new": b, "delta": None if d is None else round(d, 4)} for k, (a, b, d) in self.deltas().items()},
            "better": changes(self.better),
            "worse": changes(self.worse),
            "other_changes": changes(self.other),
            "only_in_baseline": self.only_old,
            "only_in_this_run": self.only_new,
        }


def compare_runs(old: Sequence[Record], new: Sequence[Record]) -> Comparison:
    """Question by question (matched on id): which got better, which worse; and the metric deltas."""
    old_by_id = {r.id: r for r in old}
    new_by_id = {r.id: r for r in new}
    better: list[Change] = []
    worse: list[Change] = []
    other: list[Change] = []
    for rid, n in new_by_id.items():
        o = old_by_id.get(rid)
        if o is None:
            continue
        what = _describe_changes(o.verdict, n.verdict)
        if not what:
            continue
        change = Change(rid, n.question, what, o.answer, n.answer)
        before, after = o.verdict.passed, n.verdict.passed
        if before is not True and after is True:
            better.append(change)
        elif before is True and after is not True:
            worse.append(change)
        else:
            other.append(change)
    return Comparison(
        old=summarize([(r.lang, r.verdict) for r in old]),
        new=summarize([(r.lang, r.verdict) for r in new]),
        better=better,
        worse=worse,
        other=other,
        only_old=sorted(set(old_by_id) - set(new_by_id)),
        only_new=sorted(set(new_by_id) - set(old_by_id)),
    )


def _describe_changes(a: Verdict, b: Verdict) -> str:
    parts = []

    def yn(x: bool | None) -> str:
        return "n/a" if x is None else ("yes" if x else "no")

    if a.hit_rank != b.hit_rank and (a.retrieval_judged or b.retrieval_judged):
        parts.append(f"hit rank {a.hit_rank or 'miss'} -> {b.hit_rank or 'miss'}")
    for name, label in (("answer_correct", "answer correct"), ("refusal_right", "refusal right"), ("evidence_found", "evidence cited")):
        x, y = getattr(a, name), getattr(b, name)
        if x != y:
            parts.append(f"{label}: {yn(x)} -> {yn(y)}")
    if (a.citations_valid, a.citations) != (b.citations_valid, b.citations) and (a.citations_valid < a.citations or b.citations_valid < b.citations):
        parts.append(f"valid citations {a.citations_valid}/{a.citations} -> {b.citations_valid}/{b.citations}")
    if a.error != b.error:
        parts.append(f"error: {a.error or 'none'} -> {b.error or 'none'}")
    return "; ".join(parts)


def format_comparison(cmp: Comparison) -> str:
    lines = ["", "compared with the baseline run:"]
    for key, (a, b, d) in cmp.deltas().items():
        if a is None and b is None:
            continue
        old = format_value(key, Metric(a, 1))
        new = format_value(key, Metric(b, 1))
        delta = "" if d is None else (f"{d:+.0f}" if key.endswith("_ms") else f"{d:+.3f}")
        lines.append(f"  {METRICS[key][0]:<28} {old:>8} -> {new:<8} {delta}")
    lines.append(f"  {len(cmp.better)} better, {len(cmp.worse)} worse, {len(cmp.other)} other changes")
    for title, items in (("better", cmp.better), ("worse", cmp.worse)):
        for c in items[:20]:
            lines.append(f"  {title}: {c.id}: {c.what}")
        if len(items) > 20:
            lines.append(f"  ... and {len(items) - 20} more {title} (see --json or --report)")
    if cmp.only_old or cmp.only_new:
        lines.append(f"  {len(cmp.only_old)} question(s) only in the baseline, {len(cmp.only_new)} only in this run")
    return "\n".join(lines)

