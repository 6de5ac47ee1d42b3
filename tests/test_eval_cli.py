"""`assistant eval` end to end: the real index of the seed articles, the real models."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.config import Config
from assistant.index import IndexStore
from assistant.evaluate import answer_contains, load_testset

from conftest import REPO, cli_args, copy_sources, invoke, seed_files

SEEDS = REPO / "tests" / "eval" / "seeds.jsonl"


@pytest.fixture(scope="module")
def small_set(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Six seed questions: French and English, answerable and not."""
    cases, _ = load_testset(SEEDS)
    lines = SEEDS.read_text(encoding="utf-8").splitlines()
    picked: list[str] = []
    for want in [("fr", True), ("fr", True), ("en", True), ("en", True), ("fr", False), ("en", False)]:
        for case in cases:
            line = lines[case.line - 1]
            if (case.lang, case.answerable) == want and line not in picked:
                picked.append(line)
                break
    path = tmp_path_factory.mktemp("evalset") / "small.jsonl"
    path.write_text("\n".join(picked) + "\n", encoding="utf-8")
    return path


def test_eval_prints_metrics_and_writes_results_and_report(seed_index: Config, small_set: Path, tmp_path: Path):
    out, report = tmp_path / "results.jsonl", tmp_path / "report.html"
    result = invoke(cli_args(seed_index, "eval", str(small_set), "--output", str(out), "--report", str(report), "--json"))
    assert result.exit_code == 0, result.stderr
    metrics = json.loads(result.stdout)
    assert metrics["questions"] == 6 and metrics["languages"] == {"en": 3, "fr": 3}
    assert metrics["overall"]["hit_at_1"]["count"] == 4  # the answerable ones carry evidence
    assert metrics["overall"]["refusal_recall"]["count"] == 2
    assert set(metrics["by_lang"]) == {"en", "fr"}

    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    cases = {c.id: c for c in load_testset(small_set)[0]}
    assert [r["id"] for r in records] == list(cases)
    ask = invoke(cli_args(seed_index, "ask", cases[records[0]["id"]].question, "--json"))
    assert set(json.loads(ask.stdout)) | {"id", "lang", "verdict"} == set(records[0])
    for r in records:
        case, v = cases[r["id"]], r["verdict"]
        assert v["refused"] == r["refused"] and v["citations"] == len(r["citations"])
        if case.answers:
            assert v["answer_correct"] == (not r["refused"] and any(answer_contains(r["answer"], g) for g in case.answers))
        if case.answerable is False:
            assert v["refusal_right"] == r["refused"] and v["answer_correct"] is None

    page = report.read_text(encoding="utf-8")
    assert page.count('src="data:image/png;base64,') >= 2 and "Failed questions" in page


def test_plain_output_is_a_table_with_a_column_per_language(seed_index: Config, small_set: Path):
    result = invoke(cli_args(seed_index, "eval", str(small_set), "--limit", "2"))
    assert result.exit_code == 0, result.stderr
    header = result.stdout.splitlines()[0]
    assert header.split()[:3] == ["metric", "overall", "(2"] and "fr (2 q)" in header
    assert "retrieval MRR@10" in result.stdout and "latency p95 (ms)" in result.stdout


def test_malformed_lines_are_named_and_the_rest_runs(seed_index: Config, small_set: Path, tmp_path: Path):
    good = small_set.read_text(encoding="utf-8").splitlines()[0]
    path = tmp_path / "bad.jsonl"
    path.write_text(good + '\n{"question": \n{"id": "x"}\n', encoding="utf-8")
    result = invoke(cli_args(seed_index, "eval", str(path), "--json"))
    assert result.exit_code == 0, result.stderr
    assert f"skipped: {path}:2: not valid JSON" in result.stderr
    assert f"skipped: {path}:3: \"question\" is missing" in result.stderr
    assert json.loads(result.stdout)["questions"] == 1


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda d: ["eval", str(d / "missing.jsonl")], "does not exist"),
        (lambda d: ["eval", str(SEEDS), "--baseline", str(d / "old.jsonl")], "results file"),
        (lambda d: ["eval", str(SEEDS), "--thresholds", str(SEEDS)], "fix the TOML syntax"),
    ],
)
def test_bad_inputs_fail_fast_with_one_line_and_no_traceback(seed_index: Config, tmp_path: Path, make, expected):
    args = make(tmp_path)
    result = invoke([args[0], "--sources", str(seed_index.sources_dir), "--index", str(seed_index.index_dir), *args[1:]])
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: ") and expected in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr


