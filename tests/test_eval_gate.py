"""The CI regression gate: `assistant eval tests/eval/seeds.jsonl` must stay above its floors.

The floors in ``tests/eval/thresholds.toml`` were measured on this same test set with
the default settings (see ``scripts/set_thresholds.py``). A change that makes
retrieval, answers, citations or refusals worse on the seed articles fails here,
with one line per metric that dropped. After an intended change, re-measure:

    .venv/bin/python scripts/set_thresholds.py
"""

from __future__ import annotations

import json
import tomllib

from conftest import REPO, run_assistant

from assistant.config import Config
from assistant.evaluate import load_floors, load_testset

SEEDS = REPO / "tests" / "eval" / "seeds.jsonl"
THRESHOLDS = REPO / "tests" / "eval" / "thresholds.toml"


def test_thresholds_cover_every_language_of_the_seed_set_and_the_main_metrics():
    floors = load_floors(THRESHOLDS)
    langs = {c.lang for c in load_testset(SEEDS)[0]}
    assert set(floors) == {"overall", *langs}
    for key in ("hit_at_1", "hit_at_5", "accuracy", "citation_validity", "refusal_precision", "refusal_recall"):
        assert key in floors["overall"], key
    assert floors["overall"]["citation_validity"] == 1.0  # a quote that is not verbatim is a bug, never tolerated
    meta = tomllib.loads(THRESHOLDS.read_text(encoding="utf-8"))["meta"]
    assert meta["testset"] == "tests/eval/seeds.jsonl" and meta["measured"]


def test_seed_metrics_stay_above_their_floors(seed_index: Config, tmp_path):
    proc = run_assistant(
        "eval", str(SEEDS.relative_to(REPO)),
        "--sources", str(seed_index.sources_dir), "--index", str(seed_index.index_dir),
        "--thresholds", str(THRESHOLDS.relative_to(REPO)), "--json", "--output", str(tmp_path / "results.jsonl"),
        timeout=900,
    )
    assert "Traceback" not in proc.stderr, proc.stderr
    report = json.loads(proc.stdout)
    assert report["skipped_lines"] == []
    assert report["errors"] == 0
    assert proc.returncode == 0, "metrics below their floors:\n" + "\n".join(report["below_floor"])
    assert report["below_floor"] == []
    assert report["questions"] == len(load_testset(SEEDS)[0])
    # The floors follow the last measurement (less one question); the answer issue's own targets
    # for the seeds do not move: accuracy 0.85 and five unanswerable questions of six refused.
    overall = report["overall"]
    assert overall["accuracy"]["value"] >= 0.85, overall["accuracy"]
    assert overall["refusal_recall"]["value"] >= 5 / 6 - 1e-4, overall["refusal_recall"]  # reported to 4 decimals
