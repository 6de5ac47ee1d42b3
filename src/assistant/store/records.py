"""The records the store holds, as typed values, and their Chroma metadata form.

Chroma metadata values are scalars; ``None`` is not allowed, so optional strings
are stored as "" and read back as ``None``. Values are capped at Chroma Cloud's
4 KB per metadata value (titles and file names are far shorter in practice).
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, replace
from typing import Any

from ..models import Article, Chunk

FORMAT_VERSION = 2  # 1: catalog.json + files beside Chroma; 2: everything in Chroma
MAX_METADATA_CHARS = 1000  # 4 KB per value at 4 bytes per character, worst case
MAX_DOCUMENT_BYTES = 16_000  # Chroma Cloud: documents of at most 16 KB
MAX_RECORDS_PER_CALL = 300  # Chroma Cloud: records per write and results per read


@dataclass(frozen=True)
class StoreSettings:
    """What the vectors and chunk boundaries depend on; recorded in the store and checked."""

    embedding_model: str
    dimension: int
    chunk_tokens: int
    chunk_overlap_sentences: int
    chunker: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Generation:
    """The commit marker: written last by every indexing run that changed something."""

    number: int
    settings: StoreSettings
    last_indexed: str | None
    format_version: int = FORMAT_VERSION
    log_id: str = ""  # the change log (``change_log``): "" when the run that wrote it kept none
    log_from: int = 0  # the first generation whose changes the log holds

    def to_metadata(self) -> dict[str, Any]:
        return {
            "generation": self.number,
            "format_version": self.format_version,
            "last_indexed": self.last_indexed or "",
            "log_id": self.log_id,
            "log_from": self.log_from,
            **self.settings.as_dict(),
        }

    @classmethod
    def from_metadata(cls, meta: dict[str, Any]) -> "Generation":
        settings = StoreSettings(
            str(meta["embedding_model"]), int(meta["dimension"]), int(meta["chunk_tokens"]),
            int(meta["chunk_overlap_sentences"]), str(meta["chunker"]),
        )
        return cls(int(meta["generation"]), settings, str(meta.get("last_indexed") or "") or None, int(meta["format_version"]),
                   str(meta.get("log_id") or ""), int(meta.get("log_from") or 0))


# Heads are built by the hundred thousand when an index opens: plain slotted classes
# build about 3x faster than frozen ones. Nothing mutates them (``with_`` copies).
@dataclass(slots=True)
class FileStat:
    """What `stat` says of a source file; equal stats mean the file was not touched."""

    size: int
    mtime_ns: int
    inode: int

    @classmethod
    def of(cls, st: os.stat_result) -> "FileStat":
        return cls(st.st_size, st.st_mtime_ns, st.st_ino)


@dataclass(slots=True)
class ArticleRecord:
    """One source file as indexed: the head that makes its article visible to readers."""

    source: str
    article_id: str  # hash of title + cleaned text; chunks, texts and sentences hang from it
    content_hash: str  # hash of the raw bytes
    title: str
    date: str | None
    lang: str
    chars: int
    text_parts: int  # the cleaned text is stored in this many documents of <= 16 KB
    chunks: int
    sentence_records: int  # records of sentence vectors: packs (one per sentence in older indexes)
    stat: FileStat | None = None
    duplicate_of: str | None = None  # another source holds the same article

    def live(self) -> bool:
        return self.duplicate_of is None

    def with_(self, **changes: Any) -> "ArticleRecord":
        return replace(self, **changes)

    def to_metadata(self) -> dict[str, Any]:
        stat = self.stat or FileStat(-1, -1, -1)
        return {
            "source": capped(self.source), "article_id": self.article_id, "content_hash": self.content_hash,
            "title": capped(self.title), "date": self.date or "", "lang": self.lang, "chars": self.chars,
            "text_parts": self.text_parts, "chunks": self.chunks, "sentences": self.sentence_records,
            "size": stat.size, "mtime_ns": stat.mtime_ns, "inode": stat.inode,
            "duplicate_of": capped(self.duplicate_of or ""),
        }

    @classmethod
    def from_metadata(cls, meta: dict[str, Any]) -> "ArticleRecord":
        stat = FileStat(int(meta["size"]), int(meta["mtime_ns"]), int(meta["inode"]))
        return cls(
            str(meta["source"]), str(meta["article_id"]), str(meta["content_hash"]), str(meta["title"]),
            str(meta["date"]) or None, str(meta["lang"]), int(meta["chars"]), int(meta["text_parts"]),
            int(meta["chunks"]), int(meta["sentences"]), stat if stat.size >= 0 else None,
            str(meta["duplicate_of"]) or None,
        )

    @classmethod
    def of(cls, article: Article, chunks: int, sentence_records: int, stat: FileStat | None) -> "ArticleRecord":
        return cls(
            article.source, article.id, article.content_hash, article.title, article.date, article.lang,
            len(article.text), len(split_text(article.text)), chunks, sentence_records, stat,
        )


@dataclass(frozen=True)
class ChunkRecord:
    """A chunk as stored: its vector and text live beside this metadata in Chroma."""

    chunk_id: str
    article_id: str
    source: str
    title: str
    date: str | None
    lang: str
    start: int
    end: int
    index: int

    def to_metadata(self) -> dict[str, Any]:
        return {
            "article_id": self.article_id, "source": capped(self.source), "title": capped(self.title),
            "date": self.date or "", "lang": self.lang, "start": self.start, "end": self.end, "index": self.index,
        }

    @classmethod
    def from_metadata(cls, chunk_id: str, meta: dict[str, Any]) -> "ChunkRecord":
        return cls(
            chunk_id, str(meta["article_id"]), str(meta["source"]), str(meta["title"]), str(meta["date"]) or None,
            str(meta["lang"]), int(meta["start"]), int(meta["end"]), int(meta["index"]),
        )

    @classmethod
    def of(cls, chunk: Chunk) -> "ChunkRecord":
        return cls(chunk.id, chunk.article_id, chunk.source, chunk.title, chunk.date, chunk.lang, chunk.start, chunk.end, chunk.index)

    def for_source(self, head: ArticleRecord) -> "ChunkRecord":
        """The same chunk cited under ``head``'s name and date (a renamed or duplicated file)."""
        return replace(self, source=head.source, title=head.title, date=head.date)


def split_text(text: str) -> list[str]:
    """``text`` cut into pieces of at most ``MAX_DOCUMENT_BYTES`` in UTF-8 (never inside a character)."""
    parts: list[str] = []
    start = 0
    while start < len(text) or not parts:
        end = min(len(text), start + MAX_DOCUMENT_BYTES // 4)  # 4 bytes per character at worst
        # Widen while it still fits: most text is 1-2 bytes per character.
        while end < len(text) and len(text[start : end + 1000].encode("utf-8", "surrogatepass")) <= MAX_DOCUMENT_BYTES:
            end = min(len(text), end + 1000)
        parts.append(text[start:end])
        start = end
        if start >= len(text):
            break
    return parts


def capped(value: str) -> str:
    return value[:MAX_METADATA_CHARS]