def test_a_metric_below_its_floor_exits_2_and_says_which(seed_index: Config, small_set: Path, tmp_path: Path):
    floors = tmp_path / "thresholds.toml"
    floors.write_text("[de]\naccuracy = 0.5\n", encoding="utf-8")  # no German question: cannot be met
    result = invoke(cli_args(seed_index, "eval", str(small_set), "--limit", "1", "--thresholds", str(floors)))
    assert result.exit_code == 2
    assert "below floor: de answer accuracy: not measured" in result.stderr


def test_baseline_comparison_lists_the_question_that_changed(seed_index: Config, small_set: Path, tmp_path: Path):
    out = tmp_path / "now.jsonl"
    first = invoke(cli_args(seed_index, "eval", str(small_set), "--output", str(out), "--json"))
    assert first.exit_code == 0, first.stderr
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    # Pretend that an earlier run got the first answerable question the other way round.
    target = next(r for r in records if r["verdict"]["answer_correct"] is not None)
    was_passing = target["verdict"]["passed"]
    old_verdict = dict(target["verdict"])
    if was_passing:
        old_verdict.update(answer_correct=False)
    else:
        old_verdict.update(answer_correct=True, refusal_right=True, evidence_found=True, error=None, citations_valid=old_verdict["citations"])
    old = tmp_path / "old.jsonl"
    old.write_text(
        "".join(json.dumps({**r, "verdict": old_verdict} if r is target else r) + "\n" for r in records), encoding="utf-8"
    )
    result = invoke(cli_args(seed_index, "eval", str(small_set), "--baseline", str(old), "--json"))
    assert result.exit_code == 0, result.stderr
    cmp = json.loads(result.stdout)["baseline"]
    moved = cmp["better"] if was_passing else cmp["worse"]
    assert [c["id"] for c in moved] == [target["id"]]
    assert "answer correct" in moved[0]["what"]
    assert (cmp["worse"] if was_passing else cmp["better"]) == []
    expected_delta = (1 if was_passing else -1) / json.loads(result.stdout)["overall"]["accuracy"]["count"]
    assert cmp["deltas"]["accuracy"]["delta"] == pytest.approx(expected_delta, abs=1e-3)
    plain = invoke(cli_args(seed_index, "eval", str(small_set), "--baseline", str(old)))
    assert "compared with the baseline run:" in plain.stdout and target["id"] in plain.stdout


def test_a_missing_index_is_built_before_the_questions(tmp_path: Path, small_set: Path):
    sources = copy_sources(tmp_path / "sources", seed_files()[:1])
    config = Config(sources_dir=sources, index_dir=tmp_path / "index")
    result = invoke(cli_args(config, "eval", str(small_set), "--limit", "1", "--json"))
    assert result.exit_code == 0, result.stderr
    assert "indexed: 1 added" in result.stderr
    assert IndexStore(config).exists()
    again = invoke(cli_args(config, "eval", str(small_set), "--limit", "1", "--json"))
    assert again.exit_code == 0 and "indexed:" not in again.stderr  # current: not re-indexed


def test_no_sources_and_no_index_is_a_clear_error(tmp_path: Path, small_set: Path):
    config = Config(sources_dir=tmp_path / "nope", index_dir=tmp_path / "index")
    result = invoke(cli_args(config, "eval", str(small_set)))
    assert result.exit_code == 1 and "pass --sources DIR" in result.stderr and "Traceback" not in result.stderr
