"""ui/render.py: untrusted article and model text is escaped; citations link only inside the page."""

from __future__ import annotations

from datetime import datetime, timezone
from html.parser import HTMLParser

import pytest

from assistant.catalog import CatalogEntry, CatalogPage
from assistant.models import Answer, Citation, IndexStatus, Passage
from assistant.ui import render, render_index

EVIL = '<script>window.__xss=1</script><img src=x onerror="window.__xss=2"> ![pixel](http://evil.example/p.png) [lien](http://evil.example)'
ALLOWED_TAGS = {"div", "span", "a", "b", "i", "br", "mark", "code", "blockquote", "table", "thead", "tbody", "tr", "th",
                "td", "time", "progress"}


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
    assert p.hrefs == ["#cite-3-1", "#copy-3"]  # [9] is not a citation of this answer: plain text
    assert "[9]" in html
    assert "&lt;script&gt;" in html and "&lt;img" in html
    assert "<script" not in html and "<img" not in html
    assert 'title="Titre &quot;piégé&quot; &lt;b&gt;gras&lt;/b&gt;"' in html
    assert 'class="answer done"' in html


def test_streaming_answer_is_escaped_and_its_markers_wait_for_verification() -> None:
    html = render.streaming_html(0, f"{EVIL} [2]")
    p = assert_safe(html)
    assert p.hrefs == []  # not a link until the final answer has verified citation 2
    assert '<span class="cite pending">[2]</span>' in html
    assert "streaming" in html and "done" not in html


def test_unsupported_sentences_are_muted_with_a_warning() -> None:
    text = "Le maire est venu. [1] Il a promis un tram. [1]"
    html = render.answer_html(0, answer(answer=text, unsupported=["Il a promis un tram."], answerer="llm"))
    assert_safe(html)
    assert '<span class="unsupported"' in html and ">Il a promis un tram.</span>" in html
    assert "Le maire est venu." not in html.split('<span class="unsupported"')[1].split('class="md-source"')[0]
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


def test_index_status_is_written_for_people() -> None:
    status = IndexStatus(index_dir="i", articles=5, chunks=7, embedding_model="m<x>", dimension=3,
                         languages={"fr": 2}, last_indexed="2026-01-01T10:00:00+00:00", size_bytes=1,
                         chunking={})
    now = datetime(2026, 1, 1, 10, 2, 30, tzinfo=timezone.utc)
    html = render_index.status_html(status, "en", now=now)
    assert_safe(html)
    assert "<b>5 articles</b> · updated <time" in html and ">2 minutes ago</time>" in html
    assert 'datetime="2026-01-01T10:00:00+00:00"' in html  # the page's script shows it in local time
    assert "chunks" not in html and "T10:00" not in html.split("</time>")[0].rsplit(">", 1)[-1]
    fr = render_index.status_html(status, "fr", busy=True, progress=(0.25, "embedding 1/4"), now=now)
    assert "il y a 2 minutes" in fr and '<progress max="1" value="0.250">' in fr and "indexation" in fr
    assert "<progress></progress>" in render_index.status_html(status, "en", busy=True, now=now)


def test_article_list_shows_people_columns_sort_keys_and_duplicates() -> None:
    entries = [CatalogEntry("a b.txt", EVIL, "2025-01-01", "fr", 4, 12_345, None),
               CatalogEntry("copy.txt", "Copie", None, "en", 0, 900, "a b.txt")]
    table = render_index.articles_html(CatalogPage(entries, 2, 2), "en")
    p = assert_safe(table)
    assert "&lt;script&gt;" in table and "12.3 kB" in table and "900 B" in table
    assert p.hrefs == ["#article:a%20b.txt", "#delete:a%20b.txt", "#article:copy.txt", "#delete:copy.txt"]
    assert 'class="dup"' in table and "duplicate of a b.txt" in table
    assert table.count('class="sortable"') == 5 and 'data-sort="000000012345"' in table
    assert "Delete “" in table  # the confirmation names the article
    assert "doublon de a b.txt" in render_index.articles_html(CatalogPage(entries, 2, 2), "fr")
    assert "articles-more" not in table  # the whole list: no line about others


def test_a_page_of_a_larger_list_says_how_to_find_the_others() -> None:
    entries = [CatalogEntry(f"{i:06d}.txt", f"Article {i}", None, "fr", 3, 2_000, None) for i in range(500)]
    table = render_index.articles_html(CatalogPage(entries, 100_000, 100_000), "en")
    assert table.count("<tr") == 501
    assert "The first 500 of 100,000 articles" in table and "filter" in table
    assert "500 premiers articles sur 100\u202f000" in render_index.articles_html(CatalogPage(entries, 100_000, 100_000), "fr")
    nothing = render_index.articles_html(CatalogPage([], 0, 100_000), "en", "<zzz>")
    assert "No article holds “&lt;zzz&gt;”" in nothing  # the filter's words, escaped
    assert "No article indexed yet" in render_index.articles_html(CatalogPage([], 0, 0), "en")


@pytest.mark.parametrize("text", ["", "x"])
def test_messages_are_escaped(text: str) -> None:
    html = render.message_html(text + EVIL, "nonsense-kind")
    assert_safe(html)
    assert 'class="msg info"' in html


