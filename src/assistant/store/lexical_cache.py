"""The BM25 index as a local cache of what Chroma holds, one per generation.

Any machine rebuilds it from the store's chunk records (paged reads), so a
`serve` replica with an empty ``--index`` folder needs nothing but the URL. It is
built in a temporary folder and renamed, so two processes never read half a cache.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from ..lexical import LexicalIndex
from .chroma import ChromaStore


def _folder(index_dir: Path, collection: str) -> Path:
    return Path(index_dir) / "cache" / collection


def cached_lexical(store: ChromaStore, index_dir: Path, collection: str, generation: int, live_article_ids: set[str]) -> LexicalIndex:
    folder = _folder(index_dir, collection)
    target = folder / f"lexical-{generation:06d}"
    if target.is_dir():
        try:
            return LexicalIndex.load(target)
        except Exception:  # a damaged cache is rebuilt from the store
            shutil.rmtree(target, ignore_errors=True)
    items = [
        (c.record.chunk_id, c.record.lang, f"{c.record.title}\n{c.text}")
        for c in store.iter_chunks()
        if c.record.article_id in live_article_ids
    ]
    lexical = LexicalIndex.build(items)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / f".tmp-{os.getpid()}-{generation}"
        shutil.rmtree(tmp, ignore_errors=True)
        lexical.save(tmp)
        try:
            os.rename(tmp, target)
        except OSError:  # another process was faster: its cache is the same
            shutil.rmtree(tmp, ignore_errors=True)
        for old in folder.glob("lexical-*"):
            if old != target:
                shutil.rmtree(old, ignore_errors=True)
    except OSError:  # a read-only --index folder: keep the index in memory only
        pass
    return lexical
