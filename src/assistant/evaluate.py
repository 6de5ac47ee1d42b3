"""Score the assistant against a test set: load, run, judge, aggregate, compare.

The test-set format is the JSONL of ``../shared/bench/README.md``, one question a line::

    {"id": "q1", "lang": "fr", "question": "...", "answerable": true,
     "answers": ["..."], "expected_sources": ["file.txt"], "evidence": ["verbatim excerpt"]}

Only ``question`` is required; a missing field switches off the metrics that need it
(no ``evidence`` and no ``expected_sources``: no retrieval metrics for that question;
no ``answers``: no accuracy/F1; no ``answerable``: no refusal metrics). Unknown fields
are ignored. A malformed line is reported as ``FILE:LINE: what is wrong; the fix``
and skipped; the other lines still run.

Everything here is plain functions over plain data, so that a results file written
by one run (``--output``) can be re-scored and compared with a later run.
"""

from __future__ import annotations

import json
import math
import re
import time
import tomllib
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import AssistantError, EvalError  # noqa: F401  (EvalError: imported from here by callers)
from .markers import strip_markers
from .models import Answer, Passage
from .text import detect_language, fold

if TYPE_CHECKING:  # pragma: no cover
    from .api import Assistant

RETRIEVAL_DEPTH = 10  # passages searched per question for hit@k and MRR@10
OVERALL = "overall"


# --- test sets ----------------------------------------------------------------


@dataclass(frozen=True)
class EvalCase:
    id: str
    question: str
    lang: str
    answerable: bool | None = None  # None: unknown, refusal metrics skip it
    answers: tuple[str, ...] = ()
    expected_sources: tuple[str, ...] = ()
    evidence: tuple[str, ...] = ()
    line: int = 0


class _LineError(ValueError):
    pass


def load_testset(path: Path) -> tuple[list[EvalCase], list[str]]:
    """The usable questions of a JSONL test set, and one message per malformed line."""
    text = _read_text(path, "test set")
    cases: list[EvalCase] = []
    problems: list[str] = []
    seen: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            case = parse_case(json.loads(line), number)
        except json.JSONDecodeError as exc:
            problems.append(f"{path}:{number}: not valid JSON ({exc.msg}, column {exc.colno}); write one JSON object per line")
            continue
        except _LineError as exc:
            problems.append(f"{path}:{number}: {exc}")
            continue
        if case.id in seen:
            problems.append(f"{path}:{number}: id {case.id!r} is already used on line {seen[case.id]}; give every question its own id")
            continue
        seen[case.id] = number
        cases.append(case)
    if not cases:
        detail = f"; first problem: {problems[0]}" if problems else '; write one JSON object per line with at least a "question"'
        raise EvalError(f"{path} holds no usable question{detail}")
    return cases, problems


def parse_case(obj: object, line: int = 0) -> EvalCase:
    if not isinstance(obj, dict):
        raise _LineError(f'expected a JSON object like {{"question": "..."}}, got {type(obj).__name__}')
    question = obj.get("question")
    if not isinstance(question, str) or not question.strip():
        raise _LineError('"question" is missing or empty; every line needs a question')
    raw_id = obj.get("id", f"line-{line}")
    if not isinstance(raw_id, (str, int)) or isinstance(raw_id, bool) or str(raw_id).strip() == "":
        raise _LineError('"id" must be a non-empty string or a number')
    lang = obj.get("lang")
    if lang is None:
        lang = detect_language(question, default="en")
    elif not isinstance(lang, str) or not re.fullmatch(r"[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]+)?", lang):
        raise _LineError(f'"lang" must be a language code such as "fr" or "en", got {lang!r}')
    answerable = obj.get("answerable")
    if answerable is not None and not isinstance(answerable, bool):
        raise _LineError(f'"answerable" must be true or false, got {json.dumps(answerable, ensure_ascii=False)}')
    lists = {name: _string_list(obj, name) for name in ("answers", "expected_sources", "evidence")}
    if answerable is False and lists["answers"]:
        raise _LineError('"answerable" is false but "answers" are given; remove the answers or set "answerable": true')
    return EvalCase(
        id=str(raw_id).strip(),
        question=question,
        lang=lang.lower()[:2],
        answerable=answerable,
        answers=lists["answers"],
        expected_sources=lists["expected_sources"],
        evidence=lists["evidence"],
        line=line,
    )


def _string_list(obj: dict[str, Any], name: str) -> tuple[str, ...]:
    value = obj.get(name)
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _LineError(f'"{name}" must be a list of strings, e.g. "{name}": ["..."]')
    return tuple(v for v in value if v.strip())


def _read_text(path: Path, what: str) -> str:
    try:
        return Path(path).read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        raise EvalError(f"{what} {path} does not exist; check the path") from None
    except IsADirectoryError:
        raise EvalError(f"{what} {path} is a folder; give the path of a .jsonl file") from None
    except UnicodeDecodeError as exc:
        raise EvalError(f"{what} {path} is not UTF-8 text (byte {exc.start}); save it as UTF-8") from None
    except OSError as exc:
        raise EvalError(f"cannot read {what} {path} ({exc.strerror}); check its permissions") from None


# --- string matching ----------------------------------------------------------