LONG_ARTICLE = ("Un premier paragraphe sans rapport. " * 3 + "La phrase d'avant parle du port. "
                "Le port de Brest a accueilli 412 escales en 2025. La phrase d'après parle des quais. "
                + "Une suite sans rapport. " * 40)


def long_citation() -> Citation:
    quote = "Le port de Brest a accueilli 412 escales en 2025."
    start = LONG_ARTICLE.index(quote)
    return Citation(id=1, source="brest.txt", title="Brest", date=None, passage=LONG_ARTICLE, quote=quote,
                    start=start, end=start + len(quote), score=1.0, passage_start=0, passage_end=len(LONG_ARTICLE))


def test_card_shows_the_quote_with_one_sentence_of_context_either_side() -> None:
    before, quote, after = render.quote_in_context(long_citation())
    assert before == "La phrase d'avant parle du port."
    assert quote == "Le port de Brest a accueilli 412 escales en 2025."
    assert after == "La phrase d'après parle des quais."
    card = render.citation_card(0, long_citation(), "fr")
    assert "premier paragraphe" not in card and "Une suite" not in card  # the rest of the passage stays out
    assert len(card) < 900


def test_a_very_long_context_sentence_is_cut_next_to_the_quote() -> None:
    c = long_citation()
    text = "x" * 2000 + ". " + c.quote
    long = Citation(**{**c.__dict__, "passage": text, "start": 2002, "end": 2002 + len(c.quote)})
    before, _, after = render.quote_in_context(long)
    assert before.startswith("… ") and before.endswith("x.") and len(before) <= render.CONTEXT_CHARS + 2
    assert after == ""


def two_source_answer(text: str, question: str = "Combien coûte ChatGPT Enterprise ?") -> Answer:
    c1 = Citation(1, "lemonde.txt", "Le Monde", None, "ChatGPT coûte 1 $ par an.", "ChatGPT coûte 1 $ par an.", 0, 25, 1.0)
    c2 = Citation(2, "figaro.txt", "Le Figaro", None, "ChatGPT coûtera 1 $.", "ChatGPT coûtera 1 $.", 0, 20, 1.0)
    c3 = Citation(3, "lemonde.txt", "Le Monde", None, "Un autre passage.", "Un autre passage.", 0, 17, 1.0)
    return Answer(question=question, answer=text, refused=False, citations=[c1, c2, c3], retrieved=[])


def test_corroborating_citations_say_who_else_reports_the_fact() -> None:
    answer = two_source_answer("ChatGPT Enterprise coûte 1 $ par an [1][2][3].")
    panel = render.sources_html(0, answer)
    assert_safe(panel)
    card1 = panel.split('id="cite-0-1"')[1].split('id="cite-0-2"')[0]
    card2 = panel.split('id="cite-0-2"')[1].split('id="cite-0-3"')[0]
    assert "Aussi rapporté par" in card1 and "Le Figaro" in card1 and "figaro.txt" in card1
    assert "Le Monde" in card2 and "lemonde.txt" in card2
    assert card1.count("Le Monde") == 1  # the same outlet is not "also reporting" itself
    alone = render.sources_html(0, two_source_answer("ChatGPT coûte 1 $ [1]. Autre chose [2]."))
    assert "Aussi rapporté" not in alone


def test_different_figures_from_different_articles_are_both_shown_cited() -> None:
    differ = render.answer_html(0, two_source_answer("ChatGPT coûte 1 $ par an [1]. Il coûtera 200 millions de dollars [2]."))
    assert "chiffres différents" in differ
    note = differ.split('class="differ"')[1]
    assert "1 $" in note and "200 millions de dollars" in note and "#cite-0-1" in note and "#cite-0-2" in note
    same = render.answer_html(0, two_source_answer("ChatGPT coûte 1 $ par an [1]. Il coûtera 1 $ [2]."))
    assert "differ" not in same
    one_source = render.answer_html(0, two_source_answer("Il coûte 1 $ [1]. Un autre passage dit 5 $ [3]."))
    assert "differ" not in one_source
    not_a_figure_question = two_source_answer("1 $ [1]. 200 $ [2].", question="Qui dirige OpenAI ?")
    assert "differ" not in render.answer_html(0, not_a_figure_question)


def test_answer_header_follows_the_question_language_and_confidence_shows_when_present() -> None:
    english = answer(question="What did the mayor say?", standalone_question="What did the mayor say about it?")
    html = render.answer_html(0, english)
    assert "Understood as" in html and 'lang="en"' in html and "Copy answer with sources" in html
    assert "confidence" not in html
    scored = answer()
    scored.confidence = 0.82  # type: ignore[attr-defined]  # the field the answerer is getting
    assert '<span class="confidence">confiance 82%</span>' in render.answer_html(0, scored)


def test_copy_data_is_markdown_with_numbered_references() -> None:
    html = render.answer_html(0, answer())
    md = html.split('<div class="md-source">')[1].split("</div>")[0]
    assert "[^1]" in md and "[^1]: " in md and "a&lt;b&gt;.txt" in md  # escaped inside the attribute
    assert "[9]" in md  # not a citation of this answer: left as written
