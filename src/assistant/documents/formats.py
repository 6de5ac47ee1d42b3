"""Text out of each format: HTML (title and date from its metadata), Markdown (front matter), PDF."""

from __future__ import annotations

import re

from ..errors import SourceError
from ..text import clean_text
from .layout import short_title, valid_date


def html_text(html: str, source: str) -> tuple[str, dict[str, str | None]]:
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
        info["title"] = short_title(clean_text(meta.title)) if meta.title and meta.title.strip() else None
        info["date"] = valid_date(meta.date or "")
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


def markdown_text(text: str) -> tuple[str, dict[str, str | None]]:
    """Plain text of a Markdown article, and title/date from a YAML front matter block if any."""
    info: dict[str, str | None] = {"title": None, "date": None}
    text = text.replace("\r\n", "\n").lstrip("\ufeff")
    front = _FRONT_MATTER.match(text)
    if front:
        for line in front.group(1).split("\n"):
            key, _, value = line.partition(":")
            value = value.strip().strip("'\"")
            if key.strip().lower() == "title" and value:
                info["title"] = short_title(clean_text(value))
            elif key.strip().lower() == "date" and value:
                info["date"] = valid_date(value[:10])
        text = text[front.end() :]
    # Setext headings ("Title\n=====") -> the title line alone.
    text = re.sub(r"^(\S[^\n]*)\n[ \t]*(?:=+|-+)[ \t]*$", r"\1", text, flags=re.MULTILINE)
    for pattern, replacement in _MD_RULES:
        text = pattern.sub(replacement, text)
    return text, info


def pdf_text(raw: bytes, source: str) -> str:
    import io
    import logging

    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    # pypdf logs what it repairs or cannot read ("EOF marker not found") straight to stderr, a
    # stray line before ours; what matters reaches the user as this file's one-line reason.
    logging.getLogger("pypdf").setLevel(logging.CRITICAL)
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


