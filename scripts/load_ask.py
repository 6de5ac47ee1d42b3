"""50 concurrent `/ask` callers while one sends a 60 KB history and one uploads a 2 MB blob.

    python scripts/load_ask.py [--callers 50] [--history-kb 60] [--blob-mb 2] [--port 7899]

Starts `assistant serve` on loopback over a copy of the seed articles (its index is
built first), then fires the callers at once through gradio_client: ``--callers``
normal questions, one question with a ``--history-kb`` history, one upload of a
``--blob-mb`` file without spaces. Prints p50/p95/max of the normal callers, the
time of the hostile ones, and how each ended; while the upload is still being indexed
after that, it asks one question at a time (probes: does the server still answer?). The machine is what it is (say how
loaded it was when you report the numbers).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import statistics
import subprocess
import tempfile
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from _cli_process import command, copy_seed_sources, env

QUESTIONS = [
    "Combien coûte ChatGPT Enterprise aux agences fédérales ?",
    "Qui dirige Anthropic ?",
    "Qu'est-ce que OneGov ?",
    "What does OpenAI offer to US federal agencies?",
]


def wait_until_up(url: str, proc: subprocess.Popen[str], timeout: float = 600) -> None:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if proc.poll() is not None:
            raise SystemExit(f"the server exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url + "gradio_api/info", timeout=5):
                return
        except OSError:
            time.sleep(1)
    raise SystemExit("the server did not come up")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--callers", type=int, default=50)
    parser.add_argument("--history-kb", type=float, default=60)
    parser.add_argument("--blob-mb", type=float, default=2)
    parser.add_argument("--port", type=int, default=7899)
    parser.add_argument("--upload-wait-s", type=float, default=60, help="how long to wait for the upload after the callers")
    args = parser.parse_args()
    from gradio_client import Client, handle_file

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        sources, index = root / "sources", root / "index"
        copy_seed_sources(sources)
        where = ["--sources", str(sources), "--index", str(index)]
        subprocess.run(command("index", *where), env=env(PYTHONUNBUFFERED="1"), check=True, capture_output=True, timeout=900)
        log = open(root / "server.log", "w", encoding="utf-8")
        proc = subprocess.Popen(command("serve", *where, "--port", str(args.port), "--no-watch"), env=env(PYTHONUNBUFFERED="1"),
                                stdout=log, stderr=subprocess.STDOUT, text=True)
        url = f"http://127.0.0.1:{args.port}/"
        try:
            wait_until_up(url, proc)
            Client(url, verbose=False, download_files=False, analytics_enabled=False).predict(QUESTIONS[0], None, api_name="/ask")
            blob = root / "upload" / "blob.txt"
            blob.parent.mkdir()
            blob.write_text("Blob\n\n" + "".join(hashlib.sha256(str(i).encode()).hexdigest()
                                                  for i in range(int(args.blob_mb * 1e6 / 64))), encoding="utf-8")
            turn = "Combien coûte ChatGPT Enterprise aux agences fédérales ? " * 20
            history = []
            while sum(len(m["content"]) for m in history) < args.history_kb * 1000:
                history += [{"role": "user", "content": turn}, {"role": "assistant", "content": turn}]

            results: dict[str, list[tuple[float, str]]] = {"normal": [], "history": [], "upload": []}
            lock = threading.Lock()

            def call(kind: str, n: int) -> None:
                client = Client(url, verbose=False, download_files=False, analytics_enabled=False)
                started = time.perf_counter()
                try:
                    if kind == "upload":
                        out = client.predict([handle_file(str(blob))], api_name="/upload")
                        outcome = str(out[0])[:120]
                    elif kind == "history":
                        out = client.predict("Et Anthropic ?", history, api_name="/ask")
                        outcome = "answered" if not out["refused"] else "refused"
                    else:
                        out = client.predict(QUESTIONS[n % len(QUESTIONS)], None, api_name="/ask")
                        outcome = "answered" if not out["refused"] else "refused"
                except Exception as exc:  # a refusal by the server is an outcome too
                    outcome = f"{exc.__class__.__name__}: {str(exc)[:120]}"
                with lock:
                    results.setdefault(kind, []).append((time.perf_counter() - started, outcome))

            jobs = [("history", 0)] + [("normal", n) for n in range(args.callers)]
            began = time.perf_counter()
            uploader = threading.Thread(target=call, args=("upload", 0), daemon=True)
            uploader.start()  # first: the callers ask while it is being saved and indexed
            time.sleep(0.5)
            with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
                list(pool.map(lambda job: call(*job), jobs))
            wall = time.perf_counter() - began
            probes = []  # one question at a time while the upload is still being indexed: does the server answer?
            waited = time.perf_counter()
            while uploader.is_alive() and time.perf_counter() - waited < args.upload_wait_s:
                call("probe", len(probes))
                probes.append(results.pop("probe")[0])
                uploader.join(timeout=2)
            if uploader.is_alive():
                results["upload"].append((time.perf_counter() - began, f"still indexing after {args.upload_wait_s:g} s more (server stopped)"))
            normal = [t for t, _ in results["normal"]]
            outcomes = sorted({o for _, o in results["normal"]})
            print(f"{args.callers} normal callers: p50 {statistics.median(normal):.2f} s, p95 {percentile(normal, 0.95):.2f} s, "
                  f"max {max(normal):.2f} s; outcomes {outcomes}")
            for kind in ("history", "upload"):
                for seconds, outcome in results[kind]:
                    print(f"{kind}: {seconds:.2f} s, {outcome}")
            if probes:
                print(f"{len(probes)} single questions while the upload was indexed: p50 "
                      f"{statistics.median(t for t, _ in probes):.2f} s, max {max(t for t, _ in probes):.2f} s; "
                      f"outcomes {sorted({o for _, o in probes})}")
            print(f"the {len(jobs)} questions were done in {wall:.1f} s; load average now {os.getloadavg()[0]:.1f}")
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
            log.close()


if __name__ == "__main__":
    main()
