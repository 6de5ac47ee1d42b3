"""Save uploaded or pasted articles into the sources folder, safely.

Nothing here trusts the client: the file name is reduced to a plain basename
(``../../x``, absolute paths, Windows paths, odd Unicode), the type is checked
by suffix *and* by content (the file must parse as an article), the size is
capped, and the file is written to a hidden temporary name then linked into
place atomically, never over an existing file and never outside ``sources/``.

    saved = save_upload(Path("/tmp/upload/x.txt"), "Mon article.txt", Path("sources"), max_bytes)
    saved.name  # "Mon-article.txt" (or "Mon-article-2.txt" when taken by another text)
"""

from __future__ import annotations

import os
import re
import secrets
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from .config import SUPPORTED_SUFFIXES
from .documents import parse_article, size_problem, source_name
from .errors import SourceError, UploadError

MAX_NAME_CHARS = 80  # stem length, before the suffix
MAX_TITLE_CHARS = 160
FALLBACK_STEM = "article"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class SavedArticle:
    name: str  # file name inside the sources folder
    path: Path
    title: str
    existed: bool  # the same bytes were already there under this name: nothing written


def allowed_suffixes() -> tuple[str, ...]:
    return SUPPORTED_SUFFIXES


def safe_name(original: str, default_suffix: str = ".txt") -> str:
    """A plain, portable basename for ``original``: ASCII letters, digits, ``.-_``.

    Directory parts (``/`` and ``\\``) are dropped, accents folded (é -> e),
    other characters become ``-``, leading dots removed (no hidden files).
    Raises :class:`UploadError` for an unsupported suffix.
    """
    base = re.split(r"[\\/]", str(original))[-1]
    base = unicodedata.normalize("NFKD", base)
    base = "".join(ch for ch in base if not unicodedata.combining(ch))
    stem, dot, suffix = base.rpartition(".")
    if not dot:
        stem, suffix = base, default_suffix.lstrip(".")
    suffix = "." + suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        shown = source_name(original if len(original) <= 60 else original[:57] + "...")
        raise UploadError(
            f"{shown!r}: file type {suffix!r} is not accepted; upload one of {', '.join(SUPPORTED_SUFFIXES)}"
        )
    stem = _UNSAFE.sub("-", stem)
    stem = re.sub(r"-{2,}", "-", stem).strip(".-_ ")
    stem = stem[:MAX_NAME_CHARS].rstrip(".-_") or FALLBACK_STEM
    return stem + suffix


def save_upload(
    source: Path | bytes, original_name: str, sources_dir: Path, max_bytes: int, discard: bool = False
) -> SavedArticle:
    """Validate one uploaded file and store it under a safe name in ``sources_dir``.

    With ``discard``, ``source`` is a temporary copy (the web server's upload folder)
    that is removed once read, whether the upload is accepted or refused: a refused
    upload would otherwise stay on the server's disk.
    """
    try:
        name = safe_name(original_name)
        if isinstance(source, bytes):
            raw = source
        else:
            try:
                _check_size(name, Path(source).stat().st_size, max_bytes)
                raw = Path(source).read_bytes()
            except OSError:
                raise UploadError(f"{name}: the uploaded file is gone; upload it again") from None
        return _parse_and_store(raw, name, Path(sources_dir), max_bytes, shown=source_name(original_name))
    finally:
        if discard and not isinstance(source, bytes):
            Path(source).unlink(missing_ok=True)


def save_pasted(title: str, text: str, sources_dir: Path, max_bytes: int, date: str | None = None) -> SavedArticle:
    """Store a pasted article as ``<title>.txt``: optional date line, title line, then the text."""
    title = " ".join((title or "").split())
    text = (text or "").strip()
    date = (date or "").strip() or None
    if not title:
        raise UploadError("title is empty; give the pasted article a title")
    if len(title) > MAX_TITLE_CHARS:
        raise UploadError(f"title is {len(title)} characters long; keep it under {MAX_TITLE_CHARS}")
    if title.endswith((".", "!", "?", ":")):
        title = title.rstrip(".!?:").rstrip() or title  # a trailing period would make it read as prose
    if not text:
        raise UploadError("text is empty; paste the article's text")
    if date is not None and not _DATE.match(date):
        raise UploadError(f"date {date!r} is not YYYY-MM-DD; write it like 2025-08-07 or leave it empty")
    body = (f"date: {date}\n" if date else "") + f"{title}\n\n{text}\n"
    raw = body.encode("utf-8")
    name = safe_name(title[:MAX_NAME_CHARS] + ".txt")
    return _parse_and_store(raw, name, Path(sources_dir), max_bytes, shown="pasted text")


def _parse_and_store(raw: bytes, name: str, sources_dir: Path, max_bytes: int, shown: str) -> SavedArticle:
    """Check the size, parse (an article that does not parse is refused, naming ``shown``), then store."""
    _check_size(name, len(raw), max_bytes)
    try:
        article = parse_article(raw, name)
    except SourceError as exc:
        raise UploadError(f"{shown}: {exc.reason}") from None
    return _store(raw, name, sources_dir, article.title)


def _check_size(name: str, size: int, max_bytes: int) -> None:
    fix = "split it, or start the server with a larger --max-upload-mb"
    if size == max_bytes + 1:  # the web API reads one byte past the limit, no further: the size is not known
        raise UploadError(f"{name}: file is over the {max_bytes / 1e6:g} MB limit; {fix}")
    problem = size_problem(size, max_bytes, fix=fix)
    if problem:
        raise UploadError(f"{name}: {problem}")


def _store(raw: bytes, name: str, sources_dir: Path, title: str) -> SavedArticle:
    sources_dir.mkdir(parents=True, exist_ok=True)
    root = sources_dir.resolve()
    stem, suffix = name[: -len(Path(name).suffix)], Path(name).suffix
    tmp = root / f".upload-{secrets.token_hex(8)}.tmp"  # hidden: neither indexed nor watched
    tmp.write_bytes(raw)
    try:
        for n in range(1, 1000):
            candidate = root / (name if n == 1 else f"{stem}-{n}{suffix}")
            if candidate.parent != root or candidate.name.startswith("."):  # belt and braces: see safe_name
                raise UploadError(f"{name}: refused, the name would leave the sources folder")
            try:
                os.link(tmp, candidate)  # atomic and never replaces an existing file
            except FileExistsError:
                if not candidate.is_symlink() and candidate.is_file() and candidate.read_bytes() == raw:
                    return SavedArticle(candidate.name, candidate, title, existed=True)
                continue
            return SavedArticle(candidate.name, candidate, title, existed=False)
        raise UploadError(f"{name}: 999 files with this name already exist; rename the file")
    finally:
        tmp.unlink(missing_ok=True)
