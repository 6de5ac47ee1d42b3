"""Source files: their names (escaped to printable Unicode) and the scan of ``sources/``."""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

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
    """The article files under sources/ by name (in name order), and the entries refused with the reason.

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
    """Article files under ``sources_dir`` (recursive, hidden entries skipped), by :func:`source_name`;
    what :class:`SourceWalk` finds, gathered and sorted."""
    walk = SourceWalk(sources_dir)
    files = {source: path for source, path, _ in walk}
    if not walk.in_name_order:
        files = {name: files[name] for name in sorted(files)}  # names are unique: no ties to break
    return SourceScan(files, sorted(walk.refused + walk.unreadable))


class _Other(NamedTuple):
    """A folder or a link found in a listing: looked at after the folder's files."""

    name: str
    path: str
    is_link: bool


_FILE, _LINK, _FOLDER, _TYPE_BITS = stat.S_IFREG, stat.S_IFLNK, stat.S_IFDIR, 0o170000  # st_mode's type bits


class SourceWalk:
    """The article files under ``sources_dir`` as ``(source name, path, stat)``, one at a time.

    Recursive; hidden entries skipped. A symbolic link is followed only when it resolves
    inside ``sources_dir``: a link to ``/etc/passwd`` would publish that file on the page.
    A link that points outside, dangles or loops is refused with the reason (``refused``,
    complete once the walk is done), and a folder reached twice (a link to a parent
    folder) is read once.

    ``stat`` is what ``lstat`` said of the file while its folder was listed: each entry's
    type needs that call, and it is the stat an indexing run compares with the indexed
    one, so a run over 100,000 files makes one call per file, not two. It is None for a
    link to a file: the caller stats its target. One at a time because 100,000 stat
    results kept until the listing ends cost a third more than the calls themselves.

    Known once the walk is done (each walk starts them afresh): ``refused``; ``unreadable``,
    the article names whose ``lstat`` failed (an I/O error: neither their type nor their
    stat is known, so they are not read; an indexing run keeps what it indexed of them);
    and ``in_name_order``, whether the files came in the order of their source names
    (each folder's come in the order of its raw names: true for one folder of files
    whose names need no escape).
    """

    def __init__(self, sources_dir: Path) -> None:
        self.root = Path(sources_dir)
        self.refused: list[tuple[str, str]] = []
        self.unreadable: list[tuple[str, str]] = []
        self.in_name_order = True

    def __iter__(self) -> Iterator[tuple[str, str, os.stat_result | None]]:
        root = self.root
        refused: list[tuple[str, str]] = []
        unreadable: list[tuple[str, str]] = []
        self.refused, self.unreadable, self.in_name_order = refused, unreadable, True
        if not root.is_dir():
            return
        real_root = root.resolve()
        seen_dirs = {real_root}
        pending: list[Path] = [root]
        linked: list[Path] = []  # folders reached through a link: after every real folder, so that
        folders_with_files = 0
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
                names = sorted(os.listdir(folder))
            except OSError as exc:
                refused.append((source_name(os.fsdecode(os.path.relpath(folder, root))), f"cannot list this folder ({exc.strerror}); check its permissions"))
                continue
            others: list[_Other] = []
            found, escaped = yield from _folder_files(os.path.join(folder, ""), prefix, names, others, unreadable)
            folders_with_files += 2 if escaped else found > 0  # an escape can change a name's place
            for entry in others:  # folders and links, by name: which link is read first decides which is refused
                path = Path(entry.path)
                name = source_name(prefix + entry.name)
                target = path
                if entry.is_link:
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
                    if entry.is_link:
                        linked.append(path)
                    elif path.resolve() not in seen_dirs:
                        seen_dirs.add(path.resolve())
                        pending.append(path)
                elif target.is_file() and is_article_name(entry.name):
                    folders_with_files += 1  # out of its folder's name order
                    yield name, entry.path, None
        refused.sort()
        unreadable.sort()
        self.in_name_order = folders_with_files <= 1


def _folder_files(base: str, prefix: str, names: list[str], others: list[_Other], unreadable: list[tuple[str, str]],
                  ) -> Generator[tuple[str, str, os.stat_result], None, tuple[int, bool]]:
    """The article files among ``names`` (the listing of the folder ``base``, sorted) that are
    neither hidden nor links, with what ``lstat`` said of each; the folders and links go to
    ``others``, the article names whose ``lstat`` failed to ``unreadable``. Returns how many
    files it gave, and whether any name was escaped.

    The loop that runs once per file: one ``lstat`` and no other call for a plain name (the
    suffix test and :func:`source_name`'s shortcut are written out). A file that vanished
    since the listing is left out.
    """
    lstat, suffixes, given, escaped = os.lstat, SUPPORTED_SUFFIXES, 0, False
    for name in names:
        if name[0] == ".":
            continue
        path = base + name
        try:
            st = lstat(path)
        except FileNotFoundError:
            continue  # gone since the listing
        except OSError as exc:
            if is_article_name(name):
                unreadable.append((source_name(prefix + name), f"cannot read this file's details ({exc.strerror}); check the disk and its permissions"))
            continue
        kind = st.st_mode & _TYPE_BITS
        if kind == _FILE:
            dot = name.rfind(".")
            if dot > 0 and name[dot:].lower() in suffixes:
                source = prefix + name
                if not source.isprintable() or "\\" in source:
                    source, escaped = source_name(source), True
                given += 1
                yield source, path, st
        elif kind == _LINK or kind == _FOLDER:
            others.append(_Other(name, path, kind == _LINK))
    return given, escaped


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

