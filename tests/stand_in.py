"""The stand-in embedder for tests about machinery, where embedding quality is not the point."""

from assistant.embeddings import StandInEmbeddings

__all__ = ["StandInEmbeddings"]
