"""The three ways to reach Chroma, and Chroma's many exception kinds turned into one line each.

* ``PersistentClient`` (default): embedded, in ``INDEX/chroma``;
* ``HttpClient``: a ``chroma run`` server (``--chroma-url`` / ``ASSISTANT_CHROMA_URL``),
  with an optional token, tenant and database;
* ``CloudClient``: Chroma Cloud, when the URL is ``chroma-cloud`` (or its API host) and
  the token is the API key. Same code path; documented, not tested here (no network).
"""

from __future__ import annotations

import ctypes
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
# Embedded Chroma holds a collection's vector index in the memory of the process that loaded it,
# and another process's writes reach Chroma's SQLite log but never that copy (chromadb issue
# #3792): a `serve` would not find the chunks that an `assistant index` beside it added, and would
# fail on their vectors ("Error finding id"); its next write would save a stale index. A process
# that sees a generation it did not write loads the folder again (:meth:`StoreClient.reload`),
# and Chroma then replays its log into the index. Reloads so far, by folder:
_RELOADS: dict[str, int] = {}
# Calls in flight, by folder and by the folder's reload count when they began, and the stores
# loaded before a reload, by the same key: a call that began before the reload ends on the store it
# began with, and that store is stopped (its memory, 0.9 GB at 100,000 articles, freed then, not at
# some later collection) once every call begun before the reload has ended. Calls begun after it
# do not hold it: a page kept busy without a pause still lets each old store go.
_USE_LOCK = threading.Lock()
_IN_FLIGHT: dict[tuple[str, int], int] = {}
_RETIRED: dict[tuple[str, int], Any] = {}


@dataclass
class StoreClient:
    """How to reach one archive's collections; the client itself is made on first use."""

    config: Config
    _api: Any = field(default=None, repr=False)
    _api_reloads: int = field(default=0, repr=False)  # the folder's reloads when ``_api`` was made

    @property
    def collection(self) -> str:
        return self.config.collection

    @property
    def url(self) -> str | None:
        return self.config.chroma_url

    @property
    def is_cloud(self) -> bool:
        """Chroma Cloud, whose quotas cap every read and write at 300 records."""
        if not self.url:
            return False
        return (urlparse(self.url if "://" in self.url else f"http://{self.url}").hostname or "") in CLOUD_HOSTS

    @property
    def location(self) -> str:
        return self.url or str(Path(self.config.index_dir) / "chroma")

    @property
    def reloads(self) -> int:
        return _RELOADS.get(self.location, 0)

    def api(self) -> Any:
        if self._api is None or self._api_reloads != self.reloads:
            with _OPEN_LOCK, guard(self):
                if self._api is None or self._api_reloads != self.reloads:  # another thread may have connected meanwhile
                    with collector_paused():  # chromadb's import: ≈0.15 s less CPU before Chroma can load anything
                        self._api, self._api_reloads = self._connect(), self.reloads
        return self._api

    def reload(self) -> None:
        """Another process wrote to this embedded store: every client of it in this process, this
        one and the others, connects again at its next call, and Chroma loads the store from disk.

        The store loaded before is stopped, its memory freed, once no call to it is in flight
        (:meth:`in_use`). A server holds one copy for every client: nothing to do there.
        """
        if self.url:
            return
        from chromadb.api.shared_system_client import SharedSystemClient

        stop_now = None
        with _OPEN_LOCK, _USE_LOCK:
            identifier = getattr(self._api, "_identifier", self.location)  # the folder, as given to PersistentClient
            old = SharedSystemClient._identifier_to_system.pop(identifier, None)  # chromadb's cache of loaded stores, by folder
            SharedSystemClient._identifier_to_refcount.pop(identifier, None)
            reloads = self.reloads
            _RELOADS[self.location] = reloads + 1
            if old is not None and _oldest_in_flight(self.location) is not None:
                _RETIRED[(self.location, reloads)] = old
            else:
                stop_now = old
        if stop_now is not None:
            _stop(stop_now)

    @contextmanager
    def in_use(self) -> Iterator[None]:
        """Around every call to Chroma: a store loaded again meanwhile is stopped once the calls
        begun before that reload have ended (a call may reconnect to a newer store midway: the
        store retired at reload N waits for every call begun before it, not only those of N-1)."""
        key = (self.location, self.reloads)
        with _USE_LOCK:
            _IN_FLIGHT[key] = _IN_FLIGHT.get(key, 0) + 1
        try:
            yield
        finally:
            with _USE_LOCK:
                _IN_FLIGHT[key] -= 1
                if not _IN_FLIGHT[key]:
                    del _IN_FLIGHT[key]
                oldest = _oldest_in_flight(self.location)
                done = [k for k in _RETIRED if k[0] == self.location and (oldest is None or k[1] < oldest)]
                retired = [_RETIRED.pop(k) for k in done]
            for system in retired:
                _stop(system)

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
        if self.is_cloud:
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
        with _USE_LOCK:  # a new store in that folder: what any client of it looked up before is of the old one
            _RELOADS[self.location] = self.reloads + 1


def _oldest_in_flight(location: str) -> int | None:
    """The reload count at which the oldest call still in flight on ``location`` began (caller holds ``_USE_LOCK``)."""
    return min((reloads for (where, reloads) in _IN_FLIGHT if where == location), default=None)


def _stop(system: Any) -> None:
    """Stop a store loaded before a reload, and give its memory back to the OS: glibc keeps what
    Rust freed in its arenas, and the next load allocated beside it (at 100,000 articles a
    `serve` grew by 100-250 MB per reload; with ``malloc_trim`` it stays at its first size)."""
    system.stop()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc (macOS, musl): the memory is reused later
        pass


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
