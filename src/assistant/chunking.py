"""Sentence-aware chunking with overlap and exact character offsets.

A chunk is a run of whole sentences of the cleaned article text, packed up to
``chunk_tokens`` tokens of the embedding model's own tokenizer; consecutive
chunks share ``overlap_sentences`` sentences. A sentence longer than the budget
is cut at word boundaries. ``chunk.text == article.text[chunk.start:chunk.end]``
always holds, and the text that is embedded (title + chunk) never exceeds the
model's window: truncation would silently drop part of a passage.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from .models import Article, Chunk
from .text import sentence_spans

TokenCounter = Callable[[str], int]
# Room for the "passage: " prefix and special tokens that some counters leave out.
_WINDOW_MARGIN = 8


def embedding_text(title: str, text: str) -> str:
    """What the embedder sees: the title gives each chunk its article's context."""
    return f"{title}\n{text}" if title and not text.startswith(title) else text


def chunk_id(article_id: str, start: int, text: str) -> str:
    digest = hashlib.sha256(f"{article_id}\x00{start}\x00{text}".encode()).hexdigest()
    return f"{article_id}-{digest[:16]}"


def chunk_article(
    article: Article,
    count_tokens: TokenCounter,
    chunk_tokens: int,
    overlap_sentences: int,
    max_tokens: int,
) -> list[Chunk]:
    text = article.text
    title_cost = count_tokens(article.title) if article.title else 0
    budget = max(16, min(chunk_tokens, max_tokens - title_cost - _WINDOW_MARGIN))
    units = _units(text, count_tokens, budget)
    spans = _pack(units, budget, overlap_sentences)
    chunks = []
    for i, (start, end) in enumerate(spans):
        piece = text[start:end]
        chunks.append(
            Chunk(
                id=chunk_id(article.id, start, piece),
                article_id=article.id,
                source=article.source,
                title=article.title,
                date=article.date,
                lang=article.lang,
                text=piece,
                start=start,
                end=end,
                index=i,
            )
        )
    for chunk in chunks:  # the guarantee, checked with the model's own tokenizer
        if count_tokens(embedding_text(chunk.title, chunk.text)) > max_tokens:
            raise AssertionError(f"chunk of {article.source} exceeds the {max_tokens}-token window")
    return chunks


def _units(text: str, count_tokens: TokenCounter, budget: int) -> list[tuple[int, int, int]]:
    """Sentences as (start, end, tokens); over-long sentences cut at word boundaries."""
    units = []
    for start, end in sentence_spans(text):
        tokens = count_tokens(text[start:end])
        if tokens <= budget:
            units.append((start, end, tokens))
        else:
            units.extend(_split_long(text, start, end, count_tokens, budget))
    return units


def _split_long(text: str, start: int, end: int, count_tokens: TokenCounter, budget: int) -> list[tuple[int, int, int]]:
    pieces = []
    cursor = start
    while cursor < end:
        # Grow a piece word by word (binary search on the end offset is overkill here).
        words_end = [i for i in range(cursor + 1, end) if text[i] == " "] + [end]
        lo, hi, best = 0, len(words_end) - 1, 0
        while lo <= hi:
            mid = (lo + hi) // 2
            if count_tokens(text[cursor : words_end[mid]]) <= budget:
                best, lo = mid, mid + 1
            else:
                hi = mid - 1
        stop = words_end[best]
        pieces.append((cursor, stop, count_tokens(text[cursor:stop])))
        cursor = stop
        while cursor < end and text[cursor] == " ":
            cursor += 1
    return pieces


def _pack(units: list[tuple[int, int, int]], budget: int, overlap: int) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    i = 0
    while i < len(units):
        j, used = i, 0
        while j < len(units) and (j == i or used + units[j][2] <= budget):
            used += units[j][2]
            j += 1
        spans.append((units[i][0], units[j - 1][1]))
        if j >= len(units):
            break
        # Overlap, but always move forward by at least one unit.
        i = max(i + 1, j - overlap)
    return spans
