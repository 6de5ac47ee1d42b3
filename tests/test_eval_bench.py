"""scripts/bench.py: the tutorial baseline is built as the tutorial says and judged by the same code.

The full benchmark runs for minutes (``make bench``); here the baseline runs on the seed articles.
"""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType

import pytest
from conftest import REPO

from assistant.evaluate import contains_evidence, load_testset

SEEDS = REPO / "tests" / "eval" / "seeds.jsonl"


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_script", REPO / "scripts" / "bench.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_tutorial_answers_with_its_top_passage_at_true_offsets(bench, tmp_path, capsys):
    tutorial = bench.Tutorial.build(REPO / "sources", tmp_path / "chroma")
    assert "embedded" in capsys.readouterr().err
    cases = [c for c in load_testset(SEEDS)[0] if c.evidence][:6]
    for case in cases:
        result = tutorial.ask(case)
        answer, top = result.answer, result.ranked[0]
        assert answer["answer"] == top["text"] and answer["refused"] is False
        assert len(top["text"]) <= bench.TUTORIAL_CHUNK
        (citation,) = answer["citations"]
        assert tutorial.texts[citation["source"]][citation["start"] : citation["end"]] == citation["quote"]
        assert result.verdict.citations_valid == 1
        first_hit = next((i for i, p in enumerate(result.ranked, 1) if contains_evidence(p["text"], case.evidence)), None)
        assert result.verdict.hit_rank == first_hit
        assert result.verdict.latency_ms is not None and result.verdict.latency_ms > 0
    bench.Tutorial.build(REPO / "sources", tmp_path / "chroma")  # same sources: nothing embedded again
    assert "embedded" not in capsys.readouterr().err


def test_a_missing_bench_folder_is_one_clear_line(bench, tmp_path, capsys):
    assert bench.main(["--bench-dir", str(tmp_path / "nowhere")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: piaf-fr, squad2-en not found under") and "--bench-dir" in err
    assert len(err.strip().splitlines()) == 1


def test_the_summary_table_puts_both_systems_side_by_side(bench):
    from assistant.evaluate import Verdict, summarize

    ours = summarize([("fr", Verdict(retrieval_judged=True, hit_rank=1))])
    theirs = summarize([("fr", Verdict(retrieval_judged=True, hit_rank=2))])
    rows = bench.table([bench.SetResult("piaf-fr", ours, theirs, REPO / "x.html", 0.0)])
    assert rows[0] == ["metric", "piaf-fr: this system (1 q)", "piaf-fr: tutorial baseline"]
    assert ["retrieval hit@1", "1.000 (1)", "0.000 (1)"] in rows
    assert bench.as_markdown(rows).splitlines()[1] == "|---|---|---|"
