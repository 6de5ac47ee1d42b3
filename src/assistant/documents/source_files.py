"""Source files: their names (escaped to printable Unicode) and the scan of ``sources/``."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from ..config import SUPPORTED_SUFFIXES

# A source is named by its path relative to sources/, as text that is always valid
# Unicode and printable on one line: a byte that is not UTF-8 (``caf\xe9.txt`` from a
# Windows zip; Python hands it over as a lone surrogate) and a control character (a
# newline in a name would forge log lines) are written as escapes, ``\xe9``, ``\x0a``.
# A backslash is doubled, so the escaped form turns back into the exact path
# (:func:`source_path`). Plain names (nearly all) are unchanged.

_NEEDS_ESCAPE = re.compile(r"[\\\x00-\x1f\x7f-\x9f\u2028\u2029\udc80-\udcff]")
_ESCAPE = re.compile(r"\\(\\|x[0-9a-f]{2}|u[0-9a-f]{4})")


def source_name(relative: str) -> str:
    """The printable, valid-Unicode name of a source (see above); ``relative`` as :func:`os.fsdecode` gives it."""
    if relative.isprintable() and "\\" not in relative:
        return relative  # nearly every name, at a tenth of the pattern's cost: nothing to escape (see test_documents)
    return _NEEDS_ESCAPE.sub(_escape_char, relative)


def _escape_char(match: re.Match[str]) -> str:
    ch = match.group()
    if ch == "\\":
        return "\\\\"
    code = ord(ch)
    if 0xDC80 <= code <= 0xDCFF:  # surrogateescape: the raw byte, \x80-\xff
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code < 0x80 else f"\\u{code:04x}"  # a character: \x00-\x7f or \uNNNN


def _unescape_char(match: re.Match[str]) -> str:
    token = match.group(1)
    if token == "\\":
        return "\\"
    code = int(token[1:], 16)
    if token[0] == "x" and code >= 0x80:
        return chr(0xDC00 + code)  # back to the raw byte, as os.fsdecode writes it
    return chr(code)


def source_path(sources_dir: Path, source: str) -> Path:
    """The file that :func:`source_name` named ``source``."""
    return Path(sources_dir) / _ESCAPE.sub(_unescape_char, source)


@dataclass(frozen=True)
class SourceScan:
    """The article files under sources/ by name, and the entries refused with the reason.

    A file's path is a plain string: at 100,000 files, building a :class:`Path` for each
    costs more than listing the folder. Callers make one for the few files they read.
    """

    files: dict[str, str]
    refused: list[tuple[str, str]]


def is_article_name(name: str) -> bool:
    """Whether a (not hidden) file name has an article suffix; ``os.path.splitext`` without its cost."""
    dot = name.rfind(".")
    return dot > 0 and name[dot:].lower() in SUPPORTED_SUFFIXES


def scan_sources(sources_dir: Path) -> SourceScan:
    """Article files under ``sources_dir`` (recursive, hidden entries skipped), by :func:`source_name`.

    A symbolic link is followed only when it resolves inside ``sources_dir``: a link to
    ``/etc/passwd`` would publish that file on the page. A link that points outside,
    dangles or loops is refused with the reason, and a folder reached twice (a link to
    a parent folder) is read once.
    """
    root = Path(sources_dir)
    files: dict[str, str] = {}
    refused: list[tuple[str, str]] = []
    if not root.is_dir():
        return SourceScan(files, refused)
    real_root = root.resolve()
    seen_dirs = {real_root}
    pending: list[Path] = [root]
    linked: list[Path] = []  # folders reached through a link: after every real folder, so that
    while pending or linked:  # the real path names a file that a link also reaches
        folder = pending.pop() if pending else linked.pop(0)
        if folder is not root and folder.is_symlink():
            real = folder.resolve()
            if real in seen_dirs:
                refused.append((source_name(folder.relative_to(root).as_posix()),
                                "symbolic link to a folder already read (a loop, or a second name); remove the link"))
                continue
            seen_dirs.add(real)
        prefix = "" if folder is root else folder.relative_to(root).as_posix() + "/"
        try:
            found, others = _list_folder(folder, prefix)
        except OSError as exc:
            refused.append((source_name(os.fsdecode(os.path.relpath(folder, root))), f"cannot list this folder ({exc.strerror}); check its permissions"))
            continue
        files.update(found)
        for entry in others:  # folders and links, by name: which link is read first decides which is refused
            path = Path(entry.path)
            name = source_name(prefix + entry.name)
            target = path
            if entry.is_symlink():
                try:
                    target = path.resolve(strict=True)
                except RuntimeError:
                    refused.append((name, "symbolic link loop; remove the link or point it at an article"))
                    continue
                except OSError:
                    refused.append((name, "symbolic link to nothing (dangling); remove it or fix its target"))
                    continue
                if target != real_root and real_root not in target.parents:
                    refused.append((name, "symbolic link to a file outside the sources folder; copy the article in instead"))
                    continue
            if target.is_dir():
                if entry.is_symlink():
                    linked.append(path)
                elif path.resolve() not in seen_dirs:
                    seen_dirs.add(path.resolve())
                    pending.append(path)
            elif target.is_file() and is_article_name(entry.name):
                files[name] = entry.path
    # Sorted by name once, as plain strings (names are unique, so no ties to break).
    return SourceScan({name: files[name] for name in sorted(files)}, sorted(refused))


def _list_folder(folder: Path, prefix: str) -> tuple[dict[str, str], list[os.DirEntry[str]]]:
    """The article files of ``folder`` that are neither hidden nor links, by source name (``prefix``
    is the folder's), and its other entries to look at (folders and links, not hidden), sorted by name.

    This is the loop that runs once per file: it decides from the listing alone (no stat,
    no resolve, no :class:`Path`). Raises :class:`OSError` when the folder cannot be listed.
    """
    files: dict[str, str] = {}
    others: list[os.DirEntry[str]] = []
    with os.scandir(folder) as listing:
        for entry in listing:
            name = entry.name
            if name.startswith("."):
                continue
            if entry.is_symlink():
                others.append(entry)
            elif entry.is_file(follow_symlinks=False):
                if is_article_name(name):
                    files[source_name(prefix + name)] = entry.path
            elif entry.is_dir(follow_symlinks=False):
                others.append(entry)
    others.sort(key=lambda e: e.name)
    return files, others


def name_in(sources_dir: Path, path: str | Path) -> str | None:
    """The source name of ``path`` (a file event's path, a command-line argument), or None outside ``sources_dir``."""
    path = Path(path)
    # As given first; then with the folders resolved (not the file itself: a link stays a link)
    for root, candidate in ((Path(sources_dir).absolute(), path.absolute()),
                            (Path(sources_dir).resolve(), path.absolute().parent.resolve() / path.name)):
        try:
            relative = candidate.relative_to(root)
        except ValueError:
            continue
        return source_name(relative.as_posix()) if relative.parts else None
    return None


def article_file(sources_dir: Path, source: str) -> Path | None:
    """The path of ``source`` when :func:`scan_sources` would list it as is, or it is absent (deleted).

    None for what only a whole scan can judge: a hidden name, another suffix, a folder,
    or a symbolic link anywhere on the way (links are followed only inside the folder).
    """
    root = Path(sources_dir)
    path = source_path(root, source)
    parts = path.relative_to(root).parts
    if not parts or any(p.startswith(".") or p == ".." for p in parts) or path.suffix.lower() not in SUPPORTED_SUFFIXES:
        return None
    walked = root
    for part in parts:
        walked = walked / part
        if walked.is_symlink():
            return None
    return None if path.exists() and not path.is_file() else path


def list_sources(sources_dir: Path) -> list[Path]:
    """Article files under ``sources_dir`` (see :func:`scan_sources`), sorted."""
    return sorted(Path(path) for path in scan_sources(sources_dir).files.values())

