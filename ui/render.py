"""HTML for the page, built from untrusted text: every article or model string is escaped here.

Only the tags written in this module reach the page; article text and answers
are passed through :func:`esc`, so ``<script>`` or ``<img onerror>`` inside an
article shows as text. Links are only ever page-internal fragments
(``#cite-T-N``, ``#open-T-N``, ``#passage-T-K``) that the page's script turns
into events; nothing links out and no image is rendered from an answer.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence

from assistant.models import Answer, ArticleInfo, Citation, IndexStatus, Passage
from assistant.text import detect_language

MARKER = re.compile(r"\[(\d{1,3})\]")
PASSAGE_PREVIEW_CHARS = 900

_WORDS = {
    "understood": {"fr": "Question comprise comme", "en": "Understood as"},
    "refusal_hint": {
        "fr": "Les passages les plus proches sont dans le panneau Sources.",
        "en": "The closest passages are in the Sources panel.",
    },
    "unsupported": {
        "fr": "En gris : phrases qu'aucune source citée ne confirme.",
        "en": "Greyed out: sentences that no cited source supports.",
    },
    "open": {"fr": "Ouvrir l'article", "en": "Open the article"},
    "closest": {
        "fr": "Pas de réponse dans les articles. Passages les plus proches :",
        "en": "No answer in the articles. Closest passages:",
    },
    "sources_of": {"fr": "Sources de la réponse", "en": "Sources of answer"},
    "undated": {"fr": "sans date", "en": "undated"},
}


def esc(text: object) -> str:
    """HTML-escape anything (quotes included): the one way text reaches the page."""
    return html.escape("" if text is None else str(text), quote=True)


def _multiline(text: str) -> str:
    return esc(text).replace("\n", "<br>")


def lang_of(answer: Answer | None, fallback_text: str = "") -> str:
    """The language of the page's words around an answer: French or English."""
    text = f"{answer.question} {answer.standalone_question or ''} {answer.answer}" if answer else fallback_text
    return "fr" if detect_language(text or "", default="en") == "fr" else "en"


def word(key: str, lang: str) -> str:
    return _WORDS[key].get(lang, _WORDS[key]["en"])


# --- chat bubbles ---------------------------------------------------------------


def user_html(question: str) -> str:
    return f'<div class="question">{_multiline(question)}</div>'


def error_html(message: str) -> str:
    return f'<div class="answer error">⚠ {esc(message)}</div>'


def _linked(text: str, turn: int, citations: dict[int, Citation] | None) -> str:
    """Escaped text whose ``[n]`` markers become links to citation ``n`` of this turn."""
    out: list[str] = []
    pos = 0
    for m in MARKER.finditer(text):
        n = int(m.group(1))
        out.append(_multiline(text[pos : m.start()]))
        if citations is None or n in citations:
            title = f' title="{esc(citations[n].title)}"' if citations else ""
            out.append(f'<a class="cite" href="#cite-{turn}-{n}"{title}>[{n}]</a>')
        else:
            out.append(esc(m.group()))
        pos = m.end()
    out.append(_multiline(text[pos:]))
    return "".join(out)


def _unsupported_spans(text: str, sentences: Sequence[str]) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    for sentence in sentences:
        s = sentence.strip()
        if not s:
            continue
        start = text.find(s)
        while start != -1:
            spans.append((start, start + len(s)))
            start = text.find(s, start + len(s))
    spans.sort()
    merged: list[tuple[int, int]] = []
    for a, b in spans:
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(b, merged[-1][1]))
        else:
            merged.append((a, b))
    return merged


def streaming_html(turn: int, partial: str) -> str:
    """The answer while it streams in (markers already clickable)."""
    return f'<div class="answer streaming">{_linked(partial, turn, None)}<span class="caret">▍</span></div>'


