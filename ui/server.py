"""Start the page, its JSON API and the folder watcher on one server."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path

import gradio as gr
from fastapi import Request

from assistant.api import Assistant
from assistant.watch import IndexEvent, Indexer, start_watcher

from .app import ASK_CONCURRENCY, QUEUE_MAX_SIZE, build_app
from .assets import CSS, JS
from .handlers_index import IndexProgress
from .web_api import build_api

log = logging.getLogger(__name__)


def theme() -> gr.themes.Base:
    # System fonts: the default theme fetches Google Fonts, which an offline machine cannot reach.
    return gr.themes.Soft(font=["system-ui", "sans-serif"], font_mono=["ui-monospace", "monospace"])


def serve(
    bot: Assistant,
    host: str = "127.0.0.1",
    port: int = 7860,
    auth: tuple[str, str] | None = None,
    max_upload_mb: float = 10.0,
    watch: bool = True,
    on_ready: Callable[[str], None] | None = None,
    on_index_event: Callable[[IndexEvent], None] | None = None,
    block: bool = True,
) -> gr.Blocks:
    """Start the page (and the folder watcher); blocks until Ctrl-C unless ``block`` is False."""
    indexer = Indexer(bot)
    progress = IndexProgress()
    Path(bot.config.sources_dir).mkdir(parents=True, exist_ok=True)
    warm = threading.Event()
    demo = build_app(bot, indexer, max_upload_mb, warm, progress)
    demo.queue(max_size=QUEUE_MAX_SIZE, default_concurrency_limit=ASK_CONCURRENCY)
    private = [str(Path(bot.config.sources_dir).resolve()), str(Path(bot.config.index_dir).resolve())]
    app, local_url, _ = demo.launch(
        server_name=host,
        server_port=port,
        auth=auth,
        auth_message="This news assistant is password-protected." if auth else None,
        max_file_size=int(max_upload_mb * 2_000_000),  # our own, clearer check is at max_upload_mb
        blocked_paths=private,  # never served as file URLs, whatever else is allowed
        allowed_paths=[],
        show_error=False,
        quiet=True,
        ssr_mode=False,
        enable_monitoring=False,
        footer_links=["api"],
        prevent_thread_lock=True,
        theme=theme(),
        css=CSS,
        js=JS,
        # Gradio's own "is localhost reachable" probe (one HEAD request, 3 s timeout) fails on a busy
        # machine and aborts the start with a misleading "create a shareable link" error; the
        # server is up either way, and `on_ready` below says so.
        _frontend=False,
    )

    def session_user(request: Request) -> str | None:
        """The page's logged-in user from its session cookie (so the page's own calls need no password)."""
        for name in (f"access-token-{app.cookie_id}", f"access-token-unsecure-{app.cookie_id}"):
            user = app.tokens.get(request.cookies.get(name, ""))
            if user:
                return str(user)
        return None

    # Mounted on the running app: Starlette looks its routes up per request, and no Gradio route
    # starts with /api/ (Gradio's own live under /gradio_api/).
    app.mount("/api", build_api(bot, indexer, int(max_upload_mb * 1_000_000), auth, session_user,
                                ASK_CONCURRENCY, progress, lambda: warm.wait(timeout=300)))

    # After the server is up, so that they do not delay the page: open the index and load the
    # embedding model (questions wait for that), then start the watcher and its start-up update.
    def warm_up_then_watch() -> None:
        _warm_up(bot)
        warm.set()
        if watch:
            start_watcher(indexer, on_index_event)

    threading.Thread(target=warm_up_then_watch, name="warm-up", daemon=True).start()
    try:
        if on_ready is not None:
            on_ready(local_url)
        if not block:
            return demo
        while demo.is_running:  # until Ctrl-C or SIGTERM (raised as KeyboardInterrupt)
            time.sleep(0.1)
    except KeyboardInterrupt:  # before the wait too: the signal may come between "ready" and it
        pass
    # Not Gradio's block_thread, whose stop leaves the open pages' heartbeat streams running:
    # the server then waited for them until Gradio gave up, 5 s. Blocks.close ends them first.
    demo.close(verbose=False)
    return demo


def _warm_up(bot: Assistant) -> None:
    """Open the index (heads, lexical cache, chunk vectors) and load the embedding model once.

    Besides making the first question fast, this keeps Chroma from being opened by several
    request threads at once: its client start-up is not thread-safe.
    """
    try:
        bot.retriever.snapshot()  # also starts Chroma's load of the chunk vectors, in its own thread
        bot.retriever.embedder.query_vector("warm up")
        bot.retriever.wait_for_vectors()
    except Exception as exc:  # a broken index shows its message on the page; nothing to do here
        log.debug("warm-up skipped: %s", exc)
