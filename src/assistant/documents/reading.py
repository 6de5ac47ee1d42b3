"""Reading one article file (.txt, .md, .html, .pdf) into a cleaned :class:`Article`."""

from __future__ import annotations

import codecs
import hashlib
import re
from pathlib import Path

from ..errors import SourceError
from ..models import Article
from ..text import (
    clean_text,
    describe_unreadable,
    detect_language,
    readable_sentence_spans,
    unreadable_runs,
)

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
_BINARY_SNIFF = 8192
_WORD_CHAR = re.compile(r"[^\W_]")  # a letter or a digit, in any script


def article_id_for(text: str, title: str = "") -> str:
    """Stable id from what is embedded (title + cleaned text): same article, same id, whatever its file name."""
    return hashlib.sha256(f"{title}\x00{text}".encode("utf-8")).hexdigest()[:16]



def size_problem(size: int, max_bytes: int, fix: str = "split it or raise --max-file-mb") -> str | None:
    """The reason to refuse a file of ``size`` bytes, or None: the one size rule for indexing and uploads."""
    if size <= max_bytes:
        return None
    return f"file is {size / 1e6:.1f} MB, over the {max_bytes / 1e6:g} MB limit; {fix}"


def read_source(path: Path, source: str, max_bytes: int) -> bytes:
    """The bytes of one article file, after the size check. Raises :class:`SourceError`."""
    try:
        problem = size_problem(path.stat().st_size, max_bytes)
        if problem:
            raise SourceError(source, problem)
        return path.read_bytes()
    except FileNotFoundError:
        raise SourceError(source, "file disappeared while indexing; it will be picked up next run") from None
    except IsADirectoryError:
        raise SourceError(source, "is a folder, not a file; rename it without an article suffix") from None
    except OSError as exc:
        raise SourceError(source, f"cannot read file ({exc.strerror}); check its permissions") from None


def content_hash(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()[:16]


def load_article(path: Path, source: str, max_bytes: int) -> Article:
    """Read, decode, extract and clean one file. Raises :class:`SourceError`."""
    return parse_article(read_source(path, source, max_bytes), source)


def parse_article(raw: bytes, source: str) -> Article:
    suffix = Path(source).suffix.lower()
    raw_hash = content_hash(raw)
    html_meta: dict[str, str | None] = {}
    if suffix == ".pdf":
        body = _pdf_text(raw, source)
    else:
        decoded = decode_bytes(raw, source)
        if suffix in (".html", ".htm"):
            body, html_meta = _html_text(decoded, source)
        elif suffix in (".md", ".markdown"):
            body, html_meta = _markdown_text(decoded)
        else:
            body = decoded
    title, date, text = _title_date_and_body(body, source, html_meta.get("title"), html_meta.get("date"))
    if not text.strip():
        raise SourceError(source, "no article text found (file is empty or only whitespace); add text or remove it")
    if not _WORD_CHAR.search(text):
        raise SourceError(source, "holds no words, only punctuation or symbols; add the article's text or remove it")
    if not _has_readable_words(text):
        raise SourceError(source, f"holds no prose, only {describe_unreadable(text)}; add the article's text or remove it")
    return Article(
        id=article_id_for(text, title),
        source=source,
        title=title,
        date=date,
        lang=detect_language(text),
        content_hash=raw_hash,
        text=text,
    )


def _has_readable_words(text: str) -> bool:
    """A letter or digit outside the runs that chunking leaves out (see :func:`assistant.text.unreadable_runs`)."""
    cursor = 0
    for start, end in [*unreadable_runs(text), (len(text), len(text))]:
        if _WORD_CHAR.search(text, cursor, start):
            return True
        cursor = end
    return False


def decode_bytes(raw: bytes, source: str) -> str:
    """UTF-8, UTF-8/16 with BOM, then cp1252, then latin-1 — explicitly, never ignoring errors."""
    if not raw.strip():
        raise SourceError(source, "file is empty; add text or remove it")
    for bom, codec in ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")):
        if raw.startswith(bom):
            try:
                return raw.decode(codec)
            except UnicodeDecodeError:
                raise SourceError(source, f"starts with a {codec} byte-order mark but is not valid {codec}; re-save it as UTF-8") from None
    if b"\x00" in raw[:_BINARY_SNIFF]:
        raise SourceError(source, "looks like a binary file, not text; convert it to .txt/.md/.html or remove it")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        bad_at = exc.start
    valid_multibyte = len(_UTF8_MULTIBYTE.findall(raw))
    if valid_multibyte and valid_multibyte >= _invalid_utf8_count(raw):
        # Mostly UTF-8 with a few broken bytes: reading it as cp1252 would turn every accent into mojibake.
        line = raw.count(b"\n", 0, bad_at) + 1
        raise SourceError(
            source,
            f"is UTF-8 but has invalid bytes (first at byte {bad_at}, line {line}); "
            "fix or re-save the file as UTF-8",
        )
    for codec in ("cp1252", "latin-1"):
        try:
            text = raw.decode(codec)
        except UnicodeDecodeError:
            continue
        if _looks_like_text(text):
            return text
    raise SourceError(source, "cannot decode as UTF-8, UTF-16, cp1252 or latin-1; re-save it as UTF-8")


_UTF8_MULTIBYTE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}"
)


def _invalid_utf8_count(raw: bytes) -> int:
    """Invalid byte sequences (each shows as one U+FFFD when replaced; literal U+FFFD excluded)."""
    return raw.decode("utf-8", errors="replace").count("\ufffd") - raw.count("\ufffd".encode())


