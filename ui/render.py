"""HTML for the chat and the sources panel, built from untrusted text: every article or model string is escaped here.

Only the tags written in this module reach the page; article text and answers
are passed through :func:`esc`, so ``<script>`` or ``<img onerror>`` inside an
article shows as text. Links are only ever page-internal fragments
(``#cite-T-N``, ``#open-T-N``, ``#passage-T-K``, ``#copy-T``) that the page's
script turns into events; nothing links out and no image is rendered from an answer.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

from assistant.markers import MARKER
from assistant.models import Answer, Citation, Passage
from assistant.text import detect_language, sentence_spans

from .corroboration import also_reported, differing_figures
from .i18n import t
from .markdown import answer_markdown

CONTEXT_CHARS = 280  # a context sentence longer than this is cut: the highlight must stay in view
PASSAGE_PREVIEW_CHARS = 600  # a closest passage (refusals) shows this much


def esc(text: object) -> str:
    """HTML-escape anything (quotes included): the one way text reaches the page."""
    return html.escape("" if text is None else str(text), quote=True)


def _multiline(text: str) -> str:
    return esc(text).replace("\n", "<br>")


def lang_of(answer: Answer | None, fallback_text: str = "") -> str:
    """The language of the words around an answer: the question's (French or English).

    A question too short to tell ("Et Anthropic ?") takes its rewritten form's, then the answer's.
    """
    texts = [answer.question, answer.standalone_question or "", answer.answer] if answer else [fallback_text]
    for i in range(1, len(texts) + 1):
        found = detect_language(" ".join(texts[:i]), default="")
        if found:
            return "fr" if found == "fr" else "en"
    return "en"


# --- chat bubbles ---------------------------------------------------------------


def user_html(question: str) -> str:
    return f'<div class="question">{_multiline(question)}</div>'


def error_html(message: str, lang: str = "en") -> str:
    return f'<div class="answer error" lang="{lang}">⚠ {esc(message)}</div>'


def _linked(text: str, turn: int, citations: dict[int, Citation] | None) -> str:
    """Escaped text whose ``[n]`` markers become links to citation ``n`` of this turn.

    While an answer streams (``citations`` None) markers are not yet verified: they show
    as pending and become links once the final answer has checked them.
    """
    out: list[str] = []
    pos = 0
    for m in MARKER.finditer(text):
        n = int(m.group(1))
        out.append(_multiline(text[pos : m.start()]))
        if citations is None:
            out.append(f'<span class="cite pending">[{n}]</span>')
        elif n in citations:
            out.append(f'<a class="cite" href="#cite-{turn}-{n}" title="{esc(citations[n].title)}">[{n}]</a>')
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


def pending_html(turn: int, question: str) -> str:
    """The answer bubble before any text came (retrieval is running)."""
    lang = lang_of(None, question)
    return f'<div class="answer pending" lang="{lang}"><span class="caret">{t("answering", lang)}</span></div>'


def streaming_html(turn: int, partial: str) -> str:
    """A language model's answer as its tokens arrive (markers pending until verified)."""
    return f'<div class="answer streaming">{_linked(partial, turn, None)}<span class="caret">▍</span></div>'


