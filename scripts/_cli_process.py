"""What the measuring scripts share to run `assistant` as a child process over a copy of the seeds.

Imported by the scripts next to it (`python scripts/NAME.py` puts this folder on ``sys.path``).
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def command(*args: str) -> list[str]:
    """``assistant ARGS`` with this interpreter and this checkout's code (not an installed copy)."""
    return [sys.executable, "-c", "from assistant.cli import main; main()", *args]


def env(**extra: str) -> dict[str, str]:
    """This environment without ``ASSISTANT_*`` settings (the run names its own), with this checkout first."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    base["PYTHONPATH"] = f"{REPO / 'src'}{os.pathsep}{REPO}"
    return {**base, **extra}


def copy_seed_sources(sources: Path) -> None:
    """A fresh ``sources`` folder holding the repository's seed articles (``sources/*.txt``)."""
    sources.mkdir()
    for path in sorted((REPO / "sources").glob("*.txt")):
        shutil.copyfile(path, sources / path.name)
