"""The ``--index`` folder: what it may hold, and the checks every command makes before opening it.

It holds the embedded store (``chroma/``, unless a server is configured), local caches
(``cache/``) and the writer's ``.lock``. Reading never creates anything in it.
"""

from __future__ import annotations

from pathlib import Path

from ..config import Config
from ..errors import IndexCorruptError, rebuild_hint
from .legacy import LegacyIndex

INDEX_NAMES = ("chroma", "cache", ".lock", ".gitkeep")


def foreign_entries(root: Path) -> list[str]:
    """Names in the index folder that an index never writes."""
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if p.name not in INDEX_NAMES and not LegacyIndex.owns(p.name))


def check_folder(config: Config, reading: bool, rebuilding: bool = False) -> bool:
    """Refuse a file, a foreign folder or an index of the previous version; True when a store is there to open."""
    root = Path(config.index_dir)
    if root.exists() and not root.is_dir():
        raise IndexCorruptError(f"{root} is a file, not an index folder; pass --index DIR with a folder")
    has_store = bool(config.chroma_url) or (root / "chroma").is_dir()
    foreign = foreign_entries(root)
    if foreign and not (root / "chroma").is_dir() and not LegacyIndex(root).present():
        shown = ", ".join(foreign[:3]) + (", ..." if len(foreign) > 3 else "")
        if rebuilding:
            raise IndexCorruptError(
                f"{root} holds files that are not part of an assistant index ({shown}); --rebuild only deletes "
                "index files, so move those away first, or point --index to a new or empty folder"
            )
        raise IndexCorruptError(
            f"{root} holds files that are not part of an assistant index ({shown}); point --index to a new "
            f"or empty folder (assistant index --index NEW_FOLDER), or move those files away and {rebuild_hint(root)}"
        )
    if reading and not config.chroma_url and LegacyIndex(root).present():
        raise IndexCorruptError(
            f"{root} was built by an earlier version of the assistant; run `assistant index --index {root}` "
            "to upgrade it (its vectors are reused, nothing is re-embedded)"
        )
    return has_store
