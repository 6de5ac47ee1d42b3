"""ui/render.py: untrusted article and model text is escaped; citations link only inside the page."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from assistant.models import Answer, ArticleInfo, Citation, IndexStatus, Passage
from ui import render

EVIL = '<script>window.__xss=1</script><img src=x onerror="window.__xss=2"> ![pixel](http://evil.example/p.png) [lien](http://evil.example)'
ALLOWED_TAGS = {"div", "span", "a", "b", "i", "br", "mark", "code", "blockquote", "table", "thead", "tbody", "tr", "th", "td"}


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.hrefs: list[str] = []
        self.attrs: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        for name, value in attrs:
            self.attrs.add(name)
            if name == "href":
                self.hrefs.append(value or "")


def parsed(html: str) -> _Tags:
    p = _Tags()
    p.feed(html)
    return p


def assert_safe(html: str) -> _Tags:
    p = parsed(html)
    assert set(p.tags) <= ALLOWED_TAGS, set(p.tags) - ALLOWED_TAGS
    assert all(h.startswith("#") for h in p.hrefs), p.hrefs
    assert not any(a.startswith("on") or a in ("src", "style") for a in p.attrs), p.attrs
    return p


ARTICLE_TEXT = f"Titre piégé\n\nPremière phrase. Le maire a dit {EVIL} hier. Dernière phrase."
QUOTE = f"Le maire a dit {EVIL} hier."
Q_START = ARTICLE_TEXT.index(QUOTE)


def citation(cid: int = 1, title: str = 'Titre "piégé" <b>gras</b>') -> Citation:
    passage_start = ARTICLE_TEXT.index("Première")
    return Citation(
        id=cid, source="a<b>.txt", title=title, date="2025-08-07",
        passage=ARTICLE_TEXT[passage_start:], quote=QUOTE, start=Q_START, end=Q_START + len(QUOTE),
        score=0.9, passage_start=passage_start, passage_end=len(ARTICLE_TEXT),
    )


def passage(k: int = 0) -> Passage:
    return Passage(chunk_id=f"c{k}", source="p<i>.txt", title=f"<img src=x> titre {k}", date=None, lang="fr",
                   text=f"Passage {k} {EVIL}", start=0, end=10, score=0.1)


def answer(**changes: object) -> Answer:
    base = dict(question="Qu'a dit le maire ?", answer=f"{QUOTE} [1] Et encore [9].", refused=False,
                citations=[citation()], retrieved=[passage(1)])
    base.update(changes)
    return Answer(**base)  # type: ignore[arg-type]


def test_answer_markers_link_to_their_citation_and_nothing_else_is_markup() -> None:
    html = render.answer_html(3, answer())
    p = assert_safe(html)
    assert p.hrefs == ["#cite-3-1"]  # [9] is not a citation of this answer: plain text
    assert "[9]" in html
    assert "&lt;script&gt;" in html and "&lt;img" in html
    assert "<script" not in html and "<img" not in html
    assert 'title="Titre &quot;piégé&quot; &lt;b&gt;gras&lt;/b&gt;"' in html
    assert 'class="answer done"' in html


def test_streaming_answer_is_escaped_and_its_markers_already_clickable() -> None:
    html = render.streaming_html(0, f"{EVIL} [2]")
    p = assert_safe(html)
    assert p.hrefs == ["#cite-0-2"]
    assert "streaming" in html and "done" not in html


def test_unsupported_sentences_are_muted_with_a_warning() -> None:
    text = "Le maire est venu. [1] Il a promis un tram. [1]"
    html = render.answer_html(0, answer(answer=text, unsupported=["Il a promis un tram."], answerer="llm"))
    assert_safe(html)
    assert '<span class="unsupported"' in html and ">Il a promis un tram.</span>" in html
    assert "Le maire est venu." not in html.split('<span class="unsupported"')[1]
    assert 'class="warn"' in html


def test_refusal_looks_like_a_refusal_and_points_to_the_closest_passages() -> None:
    refused = answer(answer="Les articles ne disent pas cela.", refused=True, citations=[],
                     retrieved=[passage(1), passage(2)])
    bubble = render.answer_html(0, refused)
    assert 'class="answer refused done"' in bubble and 'class="refusal"' in bubble and "panneau Sources" in bubble
    panel = render.sources_html(0, refused)
    p = assert_safe(panel)
    assert p.hrefs == ["#passage-0-1", "#passage-0-2"]
    assert "Passages les plus proches" in panel and "&lt;img src=x&gt; titre 1" in panel


def test_rewritten_follow_up_and_notice_are_shown_escaped() -> None:
    html = render.answer_html(1, answer(question="Et <Anthropic> ?", standalone_question="Prix d'<Anthropic> ?",
                                        notice="LLM <down>; extractive answer instead"))
    assert_safe(html)
    assert "Question comprise comme" in html and "Prix d&#x27;&lt;Anthropic&gt; ?" in html
    assert "LLM &lt;down&gt;" in html


def test_citation_card_highlights_exactly_the_quote_in_its_passage() -> None:
    html = render.sources_html(2, answer(), active=1)
    p = assert_safe(html)
    assert p.hrefs == ["#open-2-1"]
    assert 'id="cite-2-1"' in html and "card active scroll-target" in html
    marked = html.split("<mark>")[1].split("</mark>")[0]
    assert marked == render.esc(QUOTE)
    assert "Première phrase." in html.split("<mark>")[0]


def test_citation_card_finds_the_quote_when_passage_offsets_are_stale() -> None:
    c = citation()
    stale = Citation(**{**c.__dict__, "passage_start": c.passage_start + 5})
    html = render.citation_card(0, stale, "fr")
    assert html.split("<mark>")[1].split("</mark>")[0] == render.esc(QUOTE)


def test_article_view_marks_the_span_for_scrolling_and_escapes_the_rest() -> None:
    html = render.article_html("<b>T</b>", None, "x.txt", ARTICLE_TEXT, Q_START, Q_START + len(QUOTE))
    assert_safe(html)
    assert 'class="hl quote scroll-target"' in html
    assert html.split('scroll-target">')[1].split("</mark>")[0] == render.esc(QUOTE)
    assert "&lt;b&gt;T&lt;/b&gt;" in html and "sans date" in html


def test_article_view_clamps_offsets_outside_the_text() -> None:
    html = render.article_html("T", None, "x.txt", "abc", 2, 99)
    assert html.split('scroll-target">')[1].split("</mark>")[0] == "c"


def test_index_status_and_article_list_escape_titles() -> None:
    status = IndexStatus(index_dir="i", articles=2, chunks=7, embedding_model="m<x>", dimension=3,
                         languages={"fr": 2}, last_indexed="2026-01-01T10:00:00+00:00", size_bytes=1,
                         chunking={})
    html = render.status_html(status, busy=True)
    assert_safe(html)
    assert "<b>2</b> articles" in html and "<b>7</b> chunks" in html and "m&lt;x&gt;" in html and "indexing" in html
    table = render.articles_html([ArticleInfo("a.txt", EVIL, "2025-01-01", "fr", 4)])
    assert_safe(table)
    assert "&lt;script&gt;" in table and "<td class=\"n\">4</td>" in table


@pytest.mark.parametrize("text", ["", "x"])
def test_messages_are_escaped(text: str) -> None:
    html = render.message_html(text + EVIL, "nonsense-kind")
    assert_safe(html)
    assert 'class="msg info"' in html
