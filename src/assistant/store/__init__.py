"""The storage seam: a small :class:`Store` protocol and its Chroma implementation.

    store = open_store(config)          # embedded, a Chroma server, or Chroma Cloud
    store.generation(); store.heads(); store.search(vector, 40); store.get_chunks(ids)
"""

from __future__ import annotations

from ..config import Config
from .chroma import ChromaStore
from .clients import StoreClient
from .protocol import ArticleSentences, Store, StoredChunk
from .records import ArticleRecord, ChunkRecord, FileStat, Generation, StoreSettings

__all__ = [
    "ArticleRecord", "ArticleSentences", "ChromaStore", "ChunkRecord", "FileStat", "Generation", "Store",
    "StoreSettings", "StoredChunk", "open_store",
]


def open_store(config: Config) -> ChromaStore:
    """The store that ``config`` names (nothing is contacted before the first call)."""
    return ChromaStore(StoreClient(config))
