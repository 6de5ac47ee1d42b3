"""chromadb imported without the OpenTelemetry gRPC exporter, in a fresh interpreter each time
(what is imported is the point): Chroma works the same, and the exporter is there when asked for."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"

USE_CHROMA = """
import sys
from assistant.store.chroma_import import EXPORTER, import_chromadb
chromadb = import_chromadb()
from chromadb.config import Settings
client = chromadb.PersistentClient(path=sys.argv[1], settings=Settings(anonymized_telemetry=False))
col = client.get_or_create_collection("probe", metadata={"hnsw:space": "cosine"}, embedding_function=None)
col.add(ids=["a", "b"], embeddings=[[1.0, 0.0], [0.0, 1.0]], documents=["x", "y"])
assert col.query(query_embeddings=[[0.9, 0.1]], n_results=1)["ids"] == [["a"]]
print("grpc" in sys.modules, EXPORTER in sys.modules)
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter  # a later import: the real one
print(OTLPSpanExporter.__module__ == EXPORTER and "grpc" in sys.modules)
"""


def _run(tmp_path: Path, **env: str) -> list[str]:
    environment = {**os.environ, "PYTHONPATH": str(SRC), **env}
    out = subprocess.run([sys.executable, "-c", USE_CHROMA, str(tmp_path / "chroma")], capture_output=True, text=True,
                         env=environment, check=True, timeout=300)
    return out.stdout.split()


def test_chroma_works_without_loading_the_grpc_exporter(tmp_path: Path) -> None:
    assert _run(tmp_path) == ["False", "False", "True"]


def test_with_a_collector_endpoint_set_the_real_exporter_is_loaded(tmp_path: Path) -> None:
    assert _run(tmp_path, CHROMA_OTEL_COLLECTION_ENDPOINT="http://127.0.0.1:9")[:2] == ["True", "True"]
