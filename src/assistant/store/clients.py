"""The three ways to reach Chroma, and Chroma's many exception kinds turned into one line each.

* ``PersistentClient`` (default): embedded, in ``INDEX/chroma``;
* ``HttpClient``: a ``chroma run`` server (``--chroma-url`` / ``ASSISTANT_CHROMA_URL``),
  with an optional token, tenant and database;
* ``CloudClient``: Chroma Cloud, when the URL is ``chroma-cloud`` (or its API host) and
  the token is the API key. Same code path; documented, not tested here (no network).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from ..config import Config
from ..errors import AssistantError, IndexCorruptError, StoreUnavailableError, rebuild_hint
from .collector import collector_paused

CLOUD_HOSTS = ("chroma-cloud", "api.trychroma.com")
# chromadb's first client of a folder is not safe to create from two threads at once
# (seen in the web UI: "'RustBindingsAPI' object has no attribute 'bindings'").
_OPEN_LOCK = threading.Lock()


@dataclass
class StoreClient:
    """How to reach one archive's collections; the client itself is made on first use."""

    config: Config
    _api: Any = field(default=None, repr=False)

    @property
    def collection(self) -> str:
        return self.config.collection

    @property
    def url(self) -> str | None:
        return self.config.chroma_url

    @property
    def location(self) -> str:
        return self.url or str(Path(self.config.index_dir) / "chroma")

    def api(self) -> Any:
        if self._api is None:
            with _OPEN_LOCK, guard(self):
                if self._api is None:  # another thread (the vectors' loader) may have connected meanwhile
                    with collector_paused():  # chromadb's import: ≈0.15 s less CPU before Chroma can load anything
                        self._api = self._connect()
        return self._api

    def _connect(self) -> Any:
        from .chroma_import import import_chromadb

        chromadb = import_chromadb()
        from chromadb.config import Settings

        settings = Settings(anonymized_telemetry=False)
        c = self.config
        tenancy = {k: v for k, v in (("tenant", c.chroma_tenant), ("database", c.chroma_database)) if v}
        if not self.url:
            return chromadb.PersistentClient(path=self.location, settings=settings, **tenancy)
        parsed = urlparse(self.url if "://" in self.url else f"http://{self.url}")
        if (parsed.hostname or "") in CLOUD_HOSTS:
            return chromadb.CloudClient(api_key=c.chroma_token, settings=settings, **tenancy)
        headers = {"Authorization": f"Bearer {c.chroma_token}"} if c.chroma_token else None
        ssl = parsed.scheme == "https"
        return chromadb.HttpClient(
            host=parsed.hostname or "localhost", port=parsed.port or (443 if ssl else 8000), ssl=ssl,
            headers=headers, settings=settings, **tenancy,
        )

    def forget(self) -> None:
        """Drop the client and Chroma's per-process cache of client systems (after the folder was removed).

        A failed first open leaves a broken system in that cache, which every later
        client of the same folder would reuse.
        """
        from .chroma_import import import_chromadb

        import_chromadb()
        from chromadb.api.client import Client

        Client.clear_system_cache()
        self._api = None


def _reachable(url: str) -> bool:
    import httpx

    parsed = urlparse(url if "://" in url else f"http://{url}")
    try:
        httpx.get(f"{parsed.scheme}://{parsed.netloc}/api/v2/heartbeat", timeout=3.0)
        return True
    except httpx.HTTPError:
        return False


@contextmanager
def guard(client: StoreClient) -> Iterator[None]:
    """Chroma's exceptions as one user-facing line that names the store and the fix."""
    try:
        yield
    except AssistantError:
        raise
    except Exception as exc:
        detail = f"{exc.__class__.__name__}: {str(exc)[:200]}"
        if client.url and not _reachable(client.url):
            raise StoreUnavailableError(
                f"cannot reach the Chroma server at {client.url}; start it (chroma run --path DIR --port N) "
                "or fix --chroma-url, then run the command again"
            ) from None
        if "disk is full" in str(exc).lower() or "no space left" in str(exc).lower():
            raise IndexCorruptError(
                f"the disk holding {client.location} is full ({detail}); free some space and run the command again "
                "(nothing indexed was lost)"
            ) from None
        if client.url:
            raise IndexCorruptError(f"the Chroma server at {client.url} refused the request ({detail})") from None
        raise IndexCorruptError(
            f"the vector store {client.location} is damaged ({detail}); {rebuild_hint(client.config.index_dir)}"
        ) from None