def _looks_like_text(text: str) -> bool:
    sample = text[:_BINARY_SNIFF]
    controls = sum(1 for ch in sample if ord(ch) < 32 and ch not in "\n\r\t")
    return controls <= len(sample) * 0.01


def _html_text(html: str, source: str) -> tuple[str, dict[str, str | None]]:
    try:
        import trafilatura  # inside the try: its HTML cleaner (lxml_html_clean) is a separate package

        body = trafilatura.extract(html, include_comments=False, include_tables=True, favor_recall=True)
        meta = trafilatura.extract_metadata(html)
    except ImportError as exc:  # a broken install: say which package, by the name pip knows
        package = "lxml_html_clean" if (exc.name or "").startswith(("lxml.html.clean", "lxml_html_clean")) else exc.name or "trafilatura"
        raise SourceError(
            source, f"reading HTML needs the {package} package: pip install {package} (a dependency of news-assistant)"
        ) from None
    except Exception as exc:  # trafilatura raises many kinds on broken markup
        raise SourceError(source, f"cannot extract text from HTML ({exc.__class__.__name__}); check the file") from None
    if not body:
        raise SourceError(source, "no article text found in this HTML page; save the article body or a text version")
    info: dict[str, str | None] = {"title": None, "date": None}
    if meta is not None:
        info["title"] = _short_title(clean_text(meta.title)) if meta.title and meta.title.strip() else None
        info["date"] = _valid_date(meta.date or "")
    return body, info


_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?)\n(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.DOTALL)
_MD_RULES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"<!--.*?-->", re.DOTALL), ""),  # comments
    (re.compile(r"^```[^\n]*$|^~~~[^\n]*$", re.MULTILINE), ""),  # code fences (keep the code)
    (re.compile(r"^\s{0,3}\[[^\]]+\]:\s+\S+.*$", re.MULTILINE), ""),  # link reference definitions
    (re.compile(r"^\s{0,3}(?:[-*_]\s*){3,}$", re.MULTILINE), ""),  # horizontal rules
    (re.compile(r"^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$", re.MULTILINE), r"\1"),  # ATX headings
    (re.compile(r"^\s{0,3}(?:>\s?)+", re.MULTILINE), ""),  # block quotes
    (re.compile(r"!\[([^\]]*)\]\([^)]*\)"), r"\1"),  # images -> alt text
    (re.compile(r"\[([^\]]+)\]\([^)]*\)"), r"\1"),  # links -> their text
    (re.compile(r"\[([^\]]+)\]\[[^\]]*\]"), r"\1"),  # reference links
    (re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1"), r"\2"),  # strong
    (re.compile(r"(?<![\w*])\*(?=\S)(.+?)(?<=\S)\*(?![\w*])"), r"\1"),  # emphasis (not a*b*c)
    (re.compile(r"(?<!\w)_(?=\S)(.+?)(?<=\S)_(?!\w)"), r"\1"),
    (re.compile(r"`([^`\n]+)`"), r"\1"),  # inline code
]


def _markdown_text(text: str) -> tuple[str, dict[str, str | None]]:
    """Plain text of a Markdown article, and title/date from a YAML front matter block if any."""
    info: dict[str, str | None] = {"title": None, "date": None}
    text = text.replace("\r\n", "\n").lstrip("\ufeff")
    front = _FRONT_MATTER.match(text)
    if front:
        for line in front.group(1).split("\n"):
            key, _, value = line.partition(":")
            value = value.strip().strip("'\"")
            if key.strip().lower() == "title" and value:
                info["title"] = _short_title(clean_text(value))
            elif key.strip().lower() == "date" and value:
                info["date"] = _valid_date(value[:10])
        text = text[front.end() :]
    # Setext headings ("Title\n=====") -> the title line alone.
    text = re.sub(r"^(\S[^\n]*)\n[ \t]*(?:=+|-+)[ \t]*$", r"\1", text, flags=re.MULTILINE)
    for pattern, replacement in _MD_RULES:
        text = pattern.sub(replacement, text)
    return text, info


def _short_title(title: str) -> str:
    return title if len(title) <= MAX_TITLE_CHARS else title[: MAX_TITLE_CHARS - 1].rstrip() + "…"


def _valid_date(value: str) -> str | None:
    """``value`` if it is a real YYYY-MM-DD date, else None."""
    import datetime

    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return None
    try:
        datetime.date.fromisoformat(value)
    except ValueError:
        return None
    return value


def _pdf_text(raw: bytes, source: str) -> str:
    import io

    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(raw))
        pages = [page.extract_text() or "" for page in reader.pages]
    except PdfReadError as exc:
        raise SourceError(source, f"cannot read PDF ({exc}); export it as text instead") from None
    except Exception as exc:  # pypdf raises many kinds on damaged files
        raise SourceError(source, f"cannot read PDF ({exc.__class__.__name__}); export it as text instead") from None
    text = "\n\n".join(pages)
    if not text.strip():
        raise SourceError(source, "PDF holds no extractable text (scanned images?); run OCR or export as text")
    return text


def _title_date_and_body(
    body: str, source: str, html_title: str | None, html_date: str | None
) -> tuple[str, str | None, str]:
    text = clean_text(body)
    date = html_date
    head_end = _end_of_line(text, _DATE_MARKER_LINES)
    marker = _DATE_MARKER.search(text, 0, head_end)
    if marker and _valid_date(marker.group(1)):
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
        title = _short_title(first_sentence)
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
    return _valid_date(f"{int(m.group(3)):04d}-{month:02d}-{int(m.group(1)):02d}")
