"""A real Chroma server (`chroma run --path DIR --port FREE`) on loopback, for tests."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.servers import free_port, http_answers, stop_process, wait_until_ready

CHROMA = Path(sys.executable).parent / "chroma"
START_LIMIT_S = 60.0

__all__ = ["CHROMA", "ChromaServer", "free_port"]


class ChromaServer:
    def __init__(self, path: Path, port: int | None = None) -> None:
        self.path, self.port = path, port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> "ChromaServer":
        log = open(self.path.parent / f"chroma-{self.port}.log", "ab")
        self.proc = subprocess.Popen(
            [str(CHROMA), "run", "--path", str(self.path), "--host", "127.0.0.1", "--port", str(self.port)],
            stdout=log, stderr=subprocess.STDOUT,
        )
        wait_until_ready(self.proc, lambda: http_answers(f"{self.url}/api/v2/heartbeat"), "chroma run", START_LIMIT_S)
        return self

    def stop(self) -> None:
        stop_process(self.proc)
        self.proc = None
