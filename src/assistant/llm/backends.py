"""The chat model named by ``--llm`` (OpenAI, an OpenAI-compatible server, Ollama), built and checked."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

from ..config import DEFAULT_LLM_MAX_TOKENS, Config
from ..errors import ConfigError

PROVIDERS = ("openai", "openai-compatible", "ollama")
DEFAULT_OLLAMA_URL = "http://127.0.0.1:11434"
INSTALL_HINT = "pip install 'news-assistant[llm]'"
MAX_ANSWER_TOKENS = DEFAULT_LLM_MAX_TOKENS  # the default cap; ASSISTANT_LLM_MAX_TOKENS sets another
CHECK_TIMEOUT_S = 5.0
MAX_RETRIES = 0  # a retry would double the wait on a timeout; the fallback answers anyway


@dataclass(frozen=True)
class LLMSpec:
    provider: str
    model: str
    base_url: str | None
    api_key_env: str
    timeout_s: float
    max_tokens: int = MAX_ANSWER_TOKENS

    @property
    def name(self) -> str:
        return f"{self.provider}:{self.model}"


def parse_spec(config: Config) -> LLMSpec:
    """Read ``config.llm`` ("provider:model") and the settings that go with it."""
    raw = (config.llm or "").strip()
    provider, sep, model = raw.partition(":")
    provider, model = provider.strip().lower().replace("_", "-"), model.strip()
    if not sep or not provider or not model:
        raise ConfigError(
            f"--llm {raw!r} is not PROVIDER:MODEL; set --llm (or ASSISTANT_LLM) to e.g. openai:gpt-4o-mini, "
            "ollama:llama3.1 or openai-compatible:MODEL with --llm-base-url"
        )
    if provider not in PROVIDERS:
        raise ConfigError(f"--llm {raw!r}: unknown provider {provider!r}; use one of {', '.join(PROVIDERS)}")
    base_url = (config.llm_base_url or "").strip() or None
    if provider == "ollama":
        base_url = base_url or os.environ.get("OLLAMA_HOST") or DEFAULT_OLLAMA_URL
        if "://" not in base_url:
            base_url = "http://" + base_url
    if provider == "openai-compatible" and not base_url:
        raise ConfigError(
            f"--llm {raw} needs the server's address: set --llm-base-url http://HOST:PORT/v1 (or ASSISTANT_LLM_BASE_URL)"
        )
    if base_url:
        parsed = urlparse(base_url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise ConfigError(f"--llm-base-url {base_url!r} is not an http(s) URL; set it to e.g. http://127.0.0.1:8080/v1")
        if provider != "ollama" and parsed.path in ("", "/"):
            base_url = base_url.rstrip("/") + "/v1"  # where OpenAI-compatible servers answer
    if config.llm_timeout_s <= 0:
        raise ConfigError(f"the language model timeout must be positive (got {config.llm_timeout_s})")
    return LLMSpec(
        provider, model, base_url, config.llm_api_key_env, float(config.llm_timeout_s), int(config.llm_max_tokens)
    )


def _api_key(spec: LLMSpec) -> str:
    key = os.environ.get(spec.api_key_env, "").strip()
    if key:
        return key
    if spec.provider == "openai":
        raise ConfigError(f"--llm {spec.name} needs an API key: set {spec.api_key_env} (export {spec.api_key_env}=sk-...)")
    return "not-needed"  # local OpenAI-compatible servers usually take any key


def _require(module: str, package: str, spec: LLMSpec) -> Any:
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ConfigError(f"--llm {spec.name} needs the {package} package: {INSTALL_HINT} (or pip install {package})") from exc


def build_chat_model(spec: LLMSpec) -> Any:
    """A LangChain chat model for ``spec`` (no network access)."""
    if spec.provider == "ollama":
        _require("langchain_ollama", "langchain-ollama", spec)
        kwargs: dict[str, Any] = {
            "base_url": spec.base_url,
            "temperature": 0,
            "num_predict": spec.max_tokens,
            "client_kwargs": {"timeout": spec.timeout_s},
        }
    else:
        _require("langchain_openai", "langchain-openai", spec)
        kwargs = {
            "api_key": _api_key(spec),
            "base_url": spec.base_url,
            "timeout": spec.timeout_s,
            "max_retries": MAX_RETRIES,
            "max_tokens": spec.max_tokens,
            "streaming": True,
        }
        if not re.match(r"(o\d|gpt-5)", spec.model):  # reasoning models take no temperature
            kwargs["temperature"] = 0
        if spec.provider == "openai-compatible":
            # langchain-openai sends `max_completion_tokens`, which llama.cpp's server ignores
            kwargs["extra_body"] = {"max_tokens": spec.max_tokens}
    from langchain.chat_models import init_chat_model

    provider = "ollama" if spec.provider == "ollama" else "openai"
    try:
        return init_chat_model(spec.model, model_provider=provider, **kwargs)
    except ImportError as exc:
        raise ConfigError(f"--llm {spec.name}: {exc}; {INSTALL_HINT}") from exc
    except Exception as exc:  # pydantic validation of the settings
        raise ConfigError(f"--llm {spec.name}: cannot set up the chat model ({first_line(exc)})") from exc


def check_server(spec: LLMSpec) -> str:
    """Ask the server for its models (one cheap request); ConfigError saying what to set on failure."""
    if spec.provider == "ollama":
        return _check_ollama(spec)
    openai = _require("openai", "openai", spec)
    where = spec.base_url or "api.openai.com"
    client = openai.OpenAI(api_key=_api_key(spec), base_url=spec.base_url, timeout=CHECK_TIMEOUT_S, max_retries=0)
    try:
        ids = [m.id for m in client.models.list()]
    except (openai.AuthenticationError, openai.PermissionDeniedError) as exc:
        raise ConfigError(
            f"the language model server at {where} rejected the API key (HTTP {exc.status_code}); set a valid key in {spec.api_key_env}"
        ) from exc
    except openai.NotFoundError:
        return f"reachable at {where} (it lists no models)"
    except openai.APIStatusError as exc:
        raise ConfigError(
            f"the language model server at {where} answered HTTP {exc.status_code}; check --llm-base-url (ASSISTANT_LLM_BASE_URL)"
        ) from exc
    except openai.APITimeoutError as exc:
        import httpx

        if not isinstance(exc.__cause__, httpx.ConnectTimeout):  # connected, but busy answering someone else
            return f"reachable at {where} (busy: no model list within {CHECK_TIMEOUT_S:g} s)"
        raise ConfigError(
            f"cannot reach the language model server at {where} (connection timed out); "
            "start it, or set --llm-base-url (ASSISTANT_LLM_BASE_URL)"
        ) from exc
    except openai.APIConnectionError as exc:
        raise ConfigError(
            f"cannot reach the language model server at {where} ({first_line(exc.__cause__ or exc)}); "
            "start it, or set --llm-base-url (ASSISTANT_LLM_BASE_URL)"
        ) from exc
    finally:
        client.close()
    if ids and spec.model not in ids:
        shown = ", ".join(sorted(ids)[:8]) + (", ..." if len(ids) > 8 else "")
        raise ConfigError(f"model {spec.model!r} is not served at {where} (it has: {shown}); set --llm {spec.provider}:NAME")
    return f"reachable at {where}, model {spec.model} listed" if ids else f"reachable at {where}"


def _check_ollama(spec: LLMSpec) -> str:
    ollama = _require("ollama", "ollama", spec)
    import httpx

    try:
        listing = ollama.Client(host=spec.base_url, timeout=CHECK_TIMEOUT_S).list()
    except (httpx.HTTPError, ConnectionError) as exc:
        raise ConfigError(
            f"cannot reach Ollama at {spec.base_url} ({first_line(exc)}); start it with `ollama serve`, "
            "or set --llm-base-url (ASSISTANT_LLM_BASE_URL)"
        ) from exc
    except ollama.ResponseError as exc:
        raise ConfigError(f"Ollama at {spec.base_url} answered an error ({first_line(exc)}); check --llm-base-url") from exc
    names = [str(getattr(m, "model", None) or getattr(m, "name", None) or "") for m in listing.models]
    if not any(spec.model == n or n.startswith(spec.model + ":") for n in names):
        have = ", ".join(names[:8]) or "none"
        raise ConfigError(f"Ollama at {spec.base_url} has no model {spec.model!r} (it has: {have}); run `ollama pull {spec.model}`")
    return f"reachable at {spec.base_url}, model {spec.model} pulled"


def first_line(exc: BaseException | None) -> str:
    text = str(exc or "").strip().splitlines()
    return text[0][:160] if text else type(exc).__name__
