"""The Gradio page: layout and wiring only; what events do lives in ``handlers.py``."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # offline by default: no telemetry calls

import gradio as gr  # noqa: E402

from assistant.api import Assistant  # noqa: E402
from assistant.config import SUPPORTED_SUFFIXES  # noqa: E402
from assistant.errors import AssistantError  # noqa: E402
from assistant.watch import IndexEvent, Indexer, start_watcher  # noqa: E402

from . import handlers, render  # noqa: E402
from .assets import CSS, JS  # noqa: E402

log = logging.getLogger(__name__)

QUEUE_MAX_SIZE = 64  # a burst beyond this gets "queue full" instead of piling up
ASK_CONCURRENCY = 2  # questions answered at once (the machine has few cores; others wait in the queue)
REFRESH_S = 3.0  # how often the page checks whether the index changed (uploads elsewhere, the watcher)
WARM_WAIT_S = 300.0  # the longest a first question waits for the vector store to open

EXAMPLES = [
    "Combien coûte ChatGPT Enterprise aux agences fédérales ?",
    "Qui est le PDG d'Anthropic ?",
    "Quel contrat OpenAI a-t-il signé avec le Département de la Défense ?",
    "What is OpenAI for Government?",
    "What is FedRAMP High?",
]


def build_app(bot: Assistant, indexer: Indexer, max_upload_mb: float, warm: threading.Event | None = None) -> gr.Blocks:
    """The page. Handlers that reach the index wait for ``warm`` (set once the vector store is open)."""
    max_bytes = int(max_upload_mb * 1_000_000)
    if warm is None:
        warm = threading.Event()
        warm.set()

    def wait_warm() -> None:
        warm.wait(timeout=WARM_WAIT_S)  # then go on regardless: a broken index shows its own message

    def on_ask(message: str, turns: list[handlers.Turn]) -> Iterator[tuple[Any, ...]]:
        produced = False
        for up in handlers.respond(bot, message, turns or []):
            if up.sources is None:
                yield up.chat, up.turns, gr.skip(), "", gr.skip()
            else:  # the answer is complete: show its sources
                yield up.chat, up.turns, up.sources, "", gr.Tabs(selected="sources-tab")
            if not produced:  # the question is on screen; the answer needs the index open
                produced = True
                wait_warm()
        if not produced:  # empty question: nothing to do
            yield gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip()

    def on_target(target: str, turns: list[handlers.Turn]) -> tuple[Any, ...]:
        wait_warm()
        sources, article = handlers.show_target(bot, target, turns or [])
        if sources is None and article is None:
            return gr.skip(), gr.skip(), gr.skip()
        return (
            sources if sources is not None else gr.skip(),
            article if article is not None else gr.skip(),
            gr.Tabs(selected="sources-tab"),
        )

    def on_select(turns: list[handlers.Turn], evt: gr.SelectData) -> Any:
        index = evt.index[0] if isinstance(evt.index, (list, tuple)) else evt.index
        html = handlers.select_turn(turns or [], int(index)) if isinstance(index, int) else None
        return html if html is not None else gr.skip()

    def on_upload(files: list[str] | None, progress: gr.Progress = gr.Progress()) -> tuple[Any, ...]:
        wait_warm()
        up = handlers.add_files(indexer, files, max_bytes, _progress(progress))
        return up.message, up.articles, up.status, None

    def on_paste(title: str, date: str, text: str, progress: gr.Progress = gr.Progress()) -> tuple[Any, ...]:
        wait_warm()
        up = handlers.add_text(indexer, title, text, date, max_bytes, _progress(progress))
        cleared = ("", "", "") if up.ok else (gr.skip(), gr.skip(), gr.skip())
        return (up.message, up.articles, up.status, *cleared)

    def on_load() -> tuple[Any, ...]:
        status, table = handlers.index_view(bot, indexer.busy)
        return status, table, handlers.watcher_line(indexer), (handlers.catalog_stamp(bot), indexer.busy)

    def on_tick(seen: tuple[int, bool] | None) -> tuple[Any, ...]:
        now = (handlers.catalog_stamp(bot), indexer.busy)
        if seen is not None and tuple(seen) == now:
            return gr.skip(), gr.skip(), gr.skip(), gr.skip()
        status, table = handlers.index_view(bot, now[1])
        return status, table, handlers.watcher_line(indexer), now

    def api_ask(question: str, history: list[dict[str, str]] | None = None) -> dict[str, Any]:
        """Answer a question from the articles, every sentence cited (Answer as JSON)."""
        wait_warm()
        try:
            return handlers.api_ask(bot, question, history)
        except AssistantError as exc:
            raise gr.Error(str(exc), print_exception=False) from None

    def api_add_text(title: str, text: str, date: str = "") -> str:
        """Save a pasted article into sources/ and index it; returns a one-line report."""
        wait_warm()
        up = handlers.add_text(indexer, title, text, date, max_bytes)
        if not up.ok:
            raise gr.Error(_plain(up.message), print_exception=False)
        return _plain(up.message)

    suffixes = ", ".join(s.lstrip(".") for s in SUPPORTED_SUFFIXES if s not in (".markdown", ".htm"))
    with gr.Blocks(title="News assistant", fill_width=True, analytics_enabled=False) as demo:
        turns = gr.State([])
        seen = gr.State(None)
        with gr.Row(equal_height=False):
            gr.HTML(
                "<h1>News assistant</h1><p>Answers from your news articles, every sentence cited to its "
                "source passage. / Des réponses tirées de vos articles, chaque phrase citée.</p>",
                elem_id="page-title", js_on_load=None,
            )
        status = gr.HTML(render.status_html(None), elem_id="index-status", js_on_load=None)
        with gr.Row(equal_height=False):
            with gr.Column(scale=3, min_width=380):
                # Messages are HTML built by render.py (everything untrusted escaped there); no Markdown,
                # no LaTeX, and Gradio's sanitiser on top.
                chatbot = gr.Chatbot(
                    elem_id="chatbot", label="Chat", show_label=False, height=560,
                    render_markdown=False, sanitize_html=True, latex_delimiters=[], allow_tags=False,
                    allow_file_downloads=False, feedback_options=None, buttons=[],
                    placeholder="Ask a question about the articles, then a follow-up such as « Et Anthropic ? ».",
                )
                with gr.Row():
                    question = gr.Textbox(
                        elem_id="chat-input", show_label=False, scale=8, autofocus=True, lines=1, max_lines=4,
                        placeholder="Ex. Combien coûte ChatGPT Enterprise aux agences fédérales ?",
                    )
                    ask = gr.Button("Ask", variant="primary", scale=1, min_width=80, elem_id="ask-button")
                gr.Examples(EXAMPLES, inputs=question, label="Examples (FR / EN)")
                clear = gr.Button("New conversation", size="sm", variant="secondary")
            with gr.Column(scale=2, min_width=340):
                with gr.Tabs() as tabs:
                    with gr.Tab("Sources", id="sources-tab"):
                        sources = gr.HTML(render.empty_sources_html(), elem_id="sources-panel", js_on_load=None)
                        article = gr.HTML(render.empty_article_html(), elem_id="article-view", js_on_load=None)
                    with gr.Tab("Articles", id="articles-tab", elem_id="articles-tab"):
                        upload = gr.File(
                            file_count="multiple", file_types=list(SUPPORTED_SUFFIXES), elem_id="upload",
                            label=f"Add articles ({suffixes}; up to {max_upload_mb:g} MB each): indexed at once",
                        )
                        with gr.Accordion("…or paste a text", open=False, elem_id="paste"):
                            title = gr.Textbox(label="Title", elem_id="paste-title", max_lines=1)
                            date = gr.Textbox(label="Date (YYYY-MM-DD, optional)", elem_id="paste-date", max_lines=1)
                            text = gr.Textbox(label="Text", elem_id="paste-text", lines=6)
                            add = gr.Button("Add to the articles", elem_id="paste-add")
                        message = gr.HTML("", elem_id="index-message", js_on_load=None)
                        articles = gr.HTML("", elem_id="articles-list", js_on_load=None)
                        watch_line = gr.HTML("", elem_id="watch-line", js_on_load=None)
        # A click on [n], "open the article" or a closest passage: the page script (assets.JS) keeps the
        # link's #fragment in window.__citeTarget and clicks this hidden button; its js hands the
        # fragment to on_target through the hidden textbox's slot.
        target = gr.Textbox(visible="hidden", elem_id="cite-target")
        show = gr.Button("show", visible="hidden", elem_id="cite-button")
        timer = gr.Timer(REFRESH_S)

        ask_io = dict(inputs=[question, turns], outputs=[chatbot, turns, sources, question, tabs],
                      concurrency_id="ask", concurrency_limit=ASK_CONCURRENCY, show_progress="minimal")
        question.submit(on_ask, api_visibility="private", **ask_io)  # type: ignore[arg-type]
        ask.click(on_ask, api_visibility="private", **ask_io)  # type: ignore[arg-type]
        show.click(on_target, [target, turns], [sources, article, tabs], api_visibility="private",
                   show_progress="hidden", js="(target, turns) => [window.__citeTarget || '', turns]")
        chatbot.select(on_select, [turns], [sources], api_visibility="private", show_progress="hidden")

        def reset() -> tuple[Any, ...]:
            return [], [], render.empty_sources_html(), render.empty_article_html()

        clear.click(reset, outputs=[chatbot, turns, sources, article], api_visibility="private")
        chatbot.clear(reset, outputs=[chatbot, turns, sources, article], api_visibility="private")
        upload.upload(on_upload, [upload], [message, articles, status, upload], api_name="upload",
                      concurrency_id="index", concurrency_limit=1)
        add.click(on_paste, [title, date, text], [message, articles, status, title, date, text],
                  api_visibility="private", concurrency_id="index", concurrency_limit=1)
        demo.load(on_load, outputs=[status, articles, watch_line, seen], api_visibility="private")
        timer.tick(on_tick, [seen], [status, articles, watch_line, seen], api_visibility="private",
                   show_progress="hidden", queue=False)  # a full queue must not stop the status from updating
        gr.api(api_ask, api_name="ask", concurrency_id="ask", concurrency_limit=ASK_CONCURRENCY)
        gr.api(api_add_text, api_name="add_text", concurrency_id="index", concurrency_limit=1)
    return demo


def _progress(progress: gr.Progress) -> Callable[[float, str], None]:
    def report(fraction: float, what: str) -> None:
        progress(fraction, desc=what)

    return report


def _plain(html_text: str) -> str:
    import html
    import re

    return html.unescape(re.sub(r"<br>", "\n", re.sub(r"<(?!br>)[^>]+>", "", html_text))).strip()


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
    Path(bot.config.sources_dir).mkdir(parents=True, exist_ok=True)
    warm = threading.Event()
    demo = build_app(bot, indexer, max_upload_mb, warm)
    demo.queue(max_size=QUEUE_MAX_SIZE, default_concurrency_limit=ASK_CONCURRENCY)
    private = [str(Path(bot.config.sources_dir).resolve()), str(Path(bot.config.index_dir).resolve())]
    _, local_url, _ = demo.launch(
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
    )

    # After the server is up, so that they do not delay the page: open the index and load the
    # embedding model (questions wait for that), then start the watcher and its start-up update.
    def warm_up_then_watch() -> None:
        _warm_up(bot)
        warm.set()
        if watch:
            start_watcher(indexer, on_index_event)

    threading.Thread(target=warm_up_then_watch, name="warm-up", daemon=True).start()
    if on_ready is not None:
        on_ready(local_url)
    if block:
        demo.block_thread()
    return demo


def _warm_up(bot: Assistant) -> None:
    """Open the index (catalog, vectors) and load the embedding model once, in one thread.

    Besides making the first question fast, this keeps Chroma from being opened by several
    request threads at once: its client start-up is not thread-safe.
    """
    try:
        bot.retriever.snapshot()
        bot.retriever.embedder.query_vector("warm up")
    except Exception as exc:  # a broken index shows its message on the page; nothing to do here
        log.debug("warm-up skipped: %s", exc)
