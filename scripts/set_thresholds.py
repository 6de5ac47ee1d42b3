#!/usr/bin/env python
"""Measure the seed test set and write the CI floors (tests/eval/thresholds.toml).

    .venv/bin/python scripts/set_thresholds.py                    # index sources/ in a temp dir, run, write
    .venv/bin/python scripts/set_thresholds.py --index index/     # reuse an index of sources/ (incremental)
    .venv/bin/python scripts/set_thresholds.py --results r.jsonl  # from `assistant eval ... --output r.jsonl`
    .venv/bin/python scripts/set_thresholds.py --dry-run          # print, do not write
    .venv/bin/python scripts/set_thresholds.py --save-results reports/seeds-results.jsonl   # keep the run for --baseline

How a floor is set: the measured value less the weight of ``--slack-questions``
questions (default 1) in that metric's count, rounded down to 3 decimals.
The default answerer is deterministic, so the slack only absorbs one borderline
question flipping on another CPU; citation validity keeps its measured value
(a quote that is not verbatim in its source is a bug). Latency is not gated
(timings depend on the machine): it is measured by ``scripts/bench.py``.

Run it after an intended change to retrieval or answers, read the diff of
thresholds.toml (a floor that goes down is a regression someone accepted), commit.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from assistant import Assistant, Config  # noqa: E402
from assistant.errors import AssistantError  # noqa: E402
from assistant.evaluate import (  # noqa: E402
    METRICS,
    OVERALL,
    RATIO_METRICS,
    Summary,
    floors_from,
    format_table,
    load_results,
    load_testset,
    run_eval,
    summarize,
    summarize_results,
)

SEEDS = ROOT / "tests" / "eval" / "seeds.jsonl"
TARGET = ROOT / "tests" / "eval" / "thresholds.toml"


def measure(index: Path | None, save: Path | None = None) -> tuple[Summary, dict[str, object]]:
    cases, problems = load_testset(SEEDS)
    if problems:
        raise SystemExit("error: fix the seed test set first:\n" + "\n".join(problems))
    with tempfile.TemporaryDirectory(prefix="thresholds-") as tmp:
        config = Config(sources_dir=ROOT / "sources", index_dir=index or Path(tmp) / "index")
        bot = Assistant(config)
        print(f"indexing {config.sources_dir} into {config.index_dir} ...", file=sys.stderr)
        print(bot.index().summary(), file=sys.stderr)
        results = run_eval(bot, cases)
        if save:  # the per-question results, for a later `assistant eval --baseline`
            save.parent.mkdir(parents=True, exist_ok=True)
            save.write_text("".join(json.dumps(r.to_record(), ensure_ascii=False) + "\n" for r in results), encoding="utf-8")
        generation = bot.store.store.generation()  # what the measured index was built with (its vectors' size too)
        settings = generation.settings.as_dict() if generation is not None else {}
    return summarize_results(results), settings


def render(summary: Summary, slack: int, settings: dict[str, object], source: str) -> str:
    floors = floors_from(summary, slack_questions=slack)
    lines = [
        "# Floors of the CI regression gate (tests/test_eval_gate.py):",
        "#   assistant eval tests/eval/seeds.jsonl --thresholds tests/eval/thresholds.toml",
        "# fails (exit 2) when a metric falls below its floor. Written by scripts/set_thresholds.py",
        f"# from measured results: floor = measured value - {slack} question(s) of slack, rounded down;",
        "# citation_validity keeps its measured value. Re-run that script after an intended change.",
        "",
        "[meta]",
        'testset = "tests/eval/seeds.jsonl"',
        f'measured = "{date.today().isoformat()}"',
        f'measured_from = "{source}"',
        f"slack_questions = {slack}",
        *(f'{k} = "{v}"' if isinstance(v, str) else f"{k} = {v}" for k, v in settings.items()),
    ]
    for section in [OVERALL, *sorted(summary.by_lang)]:
        metrics = summary.section(section)
        assert metrics is not None
        lines += ["", f"[{section}]"]
        for key in RATIO_METRICS:
            if key in floors.get(section, {}):
                m = metrics[key]
                lines.append(f"{key} = {floors[section][key]:.3f}  # measured {m.value:.3f} on {m.count} ({METRICS[key][0]})")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index", type=Path, help="an index of sources/ to reuse (updated incrementally)")
    parser.add_argument("--results", type=Path, help="score a results file of `assistant eval --output` instead of running")
    parser.add_argument("--save-results", type=Path, help="also write the per-question results (usable as --baseline)")
    parser.add_argument("--slack-questions", type=int, default=1)
    parser.add_argument("--output", type=Path, default=TARGET)
    parser.add_argument("--dry-run", action="store_true")
    args = parser.parse_args(argv)
    try:
        if args.results:
            records, problems = load_results(args.results)
            for p in problems:
                print(f"skipped: {p}", file=sys.stderr)
            summary = summarize([(r.lang, r.verdict) for r in records])
            settings: dict[str, object] = {}
            source = f"results file {args.results.name}"
        else:
            summary, settings = measure(args.index, args.save_results)
            source = "scripts/set_thresholds.py run of the default settings"
    except AssistantError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(format_table(summary), file=sys.stderr)
    text = render(summary, args.slack_questions, settings, source)
    if args.dry_run:
        print(text)
    else:
        args.output.write_text(text, encoding="utf-8")
        print(f"wrote {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