def answer_html(turn: int, answer: Answer) -> str:
    """The final chat bubble: note, notice, answer with clickable citations, warnings."""
    lang = lang_of(answer)
    parts: list[str] = []
    if answer.standalone_question:
        quoted = (f"{word('understood', lang)} : « {esc(answer.standalone_question)} »" if lang == "fr"
                  else f"{word('understood', lang)}: “{esc(answer.standalone_question)}”")
        parts.append(f'<div class="note">↪ {quoted}</div>')
    if answer.notice:
        parts.append(f'<div class="notice">ℹ {esc(answer.notice)}</div>')
    if answer.refused:
        parts.append(f'<div class="refusal">⚠ {_multiline(answer.answer)}</div>')
        if answer.retrieved:
            parts.append(f'<div class="hint">{word("refusal_hint", lang)}</div>')
        return f'<div class="answer refused done">{"".join(parts)}</div>'
    citations = {c.id: c for c in answer.citations}
    text = answer.answer
    body: list[str] = []
    pos = 0
    for a, b in _unsupported_spans(text, answer.unsupported):
        body.append(_linked(text[pos:a], turn, citations))
        body.append(f'<span class="unsupported" title="{esc(word("unsupported", lang))}">'
                    f"{_linked(text[a:b], turn, citations)}</span>")
        pos = b
    body.append(_linked(text[pos:], turn, citations))
    parts.append(f'<div class="answer-text">{"".join(body)}</div>')
    if answer.unsupported:
        parts.append(f'<div class="warn">⚠ {word("unsupported", lang)}</div>')
    return f'<div class="answer done">{"".join(parts)}</div>'


# --- sources panel -------------------------------------------------------------


def _meta(date: str | None, source: str, lang: str) -> str:
    return f'<div class="meta">{esc(date or word("undated", lang))} · <code>{esc(source)}</code></div>'