def answer_html(turn: int, answer: Answer) -> str:
    """The final chat bubble: note, notice, answer with verified citations, warnings, copy link."""
    lang = lang_of(answer)
    parts: list[str] = []
    if answer.standalone_question:
        quoted = (f"« {esc(answer.standalone_question)} »" if lang == "fr"
                  else f"“{esc(answer.standalone_question)}”")
        sep = " : " if lang == "fr" else ": "
        parts.append(f'<div class="note">↪ {t("understood", lang)}{sep}{quoted}</div>')
    if answer.notice:
        parts.append(f'<div class="notice">ℹ {esc(answer.notice)}</div>')
    # The Markdown to copy travels as hidden text (the chat's sanitiser drops data-* attributes).
    tools = (f'<div class="tools"><a class="copy" href="#copy-{turn}">{t("copy", lang)}</a>'
             f"{_confidence(answer, lang)}</div>"
             f'<div class="md-source">{esc(answer_markdown(answer))}</div>')
    if answer.refused:
        parts.append(f'<div class="refusal">⚠ {_multiline(answer.answer)}</div>')
        if answer.retrieved:
            parts.append(f'<div class="hint">{t("refusal_hint", lang)}</div>')
        return f'<div class="answer refused done" lang="{lang}">{"".join(parts)}{tools}</div>'
    citations = {c.id: c for c in answer.citations}
    text = answer.answer
    body: list[str] = []
    pos = 0
    for a, b in _unsupported_spans(text, answer.unsupported):
        body.append(_linked(text[pos:a], turn, citations))
        body.append(f'<span class="unsupported" title="{esc(t("unsupported", lang))}">'
                    f"{_linked(text[a:b], turn, citations)}</span>")
        pos = b
    body.append(_linked(text[pos:], turn, citations))
    parts.append(f'<div class="answer-text">{"".join(body)}</div>')
    figures = differing_figures(answer)
    if figures:
        listed = " · ".join(f'{esc(f.value)} <a class="cite" href="#cite-{turn}-{f.citation}">[{f.citation}]</a>'
                            for f in figures)
        parts.append(f'<div class="differ">⚖ {t("differ", lang)} {listed}</div>')
    if answer.unsupported:
        parts.append(f'<div class="warn">⚠ {t("unsupported", lang)}</div>')
    return f'<div class="answer done" lang="{lang}">{"".join(parts)}{tools}</div>'


def _confidence(answer: Answer, lang: str) -> str:
    value = getattr(answer, "confidence", None)  # set by answerers that estimate it; absent otherwise
    if not isinstance(value, (int, float)):
        return ""
    return f'<span class="confidence">{t("confidence", lang)} {max(0.0, min(1.0, float(value))):.0%}</span>'


# --- sources panel -------------------------------------------------------------


def _meta(date: str | None, source: str, lang: str) -> str:
    return f'<div class="meta">{esc(date or t("undated", lang))} · <code>{esc(source)}</code></div>'


def _cut(text: str, keep: str) -> str:
    """``text`` shortened to CONTEXT_CHARS, keeping the end next to the quote (``keep`` = "end" or "start")."""
    if len(text) <= CONTEXT_CHARS:
        return text
    return "… " + text[-CONTEXT_CHARS:].lstrip() if keep == "end" else text[:CONTEXT_CHARS].rstrip() + " …"


def quote_in_context(c: Citation) -> tuple[str, str, str]:
    """(sentence before, quoted sentence, sentence after), the context taken from the citation's passage."""
    passage = c.passage or c.quote
    offset = c.start - c.passage_start
    if not (0 <= offset and passage[offset : offset + len(c.quote)] == c.quote):
        offset = passage.find(c.quote)
    if offset < 0:
        return "", c.quote, ""
    end = offset + len(c.quote)
    spans = sentence_spans(passage)
    before = [s for s in spans if s[1] <= offset]
    after = [s for s in spans if s[0] >= end]
    prev = passage[before[-1][0] : before[-1][1]] if before else ""
    nxt = passage[after[0][0] : after[0][1]] if after else ""
    return _cut(prev, "end"), c.quote, _cut(nxt, "start")