_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "ʼ": "'", "`": "'", "´": "'"})
# Articles dropped before token F1: SQuAD's English ones, and the French definite,
# indefinite, partitive and contracted articles (l' and d' become "l" and "d" once
# the apostrophe splits the elision). Both lists apply to every answer: an English
# question over French articles gets a French answer.
ARTICLES = frozenset({"a", "an", "the", "le", "la", "les", "l", "un", "une", "des", "du", "de", "d", "au", "aux"})


def answer_fold(text: str) -> str:
    """Comparison form for answers: markers dropped, NFKC, case, whitespace and apostrophe folding."""
    return fold(strip_markers(text).translate(_APOSTROPHES))


def answer_contains(answer: str, gold: str) -> bool:
    g = answer_fold(gold)
    return bool(g) and g in answer_fold(answer)


def answer_tokens(text: str) -> list[str]:
    """SQuAD-style tokens: lower-case, punctuation removed, articles and elided articles dropped."""
    text = unicodedata.normalize("NFKC", strip_markers(text)).casefold().translate(_APOSTROPHES)
    # Punctuation becomes a space, so elisions split: l'homme -> l homme, jusqu'à -> jusqu à.
    text = "".join(" " if unicodedata.category(ch).startswith("P") else ch for ch in text)
    return [t for t in text.split() if t not in ARTICLES]


def token_f1(prediction: str, gold: str) -> float:
    pred, ref = answer_tokens(prediction), answer_tokens(gold)
    if not pred or not ref:
        return float(pred == ref)
    common = sum((Counter(pred) & Counter(ref)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(pred), common / len(ref)
    return 2 * precision * recall / (precision + recall)


def contains_evidence(text: str, evidence: Iterable[str]) -> bool:
    folded = fold(text)
    return any(e and e in folded for e in (fold(x) for x in evidence))


# --- judging one question -----------------------------------------------------


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


# --- running ------------------------------------------------------------------


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


# --- metrics ------------------------------------------------------------------


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


# --- results files and run comparison -----------------------------------------


@dataclass(frozen=True)
class Record:
    """One question of a results file (``--output``), enough to re-score and compare it."""

    id: str
    lang: str
    question: str
    answer: str
    verdict: Verdict


def load_results(path: Path) -> tuple[list[Record], list[str]]:
    text = _read_text(path, "results file")
    records: list[Record] = []
    problems: list[str] = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
            if not isinstance(obj, dict) or "id" not in obj or not isinstance(obj.get("verdict"), dict):
                raise _LineError('expected an object with "id" and "verdict"; give a file written by `assistant eval --output`')
            verdict = Verdict.from_dict(obj["verdict"])
        except json.JSONDecodeError as exc:
            problems.append(f"{path}:{number}: not valid JSON ({exc.msg}, column {exc.colno}); give a file written by `assistant eval --output`")
            continue
        except (_LineError, TypeError) as exc:
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


# --- floors (the CI regression gate) -------------------------------------------


Floors = dict[str, dict[str, float]]  # section ("overall" or a language) -> metric -> floor


def load_floors(path: Path) -> Floors:
    """``[overall]`` and per-language tables of ``metric = floor`` (ratio metrics only)."""
    text = _read_text(path, "thresholds file")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise EvalError(f"{path}: {exc}; fix the TOML syntax") from None
    floors: Floors = {}
    for section, table in data.items():
        if section == "meta":  # free-form notes of how the floors were measured
            continue
        if not isinstance(table, dict):
            raise EvalError(f"{path}: {section} = ... must be a table; write [{section}] then metric = floor lines")
        for key, value in table.items():
            if key not in RATIO_METRICS:
                raise EvalError(f"{path}: [{section}] {key} is not a metric; use one of {', '.join(RATIO_METRICS)}")
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
                raise EvalError(f"{path}: [{section}] {key} = {value!r} must be a number between 0 and 1")
            floors.setdefault(section, {})[key] = float(value)
    return floors


def check_floors(summary: Summary, floors: Floors) -> list[str]:
    """One line per metric below its floor (empty: the gate passes)."""
    failures = []
    for section, table in floors.items():
        metrics = summary.section(section)
        for key, floor in table.items():
            m = metrics.get(key) if metrics else None
            label = f"{section} {METRICS[key][0]}"
            if m is None or m.value is None:
                failures.append(f"{label}: not measured (no {section} questions with what it needs), floor {floor:.3f}")
            elif m.value < floor - 1e-9:
                failures.append(f"{label}: {m.value:.3f} on {m.count} is below its floor {floor:.3f}")
    return failures


def floors_from(summary: Summary, slack_questions: int = 1, exact: Iterable[str] = ("citation_validity",)) -> Floors:
    """Floors from a measured run: each value less the weight of ``slack_questions`` questions.

    A deterministic answerer gives the same numbers run after run; the slack absorbs
    one borderline question flipping on another CPU (float rounding in the embedder),
    not a real regression. ``exact`` metrics (a non-verbatim quote is a bug) keep their value.
    ``UNGATED_METRICS`` get no floor (one may still be written into a thresholds file by hand).
    """
    exact = set(exact)
    out: Floors = {}
    for section, metrics in [(OVERALL, summary.overall), *summary.by_lang.items()]:
        for key in RATIO_METRICS:
            m = metrics[key]
            if key in UNGATED_METRICS or m.value is None or m.count == 0:
                continue
            slack = 0 if key in exact else slack_questions / m.count
            out.setdefault(section, {})[key] = max(0.0, math.floor((m.value - slack) * 1000 + 1e-6) / 1000)
    return out
