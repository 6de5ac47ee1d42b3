"""The title, date and body of an article's cleaned text, without the page furniture around it."""

from __future__ import annotations

import re
from pathlib import Path

from ..text import clean_text, readable_sentence_spans

MAX_TITLE_CHARS = 160

# "date 2025-08-07" (the seeds) or "date: 2025-08-07" at the start of one of the first lines.
_DATE_MARKER = re.compile(r"^[ \t]*date[ \t]*[:=]?[ \t]*(\d{4}-\d{2}-\d{2})\b[ \t]*", re.IGNORECASE | re.MULTILINE)
_DATE_MARKER_LINES = 3
_PUBLISHED = re.compile(
    r"\b(?:publi[ée] le|published(?: on)?|mis à jour le)\s*:?\s*(\d{1,2})(?:er)?\s+([a-zéû]+)\s+(\d{4})",
    re.IGNORECASE,
)
_MONTHS = {
    m: i + 1
    for i, names in enumerate(
        [
            ("janvier", "january", "jan"), ("février", "fevrier", "february", "feb"),
            ("mars", "march", "mar"), ("avril", "april", "apr"), ("mai", "may"),
            ("juin", "june", "jun"), ("juillet", "july", "jul"), ("août", "aout", "august", "aug"),
            ("septembre", "september", "sep", "sept"), ("octobre", "october", "oct"),
            ("novembre", "november", "nov"), ("décembre", "decembre", "december", "dec"),
        ]
    )
    for m in names
}
# Lines that are page furniture, not article prose (matched on the whole line).
_FURNITURE = re.compile(
    r"^(?:a lire aussi|à lire aussi|lire aussi|read more|related|publiez un commentaire|"
    r"laisser un commentaire|leave a comment|partager(?: cet article)?|share(?: this)?|"
    r"abonnez-vous.*|inscrivez-vous à (?:notre|la) newsletter.*|subscribe to our newsletter.*|"
    r"sign up for (?:our|the) newsletter.*|publicité|advertisement|"
    r"suivez-nous.*|follow us.*)\s*:?$",
    re.IGNORECASE,
)
# After these headings the next short line is a teaser link, not prose.
# Reader-support pleas ("X est un média indépendant. Soutenez-nous en ...") : a short
# line that asks for support *and* talks about the outlet, not any line with the word.
_PLEA = re.compile(r"\b(?:soutenez[- ]nous|support us|support our journalism)\b", re.IGNORECASE)
_PLEA_CONTEXT = re.compile(
    r"média|media|journalis|favoris|abonn|subscri|newsletter|don\b|dons\b|donat|actualités|google news|rédaction",
    re.IGNORECASE,
)
_MAX_PLEA_CHARS = 300
_TEASER_HEADINGS = re.compile(r"^(?:a lire aussi|à lire aussi|lire aussi|read more|related)$", re.I)


def valid_date(value: str) -> str | None:
    """``value`` if it is a real YYYY-MM-DD date, else None."""
    import datetime

    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return None
    try:
        datetime.date.fromisoformat(value)
    except ValueError:
        return None
    return value


def short_title(title: str) -> str:
    return title if len(title) <= MAX_TITLE_CHARS else title[: MAX_TITLE_CHARS - 1].rstrip() + "…"


def title_date_and_body(
    body: str, source: str, html_title: str | None, html_date: str | None
) -> tuple[str, str | None, str]:
    text = clean_text(body)
    date = html_date
    head_end = _end_of_line(text, _DATE_MARKER_LINES)
    marker = _DATE_MARKER.search(text, 0, head_end)
    if marker and valid_date(marker.group(1)):
        date = date or marker.group(1)
        text = clean_text(text[: marker.start()] + text[marker.end() :])
    text = _drop_furniture(text)
    lines = text.split("\n")
    title = (html_title or "").strip()
    first = lines[0].lstrip("# ").strip() if lines else ""
    if not title and first and len(first) <= MAX_TITLE_CHARS and not first.endswith((".", "!", "?", ":")):
        title = first  # a heading line; keep it in the text too (offsets stay simple)
    # Drop repeated title lines (some sites print the headline twice).
    if title:
        kept: list[str] = []
        seen_title = False
        for line in lines:
            if line.lstrip("# ").strip() == title:
                if seen_title:
                    continue
                seen_title = True
            kept.append(line)
        text = clean_text("\n".join(kept))
    if not title:  # the first sentence, never a run of encoded data (it heads every chunk's embedding)
        spans = readable_sentence_spans(text)
        first_sentence = text[spans[0][0] : spans[0][1]] if spans else Path(source).stem
        title = short_title(first_sentence)
    if date is None:
        date = _published_date(text)
    return title, date, text


def _end_of_line(text: str, lines: int) -> int:
    """Offset of the end of the first ``lines`` non-empty lines."""
    pos = 0
    for _ in range(lines):
        while pos < len(text) and text[pos] == "\n":
            pos += 1
        nl = text.find("\n", pos)
        if nl < 0:
            return len(text)
        pos = nl
    return pos


def _drop_furniture(text: str) -> str:
    out: list[str] = []
    lines = text.split("\n")
    skip_teaser = False
    for line in lines:
        stripped = line.strip()
        if skip_teaser and stripped:
            skip_teaser = False
            if len(stripped) < 140 and not stripped.endswith("."):
                continue
        if stripped and len(stripped) <= _MAX_PLEA_CHARS and _PLEA.search(stripped) and _PLEA_CONTEXT.search(stripped):
            continue
        if stripped and _FURNITURE.match(stripped):
            skip_teaser = bool(_TEASER_HEADINGS.match(stripped.rstrip(" :")))
            continue
        out.append(line)
    return clean_text("\n".join(out))


def _published_date(text: str) -> str | None:
    m = _PUBLISHED.search(text[:2000])
    if not m:
        return None
    month = _MONTHS.get(m.group(2).lower())
    if not month:
        return None
    return valid_date(f"{int(m.group(3)):04d}-{month:02d}-{int(m.group(1)):02d}")
