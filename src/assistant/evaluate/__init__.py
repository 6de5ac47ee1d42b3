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

One module per step, each importing only the ones before it::

    testset   the JSONL format (EvalCase, load_testset)
    matching  answers and evidence compared after folding
    judging   one question's Verdict
    running   a test set through the assistant (QuestionResult, run_eval)
    metrics   Verdicts aggregated (Summary, format_table)
    runs      results files read back and two runs compared
    floors    the CI regression gate
"""

from ..errors import EvalError
from .floors import Floors, check_floors, floors_from, load_floors
from .judging import RETRIEVAL_DEPTH, ArticleText, Verdict, judge
from .matching import answer_contains, answer_fold, answer_tokens, contains_evidence, token_f1
from .metrics import (
    METRICS,
    OVERALL,
    RATIO_METRICS,
    UNGATED_METRICS,
    Metric,
    Metrics,
    Summary,
    format_table,
    format_value,
    metrics_for,
    percentile,
    summarize,
    summarize_results,
)
from .running import QuestionResult, ask_one, run_eval
from .runs import Change, Comparison, Record, compare_runs, format_comparison, load_results, records_of
from .testset import EvalCase, load_testset, parse_case

__all__ = [
    "METRICS", "OVERALL", "RATIO_METRICS", "RETRIEVAL_DEPTH", "UNGATED_METRICS",
    "ArticleText", "Change", "Comparison", "EvalCase", "EvalError", "Floors", "Metric", "Metrics",
    "QuestionResult", "Record", "Summary", "Verdict",
    "answer_contains", "answer_fold", "answer_tokens", "ask_one", "check_floors", "compare_runs",
    "contains_evidence", "floors_from", "format_comparison", "format_table", "format_value", "judge",
    "load_floors", "load_results", "load_testset", "metrics_for", "parse_case", "percentile", "records_of",
    "run_eval", "summarize", "summarize_results", "token_f1",
]
