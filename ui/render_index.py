"""HTML for the index status line and the Articles table, written for people (escaped like render.py)."""

from __future__ import annotations

from datetime import datetime, timezone
from urllib.parse import quote

from assistant.catalog import CatalogPage
from assistant.models import IndexStatus

from .i18n import t
from .render import esc


def parse_time(iso: str | None) -> datetime | None:
    """An ISO time from the index (UTC when it names no zone), or None."""
    if not iso:
        return None
    try:
        when = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


def ago(when: datetime, lang: str, now: datetime | None = None) -> str:
    """"2 minutes ago" / "il y a 2 minutes" (the page's script keeps it current, in local time)."""
    seconds = max(0, int(((now or datetime.now(timezone.utc)) - when).total_seconds()))
    for size, fr, en in ((86400, "jour", "day"), (3600, "heure", "hour"), (60, "minute", "minute")):
        if seconds >= size:
            n = seconds // size
            return f"il y a {n} {fr}{'s' if n > 1 else ''}" if lang == "fr" else f"{n} {en}{'s' if n > 1 else ''} ago"
    return "à l'instant" if lang == "fr" else "just now"


def status_html(
    status: IndexStatus | None, lang: str = "en", busy: bool = False, progress: tuple[float, str] | None = None,
    error: str | None = None, now: datetime | None = None,
) -> str:
    """"5 articles · updated 2 minutes ago", with a progress bar while indexing.

    The time is a ``<time datetime=…>`` that the page's script rewrites in the reader's
    local time zone (the server's clock says only how long ago).
    """
    if error:
        return f'<div class="status error">⚠ {esc(error)}</div>'
    if status is None:
        return f'<div class="status">{t("not_built", lang)}</div>'
    count = t("article_1", lang) if status.articles == 1 else t("articles_n", lang, status.articles)
    when = parse_time(status.last_indexed)
    if when is None:
        updated = t("never", lang)
    else:
        updated = t("updated", lang, f'<time datetime="{esc(when.isoformat())}" data-lang="{lang}">{ago(when, lang, now)}</time>')
    busy_html = ""
    if busy:
        fraction, what = progress if progress else (None, "")
        bar = (f'<progress max="1" value="{fraction:.3f}"></progress>' if fraction is not None
               else "<progress></progress>")  # no value: an indeterminate bar
        busy_html = f' · <span class="busy">{t("indexing", lang)} {bar} {esc(what)}</span>'
    return f'<div class="status"><b>{count}</b> · {updated}{busy_html}</div>'


def human_size(n: int) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000  # type: ignore[assignment]
    return f"{n} B"  # pragma: no cover


def source_ref(source: str) -> str:
    """A file name as it travels in a page-internal link (percent-encoded: any name is safe)."""
    return quote(source, safe="")


def count_text(n: int, lang: str) -> str:
    """12,345 in English, 12 345 in French (a narrow no-break space)."""
    return f"{n:,}".replace(",", "\u202f") if lang == "fr" else f"{n:,}"


def articles_html(page: CatalogPage, lang: str = "en", match: str = "") -> str:
    """A sortable, filterable table (the page's script sorts and filters it); duplicates marked as such.
    A page of the list (``assistant.catalog``): when more files match, a line says how to find them."""
    if not page.entries:
        if match.strip() and page.total:
            return f'<div class="articles empty">{esc(t("no_match", lang, match.strip()))}</div>'
        return f'<div class="articles empty">{t("no_articles", lang)}</div>'
    shown, matched = count_text(len(page.entries), lang), count_text(page.matched, lang)
    more = "" if page.complete else f'<p class="articles-more">{esc(t("page_of", lang, shown, matched))}</p>'
    entries = page.entries
    rows = []
    for e in entries:
        ref = source_ref(e.source)
        dup = f' <span class="dup">({esc(t("duplicate_of", lang, e.duplicate_of))})</span>' if e.duplicate_of else ""
        rows.append(
            f'<tr class="{"dup" if e.duplicate_of else "art"}" data-source="{esc(e.source)}">'
            f'<td data-sort="{esc(e.title.lower())}"><a class="art-open" href="#article:{ref}">{esc(e.title)}</a></td>'
            f'<td data-sort="{esc(e.date or "")}">{esc(e.date or "—")}</td>'
            f'<td data-sort="{esc(e.lang)}">{esc(e.lang)}</td>'
            f'<td data-sort="{esc(e.source.lower())}"><code>{esc(e.source)}</code>{dup}</td>'
            f'<td class="n" data-sort="{e.size_bytes:012d}">{human_size(e.size_bytes)}</td>'
            f'<td><a class="art-delete" href="#delete:{ref}" data-title="{esc(e.title)}" '
            f'data-confirm="{esc(t("confirm_delete", lang, e.title))}">{t("delete", lang)}</a></td></tr>'
        )
    heads = "".join(f'<th data-col="{i}" class="sortable">{t(k, lang)}</th>'
                    for i, k in enumerate(("col_title", "col_date", "col_lang", "col_file", "col_size")))
    return (f'{more}<table class="articles" data-count="{len(entries)}" data-matched="{page.matched}"><thead><tr>{heads}<th></th></tr>'
            f'</thead><tbody>{"".join(rows)}</tbody></table>')
