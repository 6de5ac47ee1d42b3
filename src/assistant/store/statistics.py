"""SQLite's query-planner statistics for embedded Chroma, refreshed as the archive grows.

Chroma finds an article's records with a metadata filter (``article_id`` = X): every add, edit
and delete does a few such reads. Without statistics SQLite answers one by walking every record
of the collection and testing it against the filter: 80-90 ms at 430k chunks, so a change cost
grew with the archive. With statistics (``ANALYZE``) it looks the filter up in its index and
fetches those rows only (1 ms at 430k chunks). Chroma never runs ``ANALYZE``; the writer does,
sampled (``analysis_limit``: 0.3 s at 100k articles), when the chunk count has doubled or halved
since the last time, from 10,000 chunks on (below that the walk costs about a millisecond).

It runs in a child process: two copies of SQLite in one process (Python's and chromadb's own)
must not open the same file, as closing one drops the other's locks. A failure (a reader holding
the database) costs nothing but the speed-up: the next run tries again. A Chroma server's
database is its operator's to analyse the same way (``PRAGMA analysis_limit=1000; ANALYZE embeddings;
ANALYZE embedding_metadata;``).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

MIN_CHUNKS = 10_000
RECORD = "sqlite-statistics.json"  # in the index's cache folder: the chunk count last analysed
# The two tables of records and their metadata only: ANALYZE of the whole database also counts
# the rows of the full-text index's tables, which reads them all (110 s at 100k articles).
TABLES = ("embeddings", "embedding_metadata")
ANALYZE_SCRIPT = f"""import sqlite3, sys
db = sqlite3.connect(sys.argv[1], timeout=2, isolation_level=None)
db.execute("PRAGMA analysis_limit=1000")
for table in {TABLES!r}:
    db.execute("ANALYZE " + table)
db.close()"""
TIMEOUT_S = 60.0


def statistics_due(cache_dir: Path, chunks: int) -> bool:
    """Whether the planner's statistics are missing or far from ``chunks``."""
    if chunks < MIN_CHUNKS:
        return False
    try:
        analysed = int(json.loads((cache_dir / RECORD).read_text(encoding="utf-8"))["chunks"])
    except (OSError, ValueError, KeyError, TypeError):
        return True
    return not analysed / 2 < chunks < analysed * 2


def refresh_statistics(database: Path, cache_dir: Path, chunks: int) -> bool:
    """Analyse ``database`` (embedded Chroma's ``chroma.sqlite3``) if due; True when it was."""
    if not statistics_due(cache_dir, chunks) or not database.is_file():
        return False
    try:
        done = subprocess.run([sys.executable, "-S", "-c", ANALYZE_SCRIPT, str(database)], capture_output=True,
                              timeout=TIMEOUT_S).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False
    if done:
        cache_dir.mkdir(parents=True, exist_ok=True)
        (cache_dir / RECORD).write_text(json.dumps({"chunks": chunks}), encoding="utf-8")
    return done
