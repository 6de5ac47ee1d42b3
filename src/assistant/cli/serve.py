"""`assistant serve` (the web chat) and `assistant watch` (re-index on changes to sources/).

Both stop cleanly on Ctrl-C and on SIGTERM (see ``common.handle_sigterm``): the
server closes, an update in progress is abandoned before its commit point.
"""

from __future__ import annotations

import socket
from typing import Any

import click

from ..config import DEFAULT_MAX_FILE_MB
from .common import llm_options, make_assistant, place_options, require_sources

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def _cannot_listen(host: str, port: int, why: object) -> click.ClickException:
    return click.ClickException(f"cannot listen on {host}:{port} ({why}); pass another --port, or stop the other server")


def check_port(host: str, port: int) -> None:
    """A port another server holds is reported now, in a second, rather than after the page's
    libraries have loaded (several seconds); the server's own bind still reports any later race."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0]
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server binds: TIME_WAIT is no conflict
            probe.bind(address)
    except OSError as exc:  # gaierror included: a host name that does not resolve
        raise _cannot_listen(host, port, exc.strerror or exc) from None


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
@place_options
@llm_options
@click.option("--host", default=None, help="Address to listen on [127.0.0.1; env ASSISTANT_HOST]; "
              "0.0.0.0 opens the page to the network (use --auth then).")
@click.option("--port", type=click.IntRange(1, 65535), default=None, help="[7860; env ASSISTANT_PORT]")
@click.option("--auth", default=None, metavar="USER:PASSWORD", help="Ask for this login on the page [env ASSISTANT_AUTH].")
@click.option("--max-upload-mb", type=click.FloatRange(min=0.001), default=None,
              help=f"Largest article file that can be uploaded [{DEFAULT_MAX_FILE_MB:g}; env ASSISTANT_MAX_FILE_MB].")
@click.option("--no-watch", is_flag=True, help="Do not watch sources/ for changes made outside the page.")
@click.pass_context
def serve(ctx: click.Context, host: str | None, port: int | None, auth: str | None, max_upload_mb: float | None,
          no_watch: bool) -> None:
    """Start the web chat (indexes new and changed articles in the background)."""
    bot = make_assistant(ctx, max_file_mb=max_upload_mb, host=host, port=port, auth=auth)
    config = bot.config
    credentials = parse_auth(config.auth)
    check_port(config.host, config.port)
    bot.status()  # a damaged or mismatched index fails here, with its message, not on the page
    try:
        from assistant.ui.server import serve as serve_page
    except ImportError as exc:
        raise click.ClickException(f"the web chat needs the ui extra ({exc.name} is missing): pip install -e '.[ui]'")
    if config.host not in LOOPBACK and credentials is None:
        click.echo(f"warning: serving on {config.host} without --auth: anyone who can reach it can use the page", err=True)

    def ready(url: str) -> None:
        click.echo(f"Web chat ready at {url}  (sources: {config.sources_dir}, index: {config.index_dir}; "
                   "Ctrl-C to stop)", err=True)

    def indexed(event: Any) -> None:
        click.echo(event.line(), err=True)

    try:
        serve_page(bot, host=config.host, port=config.port, auth=credentials, max_upload_mb=config.max_file_mb,
                   watch=not no_watch, on_ready=ready, on_index_event=indexed)
    except OSError as exc:
        raise _cannot_listen(config.host, config.port, exc.strerror or exc) from None
    click.echo("Web chat stopped.", err=True)


@click.command()
@place_options
@click.pass_context
def watch(ctx: click.Context) -> None:
    """Watch sources/ and re-index added, changed and removed articles (Ctrl-C or SIGTERM to stop)."""
    from ..watch import Indexer, watch_sources

    bot = make_assistant(ctx)
    bot.status()
    require_sources(bot.config)
    click.echo(f"watching {bot.config.sources_dir} (index: {bot.config.index_dir}); Ctrl-C to stop", err=True)
    indexer = Indexer(bot)
    try:
        # (on file systems without change events, set WATCHFILES_FORCE_POLLING=1)
        watch_sources(indexer, on_event=lambda event: click.echo(event.line()))
    except KeyboardInterrupt:  # Ctrl-C (or SIGTERM) is how one stops watching: not an error
        if indexer.busy:
            click.echo("an update was interrupted; every article it finished is indexed, whole", err=True)
    click.echo("stopped watching", err=True)