def citation_card(turn: int, c: Citation, lang: str, active: bool = False, also: Sequence[Citation] = ()) -> str:
    cls = "card active scroll-target" if active else "card"
    before, quote, after = quote_in_context(c)
    also_html = ""
    if also:
        names = ", ".join(f'<a class="cite" href="#cite-{turn}-{o.id}">[{o.id}]</a> {esc(o.title)} '
                          f'(<code>{esc(o.source)}</code>)' for o in also)
        also_html = f'<div class="also">✓ {t("also", lang)} {names}</div>'
    return (
        f'<div class="{cls}" id="cite-{turn}-{c.id}">'
        f'<div class="card-head"><span class="num">[{c.id}]</span> <b>{esc(c.title)}</b></div>'
        f"{_meta(c.date, c.source, lang)}"
        f'<blockquote class="passage">{_multiline(before)} <mark>{_multiline(quote)}</mark> {_multiline(after)}</blockquote>'
        f"{also_html}"
        f'<a class="open" href="#open-{turn}-{c.id}">{t("open", lang)} ↗</a>'
        "</div>"
    )


def passage_card(turn: int, k: int, p: Passage, lang: str) -> str:
    text = p.text if len(p.text) <= PASSAGE_PREVIEW_CHARS else p.text[:PASSAGE_PREVIEW_CHARS] + "…"
    return (
        f'<div class="card closest" id="passage-{turn}-{k}">'
        f'<div class="card-head"><span class="num">{k}.</span> <b>{esc(p.title)}</b></div>'
        f"{_meta(p.date, p.source, lang)}"
        f'<blockquote class="passage">{_multiline(text)}</blockquote>'
        f'<a class="open" href="#passage-{turn}-{k}">{t("open", lang)} ↗</a>'
        "</div>"
    )


def sources_html(turn: int, answer: Answer | None, active: int | None = None, closest: int = 3, ui_lang: str = "en") -> str:
    """The panel beside the chat for one answer: citation cards, or the closest passages of a refusal.

    ``data-turn`` and ``data-active`` change with what is shown, so that the page's script
    scrolls the panel back to its top (or to the active card) whenever it shows another answer.
    """
    if answer is None:
        return empty_sources_html(ui_lang)
    lang = lang_of(answer)
    head = (f'<div class="sources-head">{t("sources_of", lang)} {turn + 1} — '
            f"<i>{esc(answer.question)}</i></div>")
    attrs = f'class="sources" lang="{lang}" data-turn="{turn}" data-active="{active or 0}"'
    if answer.refused or not answer.citations:
        cards = "".join(passage_card(turn, k, p, lang) for k, p in enumerate(answer.retrieved[:closest], 1))
        return f'<div {attrs}>{head}<div class="closest-head">{t("closest", lang)}</div>{cards}</div>'
    also = also_reported(answer)
    cards = "".join(citation_card(turn, c, lang, active == c.id, also.get(c.id, ())) for c in answer.citations)
    return f"<div {attrs}>{head}{cards}</div>"


def empty_sources_html(lang: str = "en") -> str:
    return f'<div class="sources empty">{t("empty_sources", lang)}</div>'


def article_html(title: str, date: str | None, source: str, text: str, start: int, end: int, kind: str = "quote") -> str:
    """The whole article, ``text[start:end]`` highlighted and marked to be scrolled to the middle of the view."""
    start = max(0, min(start, len(text)))
    end = max(start, min(end, len(text)))
    lang = "fr" if detect_language(text[:2000], default="en") == "fr" else "en"
    return (
        f'<div class="article" lang="{lang}" data-source="{esc(source)}">'
        f'<div class="article-title">{esc(title)}</div>{_meta(date, source, lang)}'
        f'<div class="article-body">{_multiline(text[:start])}'
        f'<mark class="hl {esc(kind)} scroll-target">{_multiline(text[start:end])}</mark>'
        f"{_multiline(text[end:])}</div></div>"
    )


def empty_article_html(lang: str = "en") -> str:
    return f'<div class="article empty">{t("empty_article", lang)}</div>'


def message_html(text: str, kind: str = "info") -> str:
    """A one-line (or few-line) message under the upload form; ``kind`` is info, ok or error."""
    kind = kind if kind in ("info", "ok", "error") else "info"
    return f'<div class="msg {kind}">{_multiline(text)}</div>' if text else ""
