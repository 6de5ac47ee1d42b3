"""`assistant index | status | search | ask`: the index and the questions."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from ..config import MAX_K, MAX_NAMED_FILES
from ..documents import name_in
from ..errors import build_hint
from ..models import Answer, IndexReport
from .common import (
    leave_memory_to_the_os, llm_options, make_assistant, one_line, place_options, require_sources, run_with_progress,
)

EXIT_SKIPPED = 3  # indexing finished but some files were skipped


@click.command()
@place_options
@click.option("--rebuild", is_flag=True, help="Delete the index and embed every article again.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option("--max-file-mb", type=click.FloatRange(min=0.001), default=None, help="Skip files larger than this [10; env ASSISTANT_MAX_FILE_MB].")
@click.argument("files", nargs=-1, type=click.Path(path_type=Path))
@click.pass_context
def index(ctx: click.Context, rebuild: bool, as_json: bool, max_file_mb: float | None, files: tuple[Path, ...]) -> None:
    """Index new, changed and removed articles (incremental).

    FILES: check only these files of the sources folder (added, edited or deleted),
    not the whole folder; beyond 1000, the whole folder is scanned.
    """
    bot = make_assistant(ctx, max_file_mb=max_file_mb)
    require_sources(bot.config)
    names = _source_names(bot.config.sources_dir, files) if files and not rebuild else None
    show_bar = not as_json and sys.stderr.isatty()
    report = run_with_progress(bot, rebuild, show_bar, names)
    _print_report(report, as_json)
    leave_memory_to_the_os()  # every write is committed by now
    if report.skipped:
        sys.exit(EXIT_SKIPPED)


def _source_names(sources_dir: Path, files: tuple[Path, ...]) -> list[str] | None:
    names = []
    for path in files:
        name = name_in(sources_dir, path)
        if name is None:
            raise click.BadParameter(f"{path} is not inside the sources folder {sources_dir}; copy it there, or pass --sources", param_hint="FILES")
        names.append(name)
    return names if len(names) <= MAX_NAMED_FILES else None


def _print_report(report: IndexReport, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
        return
    for source, original in sorted(report.duplicates.items()):
        click.echo(f"duplicate: {one_line(source)} has the same text as {one_line(original)}; indexed once", err=True)
    for problem in report.skipped:
        click.echo(f"skipped: {one_line(problem.source)}: {one_line(problem.reason)}", err=True)
    for problem in report.warnings:
        click.echo(f"warning: {one_line(problem.source)}: {one_line(problem.reason)}", err=True)
    click.echo(report.summary())


@click.command()
@place_options
@llm_options
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def status(ctx: click.Context, as_json: bool) -> None:
    """Articles, chunks, model, languages, last indexed time, size on disk."""
    bot = make_assistant(ctx)
    st = bot.status()
    leave_memory_to_the_os()
    if as_json:
        click.echo(json.dumps(st.to_dict(), ensure_ascii=False, indent=2))
        return
    langs = ", ".join(f"{k} {v}" for k, v in sorted(st.languages.items())) or "-"
    click.echo(
        f"index:           {st.index_dir}\n"
        f"articles:        {st.articles}\n"
        f"chunks:          {st.chunks}\n"
        f"embedding model: {st.embedding_model} ({st.dimension} dims)\n"
        f"chunking:        {st.chunking['chunk_tokens']} tokens, {st.chunking['chunk_overlap_sentences']} sentence overlap\n"
        f"languages:       {langs}\n"
        f"last indexed:    {st.last_indexed or 'never'}\n"
        f"size on disk:    {st.size_bytes / 1e6:.1f} MB"
    )
    if st.last_indexed is None and not st.articles:  # nothing there: say so, a typo in --index reads the same
        click.echo(f"no index here yet (never built, or a typo in --index); "
                   f"{build_hint(bot.config.sources_dir, bot.config.index_dir)}", err=True)
    if bot.config.llm:
        llm = getattr(bot, "_llm", None)  # built (and checked) by make_assistant; check() asks the server again
        click.echo(f"language model:  {bot.config.llm} ({llm.check() if llm is not None else 'reachable'})")


@click.command()
@place_options
@click.argument("question")
@click.option("--k", type=click.IntRange(1, MAX_K), default=None, help="Passages to return [5].")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def search(ctx: click.Context, question: str, k: int | None, as_json: bool) -> None:
    """Ranked passages for QUESTION (no answer)."""
    passages = make_assistant(ctx).search(question, k)
    leave_memory_to_the_os()
    if as_json:
        click.echo(json.dumps([p.to_dict() for p in passages], ensure_ascii=False, indent=2))
        return
    for i, p in enumerate(passages, 1):
        click.echo(f"[{i}] {p.score:.4f}  {p.title} ({p.date or 'undated'}) — {one_line(p.source)} [{p.start}:{p.end}]")
        click.echo(f"    {p.text[:400]}{'…' if len(p.text) > 400 else ''}\n")


@click.command()
@place_options
@llm_options
@click.argument("question")
@click.option("--k", type=click.IntRange(1, MAX_K), default=None,
              help="Passages listed with the answer [5]; the answerer reads the top 6 (a language model max(k, 6)).")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def ask(ctx: click.Context, question: str, k: int | None, as_json: bool) -> None:
    """Answer QUESTION from the articles, every sentence cited."""
    bot = make_assistant(ctx)
    leave_memory_to_the_os()  # a reader: it never writes to the store
    if as_json:
        click.echo(json.dumps(bot.ask(question, k=k).to_dict(), ensure_ascii=False, indent=2))
        return
    answer: Answer | None = None
    streamed = False
    for event in bot.ask_stream(question, k=k):
        if isinstance(event, Answer):
            answer = event
        else:
            click.echo(event, nl=False)
            streamed = True
    if streamed:
        click.echo()
    assert answer is not None
    print_answer(answer)


def print_answer(answer: Answer) -> None:
    if answer.notice:
        click.echo(f"note: {answer.notice}", err=True)
    if answer.unsupported:
        for sentence in answer.unsupported:
            click.echo(f"unsupported (no source says this): {sentence}", err=True)
    if answer.refused:
        if answer.retrieved:
            click.echo("\nClosest passages:")
            for p in answer.retrieved[:3]:
                excerpt = " ".join(p.text.split())[:160]
                click.echo(f"  - {one_line(p.source)} ({p.date or 'undated'}): {excerpt}…")
        return
    click.echo()
    for c in answer.citations:
        click.echo(f"[{c.id}] {c.title} — {c.date or 'undated'} — {one_line(c.source)} [{c.start}:{c.end}]")
        click.echo(f"    « {c.quote} »")
