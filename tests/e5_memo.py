"""The real e5 model's passage vectors, remembered for one test run.

Several tests embed the same seed texts again with the real model: the seed index, the
Chroma-server writer, the advertised ``--rebuild``, a rebuild with an odd file name. Each
full pass costs ~20 s of CPU on 2 cores, and the vectors are the same every time. The memo
keeps each passage's vector from the first time the real model embeds it, in a folder that
the xdist workers of the run share, and gives it back for the same text. A text the run has
not seen yet is always embedded by the model; subprocesses (``assistant ...`` started by a
test) never use the memo.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest

from assistant.embeddings import E5Embeddings

PassageVectors = Callable[[E5Embeddings, list[str]], np.ndarray]


class PassageMemo:
    """Vectors on disk, one ``.npy`` file per text (named by its hash), written atomically:
    two workers may embed the same text at once, and either file is the right one."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)

    def _path(self, text: str) -> Path:
        return self.folder / f"{hashlib.sha256(text.encode('utf-8', 'surrogatepass')).hexdigest()}.npy"

    def _load(self, text: str) -> np.ndarray | None:
        try:
            return np.load(self._path(text))
        except (OSError, ValueError):
            return None

    def _save(self, text: str, vector: np.ndarray) -> None:
        fd, tmp = tempfile.mkstemp(dir=self.folder, suffix=".tmp")
        with os.fdopen(fd, "wb") as out:
            np.save(out, vector)
        os.replace(tmp, self._path(text))

    def wrap(self, embed: PassageVectors) -> PassageVectors:
        def passage_vectors(model: E5Embeddings, texts: list[str]) -> np.ndarray:
            texts = list(texts)
            known = [self._load(text) for text in texts]
            missing = [i for i, vector in enumerate(known) if vector is None]
            if missing:  # the model embeds what the run has not seen, in one batch as before
                fresh = embed(model, [texts[i] for i in missing])
                for i, vector in zip(missing, fresh):
                    self._save(texts[i], vector)
                    known[i] = vector
            return np.stack(known).astype(np.float32) if known else np.zeros((0, model.dimension), np.float32)

        return passage_vectors


@contextmanager
def remembered_e5_passages(folder: Path) -> Iterator[None]:
    """While inside, every ``E5Embeddings`` in this process goes through the memo in ``folder``."""
    memo = PassageMemo(folder)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(E5Embeddings, "passage_vectors", memo.wrap(E5Embeddings.passage_vectors))
        yield