def _passage_with_quote(c: Citation) -> str:
    """The citation's passage, its quoted sentence in ``<mark>`` (or the quote alone)."""
    passage = c.passage or c.quote
    offset = c.start - c.passage_start
    if not (0 <= offset and passage[offset : offset + len(c.quote)] == c.quote):
        offset = passage.find(c.quote)
    if offset < 0:
        return f"<mark>{_multiline(c.quote)}</mark>"
    before, after = passage[:offset], passage[offset + len(c.quote) :]
    if len(before) > PASSAGE_PREVIEW_CHARS // 2:
        before = "…" + before[-PASSAGE_PREVIEW_CHARS // 2 :]
    if len(after) > PASSAGE_PREVIEW_CHARS // 2:
        after = after[: PASSAGE_PREVIEW_CHARS // 2] + "…"
    return f"{_multiline(before)}<mark>{_multiline(c.quote)}</mark>{_multiline(after)}"


def citation_card(turn: int, c: Citation, lang: str, active: bool = False) -> str:
    cls = "card active scroll-target" if active else "card"
    return (
        f'<div class="{cls}" id="cite-{turn}-{c.id}">'
        f'<div class="card-head"><span class="num">[{c.id}]</span> <b>{esc(c.title)}</b></div>'
        f"{_meta(c.date, c.source, lang)}"
        f'<blockquote class="passage">{_passage_with_quote(c)}</blockquote>'
        f'<a class="open" href="#open-{turn}-{c.id}">{word("open", lang)} ↗</a>'
        "</div>"
    )


def passage_card(turn: int, k: int, p: Passage, lang: str) -> str:
    text = p.text if len(p.text) <= PASSAGE_PREVIEW_CHARS else p.text[:PASSAGE_PREVIEW_CHARS] + "…"
    return (
        f'<div class="card closest" id="passage-{turn}-{k}">'
        f'<div class="card-head"><span class="num">{k}.</span> <b>{esc(p.title)}</b></div>'
        f"{_meta(p.date, p.source, lang)}"
        f'<blockquote class="passage">{_multiline(text)}</blockquote>'
        f'<a class="open" href="#passage-{turn}-{k}">{word("open", lang)} ↗</a>'
        "</div>"
    )


def sources_html(turn: int, answer: Answer | None, active: int | None = None, closest: int = 3) -> str:
    """The panel beside the chat for one answer: citation cards, or the closest passages of a refusal."""
    if answer is None:
        return empty_sources_html()
    lang = lang_of(answer)
    head = (f'<div class="sources-head">{word("sources_of", lang)} {turn + 1} — '
            f"<i>{esc(answer.question)}</i></div>")
    if answer.refused or not answer.citations:
        cards = "".join(passage_card(turn, k, p, lang) for k, p in enumerate(answer.retrieved[:closest], 1))
        return f'<div class="sources" data-turn="{turn}">{head}<div class="closest-head">{word("closest", lang)}</div>{cards}</div>'
    cards = "".join(citation_card(turn, c, lang, active == c.id) for c in answer.citations)
    return f'<div class="sources" data-turn="{turn}">{head}{cards}</div>'


def empty_sources_html() -> str:
    return ('<div class="sources empty">Ask a question: the passages each answer comes from show up here, '
            "the quoted sentence highlighted. Click a marker like [1] in an answer to jump to its source.</div>")


def article_html(title: str, date: str | None, source: str, text: str, start: int, end: int, kind: str = "quote") -> str:
    """The whole article, ``text[start:end]`` highlighted and marked to be scrolled into view."""
    start = max(0, min(start, len(text)))
    end = max(start, min(end, len(text)))
    lang = "fr" if detect_language(text[:2000], default="en") == "fr" else "en"
    return (
        f'<div class="article" data-source="{esc(source)}">'
        f'<div class="article-title">{esc(title)}</div>{_meta(date, source, lang)}'
        f'<div class="article-body">{_multiline(text[:start])}'
        f'<mark class="hl {esc(kind)} scroll-target">{_multiline(text[start:end])}</mark>'
        f"{_multiline(text[end:])}</div></div>"
    )


def empty_article_html() -> str:
    return '<div class="article empty">“Open the article” on a source card shows the whole article here.</div>'


# --- index ------------------------------------------------------------------------


def status_html(status: IndexStatus | None, busy: bool = False, error: str | None = None) -> str:
    if error:
        return f'<div class="status error">⚠ {esc(error)}</div>'
    if status is None:
        return '<div class="status">index not built yet</div>'
    langs = ", ".join(f"{esc(k)} {v}" for k, v in sorted(status.languages.items())) or "-"
    last = esc(status.last_indexed.replace("T", " ")) if status.last_indexed else "never"
    busy_html = ' · <b class="busy">indexing…</b>' if busy else ""
    return (
        f'<div class="status"><b>{status.articles}</b> articles · <b>{status.chunks}</b> chunks · '
        f"languages {langs} · model <code>{esc(status.embedding_model)}</code> · "
        f"last indexed {last}{busy_html}</div>"
    )


def articles_html(articles: Sequence[ArticleInfo]) -> str:
    if not articles:
        return '<div class="articles empty">No article indexed yet: upload one above or paste a text.</div>'
    rows = "".join(
        f"<tr><td>{esc(a.title)}</td><td>{esc(a.date or '—')}</td><td>{esc(a.lang)}</td>"
        f"<td class=\"n\">{a.chunks}</td><td><code>{esc(a.source)}</code></td></tr>"
        for a in articles
    )
    return (
        '<table class="articles"><thead><tr><th>Title</th><th>Date</th><th>Lang</th><th>Chunks</th>'
        f"<th>File</th></tr></thead><tbody>{rows}</tbody></table>"
    )


def message_html(text: str, kind: str = "info") -> str:
    """A one-line (or few-line) message under the upload form; ``kind`` is info, ok or error."""
    kind = kind if kind in ("info", "ok", "error") else "info"
    return f'<div class="msg {kind}">{_multiline(text)}</div>' if text else ""
