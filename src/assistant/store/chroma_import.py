"""Importing chromadb without the OpenTelemetry gRPC exporter it never uses here.

``import chromadb`` loads ``chromadb.telemetry.opentelemetry``, which imports the OTLP
gRPC span exporter (and gRPC with it) at module level: a third of chromadb's import
time (≈0.45 s of 1.5 s CPU), paid by every command before Chroma can load anything.
Chroma only builds that exporter when an OpenTelemetry collector endpoint is configured
(``CHROMA_OTEL_COLLECTION_ENDPOINT``); otherwise it never touches it. So, unless that
endpoint is set or the exporter is already loaded, the import sees a stand-in module
for that one name, removed again right after, so that any later import gets the real one.
"""

from __future__ import annotations

import os
import sys
import threading
import types
from typing import Any

EXPORTER = "opentelemetry.exporter.otlp.proto.grpc.trace_exporter"
ENDPOINT_VARIABLE = "CHROMA_OTEL_COLLECTION_ENDPOINT"
_LOCK = threading.Lock()  # two threads importing at once: one stand-in, removed once


class _ExporterNotLoaded:
    """What chromadb holds instead of OTLPSpanExporter; building one means the endpoint was set later."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise RuntimeError(f"set {ENDPOINT_VARIABLE} before the assistant starts to export Chroma's traces")


def import_chromadb() -> types.ModuleType:
    with _LOCK:
        if "chromadb" in sys.modules or EXPORTER in sys.modules or os.environ.get(ENDPOINT_VARIABLE):
            import chromadb

            return chromadb
        stand_in = types.ModuleType(EXPORTER)
        stand_in.OTLPSpanExporter = _ExporterNotLoaded  # type: ignore[attr-defined]
        sys.modules[EXPORTER] = stand_in
        try:
            import chromadb
        finally:
            if sys.modules.get(EXPORTER) is stand_in:
                del sys.modules[EXPORTER]
        return chromadb
