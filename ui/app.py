"""The Gradio page: layout and wiring only; what events do lives in ``handlers.py`` and ``handlers_index.py``."""

from __future__ import annotations

import hashlib
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
from assistant.watch import Indexer  # noqa: E402

from . import handlers, handlers_index, render, session  # noqa: E402
from .i18n import pick_language, t  # noqa: E402

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


def build_app(
    bot: Assistant, indexer: Indexer, max_upload_mb: float, warm: threading.Event | None = None,
    progress: handlers_index.IndexProgress | None = None,
) -> gr.Blocks:
    """The page. Handlers that reach the index wait for ``warm`` (set once the vector store is open)."""
    max_bytes = int(max_upload_mb * 1_000_000)
    shared = progress or handlers_index.IndexProgress()
    if warm is None:
        warm = threading.Event()
        warm.set()
    suffixes = ", ".join(s.lstrip(".") for s in SUPPORTED_SUFFIXES if s not in (".markdown", ".htm"))
    # The browser keeps the conversation; the key only has to outlive a server restart (it guards
    # nothing secret: the conversation is the reader's own, in the reader's browser).
    secret = hashlib.sha256(str(Path(bot.config.index_dir).resolve()).encode()).hexdigest()[:32]

    def wait_warm() -> None:
        warm.wait(timeout=WARM_WAIT_S)  # then go on regardless: a broken index shows its own message

    with gr.Blocks(title="News assistant", fill_width=True, analytics_enabled=False) as demo:
        turns = gr.State([])
        seen = gr.State(None)
        page_lang = gr.State("en")
        stored = gr.BrowserState([], storage_key="news-assistant-conversation", secret=secret)
        chosen_lang = gr.BrowserState("", storage_key="news-assistant-language", secret=secret)
        with gr.Row(equal_height=False, elem_id="top-bar"):
            title_html = gr.HTML("", elem_id="page-title", js_on_load=None)
            lang_switch = gr.Radio(["FR", "EN"], value=None, show_label=False, container=False,
                                   elem_id="lang-switch", scale=0, min_width=150)
            # Phones only (CSS): opens and closes the side panel as a drawer (the page script does it).
            gr.Button("Sources", elem_id="drawer-toggle", scale=0, min_width=90, size="sm")
        status = gr.HTML(render_status_placeholder(), elem_id="index-status", js_on_load=None)
        with gr.Row(equal_height=False, elem_id="main-row"):
            with gr.Column(scale=3, min_width=300):
                # Messages are HTML built by render.py (everything untrusted escaped there); no Markdown,
                # no LaTeX, and Gradio's sanitiser on top.
                chatbot = gr.Chatbot(
                    elem_id="chatbot", label="Chat", show_label=False, height=560,
                    render_markdown=False, sanitize_html=True, latex_delimiters=[], allow_tags=False,
                    allow_file_downloads=False, feedback_options=None, buttons=[],
                )
                with gr.Row():
                    question = gr.Textbox(elem_id="chat-input", show_label=False, scale=8, autofocus=True,
                                          lines=1, max_lines=4)
                    ask = gr.Button("Ask", variant="primary", scale=1, min_width=80, elem_id="ask-button")
                with gr.Row():
                    clear = gr.Button("New conversation", size="sm", variant="secondary", elem_id="new-chat")
                    export = gr.Button("Export conversation", size="sm", variant="secondary", elem_id="export")
                with gr.Column(elem_id="examples"):
                    gr.Examples(EXAMPLES, inputs=question, label="Exemples / Examples")
            with gr.Column(scale=2, min_width=300, elem_id="side-panel"):
                with gr.Tabs() as tabs:
                    with gr.Tab("Sources", id="sources-tab"):
                        sources = gr.HTML(render.empty_sources_html(), elem_id="sources-panel", js_on_load=None)
                        article = gr.HTML(render.empty_article_html(), elem_id="article-view", js_on_load=None)
                    with gr.Tab("Articles", id="articles-tab", elem_id="articles-tab"):
                        upload = gr.File(file_count="multiple", file_types=list(SUPPORTED_SUFFIXES), elem_id="upload")
                        with gr.Accordion("…", open=False, elem_id="paste") as paste:
                            title = gr.Textbox(elem_id="paste-title", max_lines=1)
                            date = gr.Textbox(elem_id="paste-date", max_lines=1)
                            text = gr.Textbox(elem_id="paste-text", lines=6)
                            add = gr.Button("Add", elem_id="paste-add")
                        message = gr.HTML("", elem_id="index-message", js_on_load=None)
                        with gr.Row():
                            filter_box = gr.Textbox("", show_label=False, elem_id="articles-filter", scale=4,
                                                    max_lines=1, container=False, interactive=True)
                            reindex = gr.Button("Re-index", size="sm", elem_id="reindex", scale=1)
                        articles = gr.HTML("", elem_id="articles-list", js_on_load=None)
                        watch_line = gr.HTML("", elem_id="watch-line", js_on_load=None)
        # A click on [n], "open the article", a closest passage or an article list link: the page
        # script (assets.JS) keeps the link's #fragment in window.__citeTarget and clicks this hidden
        # button; its js hands the fragment to on_target through the hidden textbox's slot.
        target = gr.Textbox(visible="hidden", elem_id="cite-target")
        show = gr.Button("show", visible="hidden", elem_id="cite-button")
        exported = gr.Textbox(visible="hidden", elem_id="export-text")
        timer = gr.Timer(REFRESH_S)

        labelled = [title_html, question, ask, clear, export, upload, paste, title, date, text, add, filter_box,
                    reindex, chatbot, lang_switch]

        def labels(lang: str) -> list[Any]:
            return [
                f"<h1>{t('title', lang)}</h1><p>{t('tagline', lang)}</p>",
                gr.update(placeholder=t("placeholder", lang)),
                gr.update(value=t("ask", lang)),
                gr.update(value=t("new_chat", lang)),
                gr.update(value=t("export", lang)),
                gr.update(label=t("upload", lang, suffixes, max_upload_mb)),
                gr.update(label=t("paste", lang)),
                gr.update(label=t("paste_title", lang)),
                gr.update(label=t("paste_date", lang)),
                gr.update(label=t("paste_text", lang)),
                gr.update(value=t("paste_add", lang)),
                gr.update(placeholder=t("filter", lang)),
                gr.update(value=t("reindex", lang)),
                gr.update(placeholder=t("chat_hint", lang)),
                gr.update(value=lang.upper()),
            ]

        def index_outputs(lang: str, match: str = "") -> tuple[str, str, str]:
            busy = indexer.busy
            status_html, table = handlers_index.index_view(bot, lang, busy, shared, match or "")
            return status_html, table, handlers_index.watcher_line(indexer)

        def on_load(stored_turns: Any, chosen: str, request: gr.Request) -> tuple[Any, ...]:
            lang = pick_language(request.headers.get("accept-language") if request else None, chosen)
            restored = session.from_store(stored_turns)
            chat = handlers.chat_of(restored)
            return (lang, restored, chat, handlers.latest_sources(restored, lang), render.empty_article_html(lang),
                    *index_outputs(lang), (handlers_index.catalog_stamp(bot), indexer.busy), *labels(lang))

        load_outputs = [page_lang, turns, chatbot, sources, article, status, articles, watch_line, seen, *labelled]
        demo.load(on_load, [stored, chosen_lang], load_outputs, api_visibility="private")

        def on_switch(choice: str | None, turns_now: list[session.Turn], match: str) -> tuple[Any, ...]:
            lang = (choice or "en").lower()
            lang = lang if lang in ("fr", "en") else "en"
            panel = handlers.latest_sources(turns_now or [], lang)
            return (lang, lang, panel, *index_outputs(lang, match), *labels(lang))

        lang_switch.input(on_switch, [lang_switch, turns, filter_box],
                          [page_lang, chosen_lang, sources, status, articles, watch_line, *labelled],
                          api_visibility="private", show_progress="hidden")

        def on_ask(message: str, turns_now: list[session.Turn], lang: str) -> Iterator[tuple[Any, ...]]:
            produced = False
            for up in handlers.respond(bot, message, turns_now or []):
                if up.done:  # the answer is final: its sources, scrolled to the top; the old article goes
                    yield (up.chat, up.turns, up.sources if up.sources is not None else gr.skip(), "",
                           gr.Tabs(selected="sources-tab"), render.empty_article_html(lang), session.to_store(up.turns))
                else:
                    yield up.chat, up.turns, gr.skip(), "", gr.skip(), gr.skip(), gr.skip()
                if not produced:  # the question is on screen; the answer needs the index open
                    produced = True
                    wait_warm()
            if not produced:  # empty question: nothing to do
                yield gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip()

        ask_io = dict(inputs=[question, turns, page_lang], outputs=[chatbot, turns, sources, question, tabs, article, stored],
                      concurrency_id="ask", concurrency_limit=ASK_CONCURRENCY, show_progress="minimal")
        question.submit(on_ask, api_visibility="private", **ask_io)  # type: ignore[arg-type]
        ask.click(on_ask, api_visibility="private", **ask_io)  # type: ignore[arg-type]

        def on_target(target_: str, turns_now: list[session.Turn], lang: str, match: str) -> tuple[Any, ...]:
            wait_warm()
            skip = gr.skip()
            file_target = handlers.parse_file_target(target_)
            if file_target is not None:
                kind, source = file_target
                if kind == "article":
                    return skip, handlers.open_article(bot, source, lang), gr.Tabs(selected="sources-tab"), skip, skip, skip
                up = handlers_index.delete_article(indexer, source, lang, shared, match=match or "")
                return skip, skip, skip, up.message, up.articles, up.status
            panel, article_view = handlers.show_target(bot, target_, turns_now or [])
            if panel is None and article_view is None:
                return skip, skip, skip, skip, skip, skip
            return (panel if panel is not None else skip, article_view if article_view is not None else skip,
                    gr.Tabs(selected="sources-tab"), skip, skip, skip)

        show.click(on_target, [target, turns, page_lang, filter_box], [sources, article, tabs, message, articles, status],
                   api_visibility="private", show_progress="hidden",
                   js="(target, turns, lang, match) => [window.__citeTarget || '', turns, lang, match]")

        def on_select(turns_now: list[session.Turn], evt: gr.SelectData) -> Any:
            index = evt.index[0] if isinstance(evt.index, (list, tuple)) else evt.index
            html = handlers.select_turn(turns_now or [], int(index)) if isinstance(index, int) else None
            return html if html is not None else gr.skip()

        chatbot.select(on_select, [turns], [sources], api_visibility="private", show_progress="hidden")

        def reset(lang: str) -> tuple[Any, ...]:
            return [], [], render.empty_sources_html(lang), render.empty_article_html(lang), []

        reset_io = dict(inputs=[page_lang], outputs=[chatbot, turns, sources, article, stored], api_visibility="private")
        clear.click(reset, **reset_io)  # type: ignore[arg-type]
        chatbot.clear(reset, **reset_io)  # type: ignore[arg-type]
        export.click(handlers.export_markdown, [turns], [exported], api_visibility="private").then(
            None, [exported], None, js="(md) => { window.__downloadText('conversation.md', md); }")

        def on_upload(files: list[str] | None, lang: str, match: str | None = "",
                      progress_: gr.Progress = gr.Progress()) -> tuple[Any, ...]:
            wait_warm()
            up = handlers_index.add_files(indexer, files, max_bytes, _progress(progress_), lang or "en", shared, match or "")
            return up.message, up.articles, up.status, None

        def on_paste(title_: str, date_: str, text_: str, lang: str, match: str | None = "",
                     progress_: gr.Progress = gr.Progress()) -> tuple[Any, ...]:
            wait_warm()
            up = handlers_index.add_text(indexer, title_, text_, date_, max_bytes, _progress(progress_), lang, shared,
                                         match or "")
            cleared = ("", "", "") if up.ok else (gr.skip(), gr.skip(), gr.skip())
            return (up.message, up.articles, up.status, *cleared)

        def on_reindex(lang: str, match: str, progress_: gr.Progress = gr.Progress()) -> tuple[Any, ...]:
            wait_warm()
            up = handlers_index.reindex(indexer, lang, _progress(progress_), shared, match or "")
            return up.message, up.articles, up.status

        upload.upload(on_upload, [upload, page_lang, filter_box], [message, articles, status, upload], api_name="upload",
                      concurrency_id="index", concurrency_limit=1)
        add.click(on_paste, [title, date, text, page_lang, filter_box], [message, articles, status, title, date, text],
                  api_visibility="private", concurrency_id="index", concurrency_limit=1)
        reindex.click(on_reindex, [page_lang, filter_box], [message, articles, status], api_visibility="private",
                      concurrency_id="index", concurrency_limit=1)

        def on_tick(seen_: tuple[int, bool] | None, lang: str, match: str) -> tuple[Any, ...]:
            now = (handlers_index.catalog_stamp(bot), indexer.busy)
            if seen_ is None or (tuple(seen_) == now and not now[1]):  # None: the page has not loaded yet
                return gr.skip(), gr.skip(), gr.skip(), gr.skip()
            return (*index_outputs(lang or "en", match), now)

        # The list is a page of the archive (assistant.catalog): typing in the filter asks the
        # server for the matching files; the page's script filters the rows shown meanwhile.
        def on_filter(lang: str, match: str) -> str:
            return handlers_index.index_view(bot, lang or "en", indexer.busy, shared, match or "")[1]

        filter_box.input(on_filter, [page_lang, filter_box], [articles], api_visibility="private",
                         show_progress="hidden", trigger_mode="always_last")

        timer.tick(on_tick, [seen, page_lang, filter_box], [status, articles, watch_line, seen], api_visibility="private",
                   show_progress="hidden", queue=False)  # a full queue must not stop the status from updating

        def api_ask(question_: str, history: list[dict[str, str]] | None = None) -> dict[str, Any]:
            """Answer a question from the articles, every sentence cited (Answer as JSON)."""
            wait_warm()
            try:
                return handlers.api_ask(bot, question_, history)
            except AssistantError as exc:
                raise gr.Error(str(exc), print_exception=False) from None

        def api_add_text(title_: str, text_: str, date_: str = "") -> str:
            """Save a pasted article into sources/ and index it; returns a one-line report."""
            wait_warm()
            up = handlers_index.add_text(indexer, title_, text_, date_, max_bytes, shared=shared)
            if not up.ok:
                raise gr.Error(_plain(up.message), print_exception=False)
            return _plain(up.message)

        gr.api(api_ask, api_name="ask", concurrency_id="ask", concurrency_limit=ASK_CONCURRENCY)
        gr.api(api_add_text, api_name="add_text", concurrency_id="index", concurrency_limit=1)
    return demo


def render_status_placeholder() -> str:
    return '<div class="status">…</div>'


def _progress(progress: gr.Progress) -> Callable[[float, str], None]:
    def report(fraction: float, what: str) -> None:
        progress(fraction, desc=what)

    return report


def _plain(html_text: str) -> str:
    import html
    import re

    return html.unescape(re.sub(r"<br>", "\n", re.sub(r"<(?!br>)[^>]+>", "", html_text))).strip()
