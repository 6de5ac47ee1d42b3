"""Reading one article file (.txt, .md, .html, .pdf) into a cleaned :class:`Article`."""

from __future__ import annotations

import codecs
import hashlib
import re
from collections import Counter
from pathlib import Path

from ..errors import SourceError
from ..models import Article
from ..text import describe_unreadable, detect_language, unreadable_runs
from .formats import html_text, markdown_text, pdf_text
from .layout import title_date_and_body

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
        body = pdf_text(raw, source)
    else:
        decoded = decode_bytes(raw, source)
        if suffix in (".html", ".htm"):
            body, html_meta = html_text(decoded, source)
        elif suffix in (".md", ".markdown"):
            body, html_meta = markdown_text(decoded)
        else:
            body = decoded
    title, date, text = title_date_and_body(body, source, html_meta.get("title"), html_meta.get("date"))
    if not text.strip():
        raise SourceError(source, "no article text found (file is empty or only whitespace); add text or remove it")
    if not _WORD_CHAR.search(text):
        raise SourceError(source, "holds no words, only punctuation or symbols; add the article's text or remove it")
    if not _has_readable_words(text):
        raise SourceError(source, f"holds no prose, only {describe_unreadable(text)}; add the article's text or remove it")
    repeated = _repeated_word(text)
    if repeated:
        raise SourceError(source, f"holds no prose: {repeated}; fix the export or remove it")
    return Article(
        id=article_id_for(text, title),
        source=source,
        title=title,
        date=date,
        lang=detect_language(text),
        content_hash=raw_hash,
        text=text,
    )


# A text of this many words or more of which one word makes half is filler ("mot mot mot…", a
# broken export), not an article: in real prose the commonest word ("de", "the") is under a tenth.
# Its passages would match any question that shares the word.
_WORD = re.compile(r"\w+")
_FILLER_MIN_WORDS = 500
_FILLER_SHARE = 0.5


def _repeated_word(text: str) -> str | None:
    """What makes ``text`` filler (its words, and the one repeated), or None."""
    words = _WORD.findall(text.lower())
    if len(words) < _FILLER_MIN_WORDS:
        return None
    commonest, count = Counter(words).most_common(1)[0]
    if count < _FILLER_SHARE * len(words):
        return None
    return f"“{commonest[:40]}” is {count:,} of its {len(words):,} words"


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
        if _looks_like_utf16(raw[:_BINARY_SNIFF]):
            raise SourceError(source, "looks like UTF-16 text without a byte-order mark; re-save it as UTF-8")
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
    if _UTF8_ACCENT.search(raw):
        # Real UTF-8 accents ("é" is C3 A9) beside bytes that are not UTF-8: a file pasted together
        # from two encodings. Read as cp1252, every UTF-8 accent would become mojibake ("Ã©").
        line = raw.count(b"\n", 0, bad_at) + 1
        raise SourceError(
            source,
            f"mixes UTF-8 with another encoding (UTF-8 accents, and bytes that are not UTF-8 from byte {bad_at}, "
            f"line {line}); re-save the whole file as UTF-8",
        )
    for codec in ("cp1252", "latin-1"):
        try:
            text = raw.decode(codec)
        except UnicodeDecodeError:
            continue
        if _looks_like_text(text):
            return text
    raise SourceError(source, "cannot decode as UTF-8, UTF-16, cp1252 or latin-1; re-save it as UTF-8")


# The UTF-8 forms of Latin-1 letters and of typographic punctuation (’ “ ” – …): in a cp1252 text
# they would read "Ã©", "Â ", "â€™", which no French or English text writes.
_UTF8_ACCENT = re.compile(rb"[\xc2\xc3][\x80-\xbf]|\xe2[\x80-\x9f][\x80-\xbf]")
_UTF8_MULTIBYTE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}"
)


def _looks_like_utf16(sample: bytes) -> bool:
    """Text in UTF-16 (LE or BE) has a NUL beside nearly every Latin character: one of the two byte
    lanes is mostly zeros, the other almost never (a binary file has zeros in both)."""
    for zeros, chars in ((sample[1::2], sample[0::2]), (sample[0::2], sample[1::2])):
        if len(zeros) >= 8 and zeros.count(0) >= 0.8 * len(zeros) and chars.count(0) <= 0.05 * len(chars):
            return True
    return False


def _invalid_utf8_count(raw: bytes) -> int:
    """Invalid byte sequences (each shows as one U+FFFD when replaced; literal U+FFFD excluded)."""
    return raw.decode("utf-8", errors="replace").count("\ufffd") - raw.count("\ufffd".encode())


def _looks_like_text(text: str) -> bool:
    sample = text[:_BINARY_SNIFF]
    controls = sum(1 for ch in sample if ord(ch) < 32 and ch not in "\n\r\t")
    return controls <= len(sample) * 0.01


