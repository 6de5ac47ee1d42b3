"""`assistant eval TESTSET.jsonl`: score the answers against a test set.

Exit status: 0 done, 1 an error (one line on stderr), 2 a metric fell below its
floor in ``--thresholds`` (the CI regression gate).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from ..api import Assistant
from ..errors import EvalError
from ..evaluate import (
    Comparison,
    check_floors,
    compare_runs,
    format_comparison,
    format_table,
    load_floors,
    load_results,
    load_testset,
    records_of,
    run_eval,
    summarize_results,
)
from .common import config_of, llm_options, make_assistant, one_line, place_options, run_with_progress

EXIT_BELOW_FLOOR = 2


@click.command("eval")
@place_options
@llm_options
@click.argument("testset", type=click.Path(path_type=Path))
@click.option("--k", type=click.IntRange(1, 50), default=None,
              help="Passages listed with each answer [5]; the answerer reads the top 6 (a language model max(k, 6)).")
@click.option("--output", type=click.Path(path_type=Path, dir_okay=False), help="Write one JSON object per question (the `ask --json` object + id + verdicts).")
@click.option("--json", "as_json", is_flag=True, help="Print the metrics as one JSON object.")
@click.option("--report", type=click.Path(path_type=Path, dir_okay=False), help="Write a self-contained HTML report (needs matplotlib).")
@click.option("--baseline", type=click.Path(path_type=Path, dir_okay=False), help="Compare with an earlier --output file, question by question.")
@click.option("--thresholds", type=click.Path(path_type=Path, dir_okay=False), help="TOML floors; exit 2 when a metric falls below one.")
@click.option("--limit", type=click.IntRange(1), default=None, help="Only the first N questions (a quick look).")
@click.option("--judge", is_flag=True, help="Also score faithfulness and relevance with the --llm model as judge (one call per answer).")
@click.pass_context
def eval_command(
    ctx: click.Context,
    testset: Path,
    k: int | None,
    output: Path | None,
    as_json: bool,
    report: Path | None,
    baseline: Path | None,
    thresholds: Path | None,
    limit: int | None,
    judge: bool,
) -> None:
    """Score answers against TESTSET (JSONL: id, lang, question, answerable, answers, expected_sources, evidence)."""
    # Every input is checked before the (long) run, so a typo fails in a second.
    cases, problems = load_testset(testset)
    for problem in problems:
        click.echo(f"skipped: {problem}", err=True)
    if limit:
        cases = cases[:limit]
    floors = load_floors(thresholds) if thresholds else None
    old = None
    if baseline:
        old, old_problems = load_results(baseline)
        for problem in old_problems:
            click.echo(f"skipped: {problem}", err=True)
    if report:
        from ..report import require_matplotlib

        require_matplotlib()
    answerer = None
    if judge:  # the judge is the LLM answerer's own chat model
        config = config_of(ctx)
        if not config.llm:
            raise EvalError("--judge needs a language model: pass --llm PROVIDER:MODEL")
        from ..llm import build_answerer

        answerer = build_answerer(config)
        bot = Assistant(config, llm=answerer)
    else:
        bot = make_assistant(ctx)
    _update_index(bot)
    show_bar = sys.stderr.isatty()
    results = run_eval(bot, cases, k=k, progress=_progress_bar(len(cases)) if show_bar else None)
    if answerer is not None:
        from ..judge import judge_results

        judge_results(answerer.chat_model, results, progress=_progress_bar(len(results)) if show_bar else None)
    summary = summarize_results(results)
    comparison: Comparison | None = compare_runs(old, records_of(results)) if old is not None else None
    failures = check_floors(summary, floors) if floors is not None else []

    if output:
        _write_jsonl(output, [r.to_record() for r in results])
    if report:
        from ..report import render_report, write_report

        title = f"Evaluation of {testset.name}"
        notes = [f"index: {bot.config.index_dir}", f"sources: {bot.config.sources_dir}", f"answerer: {bot.config.llm or 'extractive'}"]
        if answerer is not None:
            notes.append(f"judge: {bot.config.llm} (faithfulness and relevance, one call per answer)")
        write_report(report, render_report(title, summary, results, comparison=comparison, notes=notes))

    if as_json:
        data: dict[str, Any] = {"testset": str(testset), "skipped_lines": problems, **summary.to_dict()}
        if comparison is not None:
            data["baseline"] = {"file": str(baseline), **comparison.to_dict()}
        if floors is not None:
            data["below_floor"] = failures
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        click.echo(format_table(summary))
        if comparison is not None:
            click.echo(format_comparison(comparison))
        for path, what in ((output, "results"), (report, "report")):
            if path:
                click.echo(f"{what}: {path}", err=True)
    if failures:
        for failure in failures:
            click.echo(f"below floor: {failure}", err=True)
        click.echo(f"{len(failures)} metric(s) below the floors of {thresholds}", err=True)
        sys.exit(EXIT_BELOW_FLOOR)


def _update_index(bot: Any) -> None:
    """Index the sources when the index is missing or stale (incremental; a no-op when current)."""
    sources = Path(bot.config.sources_dir)
    if not sources.is_dir():
        if bot.store.exists():
            click.echo(f"note: sources folder {sources} not found; evaluating the index {bot.config.index_dir} as it is", err=True)
            return
        raise EvalError(f"sources folder {sources} does not exist and {bot.config.index_dir} holds no index; pass --sources DIR")
    report = run_with_progress(bot, False, sys.stderr.isatty())
    if report.changed:
        click.echo(f"indexed: {report.summary()}", err=True)
    for problem in report.skipped:
        click.echo(f"skipped: {one_line(problem.source)}: {one_line(problem.reason)}", err=True)


def _progress_bar(total: int) -> Any:
    from tqdm import tqdm

    bar = tqdm(total=total, desc="questions", unit="q", file=sys.stderr, leave=False)

    def progress(done: int, _total: int) -> None:
        bar.n = done
        bar.refresh()
        if done >= total:
            bar.close()

    return progress


def _write_jsonl(path: Path, records: list[dict[str, Any]]) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "w", encoding="utf-8") as fh:
            for record in records:
                fh.write(json.dumps(record, ensure_ascii=False) + "\n")
    except OSError as exc:
        raise EvalError(f"cannot write {path} ({exc.strerror}); choose another --output path") from None
