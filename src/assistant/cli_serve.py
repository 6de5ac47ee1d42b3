"""`assistant serve` (the web chat) and `assistant watch` (re-index on changes to sources/)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from .cli import _apply_common, _common, friendly, make_assistant
from .config import DEFAULT_MAX_FILE_MB

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def parse_auth(value: str | None) -> tuple[str, str] | None:
    """``"user:password"`` -> ("user", "password"); raises a one-line usage error otherwise."""
    if value is None or value == "":
        return None
    user, sep, password = value.partition(":")
    if not sep or not user.strip() or not password:
        raise click.BadParameter("must be USER:PASSWORD, e.g. --auth alice:s3cret (or ASSISTANT_AUTH=alice:s3cret)",
                                 param_hint="--auth")
    return user.strip(), password


@click.command()
@_common
@click.option("--host", default="127.0.0.1", show_default=True, envvar="ASSISTANT_HOST",
              help="Address to listen on; 0.0.0.0 opens the page to the network (use --auth then).")
@click.option("--port", type=click.IntRange(1, 65535), default=7860, show_default=True, envvar="ASSISTANT_PORT")
@click.option("--auth", envvar="ASSISTANT_AUTH", default=None, metavar="USER:PASSWORD",
              help="Ask for this login on the page (or env ASSISTANT_AUTH).")
@click.option("--max-upload-mb", type=click.FloatRange(min=0.001), default=None,
              help=f"Largest article file that can be uploaded [{DEFAULT_MAX_FILE_MB:g}].")
@click.option("--no-watch", is_flag=True, help="Do not watch sources/ for changes made outside the page.")
@click.pass_context
@friendly
def serve(ctx: click.Context, sources_opt: Path | None, index_opt: Path | None, host: str, port: int,
          auth: str | None, max_upload_mb: float | None, no_watch: bool) -> None:
    """Start the web chat (indexes new and changed articles in the background)."""
    _apply_common(ctx, sources_opt, index_opt)
    credentials = parse_auth(auth)
    bot = make_assistant(ctx, max_file_mb=max_upload_mb)
    bot.status()  # a damaged or mismatched index fails here, with its message, not on the page
    try:
        from assistant.ui.server import serve as serve_page
    except ImportError as exc:
        raise click.ClickException(f"the web chat needs the ui extra ({exc.name} is missing): pip install -e '.[ui]'")
    if host not in LOOPBACK and credentials is None:
        click.echo(f"warning: serving on {host} without --auth: anyone who can reach it can use the page", err=True)

    def ready(url: str) -> None:
        click.echo(f"Web chat ready at {url}  (sources: {bot.config.sources_dir}, index: {bot.config.index_dir}; "
                   "Ctrl-C to stop)", err=True)

    def indexed(event: Any) -> None:
        click.echo(event.line(), err=True)

    try:
        serve_page(bot, host=host, port=port, auth=credentials, max_upload_mb=bot.config.max_file_mb,
                   watch=not no_watch, on_ready=ready, on_index_event=indexed)
    except OSError as exc:
        raise click.ClickException(
            f"cannot listen on {host}:{port} ({exc.strerror or exc}); pass another --port, or stop the other server"
        ) from None


@click.command()
@_common
@click.pass_context
@friendly
def watch(ctx: click.Context, sources_opt: Path | None, index_opt: Path | None) -> None:
    """Watch sources/ and re-index added, changed and removed articles (Ctrl-C to stop)."""
    from .watch import Indexer, watch_sources

    _apply_common(ctx, sources_opt, index_opt)
    bot = make_assistant(ctx)
    bot.status()
    if not Path(bot.config.sources_dir).is_dir():
        raise click.ClickException(
            f"sources folder {bot.config.sources_dir} does not exist; create it or pass --sources DIR"
        )
    click.echo(f"watching {bot.config.sources_dir} (index: {bot.config.index_dir}); Ctrl-C to stop", err=True)
    indexer = Indexer(bot)
    try:
        # (on file systems without change events, set WATCHFILES_FORCE_POLLING=1)
        watch_sources(indexer, on_event=lambda event: click.echo(event.line()))
    except KeyboardInterrupt:  # Ctrl-C is how one stops watching: not an error
        if indexer.busy:
            click.echo("an update was interrupted; the previous index is intact", err=True)
    click.echo("stopped watching", err=True)

