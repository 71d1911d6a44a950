"""Finding the files to lint: walk the given paths, keep the kinds a front end understands, honour
``exclude``/``extend-exclude`` and ``.gitignore`` files. Files named explicitly are always linted unless
``--force-exclude`` is given (pre-commit passes files explicitly).

Each path is judged by the settings that govern it (see :class:`~ecolint.config.Resolver`): a directory met
during a walk by its own settings (the nearest configuration in or above it), a file by those of its directory.
``exclude`` / ``extend-exclude`` patterns are relative to the directory of the configuration they come from, and
``respect-gitignore = false`` in a configuration turns ``.gitignore`` off for the paths it governs."""

from __future__ import annotations

import fnmatch
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Callable, Iterator, Optional, Union

from ecolint.config import Resolver, Settings, glob_match, glob_regex
from ecolint.files import read_text
from ecolint.sources import kind_for


@dataclass(frozen=True)
class Candidate:
    path: Path
    kind: Optional[str]  # None: not a kind we lint (reported only when named explicitly)
    explicit: bool


def _abs(path: Path) -> Path:
    """``path`` made absolute and free of ``.``/``..`` (lexically, the way the shell names directories). Rule
    bases and the paths matched against them must both be in this form, or ``relative_to`` fails silently."""
    return Path(os.path.abspath(path))


class _GitIgnore:
    """The subset of gitignore semantics linters need: comments, negation, anchoring, directory-only.
    Rule bases are absolute; :meth:`ignored` takes any path and makes it absolute the same way."""

    def __init__(self) -> None:
        self.rules: list[tuple[Path, str, bool, bool, bool]] = []  # base, pattern, negate, dir_only, anchored

    def add_file(self, path: Path) -> None:
        try:
            lines = read_text(path, errors="replace").splitlines()
        except OSError:  # unreadable, not a regular file (a FIFO must not hang the walk), too large
            return
        base = _abs(path).parent
        for line in lines:
            line = line.rstrip()
            if not line or line.startswith("#"):
                continue
            negate = line.startswith("!")
            if negate:
                line = line[1:]
            dir_only = line.endswith("/")
            line = line.rstrip("/")
            anchored = "/" in line
            self.rules.append((base, line.lstrip("/"), negate, dir_only, anchored))

    def ignored(self, path: Path, is_dir: bool) -> bool:
        result = False
        path = _abs(path)
        posix = path.as_posix() if os.sep == "/" else None
        for base, pattern, negate, dir_only, anchored in self.rules:
            if dir_only and not is_dir:
                continue
            rel = _relative(path, posix, base)
            if rel is None:
                continue
            if anchored:
                hit = glob_regex(pattern).match(rel) is not None and rel.count("/") == pattern.count("/") or fnmatch.fnmatchcase(rel, pattern)
            else:
                hit = fnmatch.fnmatchcase(path.name, pattern)
            if hit:
                result = not negate
        return result


def _relative(path: Path, posix: Optional[str], base: Path) -> Optional[str]:
    """``path.relative_to(base).as_posix()``, None when ``path`` is not below ``base``; on POSIX (``posix``: the
    path as text) by comparing text, which the ignore rules of every directory above a file ask again and again."""
    if posix is None:
        try:
            return path.relative_to(base).as_posix()
        except ValueError:
            return None
    b = _posix_text(base)
    if posix == b:
        return "."
    prefix = b if b.endswith("/") else b + "/"
    return posix[len(prefix):] if posix.startswith(prefix) else None


@lru_cache(maxsize=256)
def _posix_text(path: Path) -> str:
    return path.as_posix()


@lru_cache(maxsize=64)
def _real(path: Path) -> Path:
    return path.resolve()


def _excluded(path: Path, settings: Settings) -> bool:
    try:
        rel = path.resolve().relative_to(_real(settings.root)).as_posix()
    except (ValueError, OSError, RuntimeError):
        rel = path.as_posix()
    for pattern in settings.exclude + settings.extend_exclude:
        if glob_match(rel, pattern):
            return True
    return False


__all__ = ["Candidate", "discover", "glob_match"]

SettingsFor = Callable[[Path], Settings]  # a directory -> the settings governing it


def discover(paths: list[Path], settings: Union[Settings, Resolver], force_exclude: bool = False) -> Iterator[Candidate]:
    """Yield candidates in a deterministic order (sorted per directory), each file once. ``settings``: one set
    for every path, or the :class:`~ecolint.config.Resolver` that gives each path its own."""
    settings_for: SettingsFor = settings.for_directory if isinstance(settings, Resolver) else (lambda directory: settings)
    seen: set[Path] = set()
    for given in paths:
        if given.is_dir():
            yield from _walk(given, settings_for, seen)
        else:
            own = settings_for(given.parent)
            if force_exclude and (_excluded(given, own) or _gitignored(given, own)):
                continue
            key = _key(given)
            if key in seen:
                continue
            seen.add(key)
            yield Candidate(given, kind_for(given), explicit=True)


def _key(path: Path) -> Path:
    try:
        return path.resolve()
    except (OSError, RuntimeError):
        return path.absolute()


def _gitignored(path: Path, settings: Settings) -> bool:
    if not settings.respect_gitignore:
        return False
    ignore = _GitIgnore()
    for d in _enclosing(_abs(path).parent):
        ignore.add_file(d / ".gitignore")
    return ignore.ignored(path, False)


def _enclosing(directory: Path) -> list[Path]:
    """``directory`` and the directories above it whose ``.gitignore`` applies to it, outermost first: those
    from the top of its git repository (the directory holding ``.git``) down. Outside a repository there are
    none, as for git: a stray ``.gitignore`` in a parent directory (``/``, a home directory) hides nothing; the
    ``.gitignore`` files inside a walked directory still apply."""
    chain = []
    for d in (directory, *directory.parents):
        chain.append(d)
        if (d / ".git").exists():
            return [d for d in reversed(chain) if (d / ".gitignore").is_file()]
    return []


def _walk(root: Path, settings_for: SettingsFor, seen: set[Path]) -> Iterator[Candidate]:
    """The files under ``root``. Each entry is judged by the settings governing it; the ``.gitignore`` files
    are collected all the same and consulted where those settings respect them."""
    ignore = _GitIgnore()
    start = _abs(root)
    for d in _enclosing(start):
        if d != start:  # the walk reads the root's own .gitignore when it gets there
            ignore.add_file(d / ".gitignore")
    visited_dirs: set[tuple[int, int]] = set()
    stack = [root]
    while stack:
        directory = stack.pop()
        try:
            st = directory.stat()
        except OSError:
            continue
        ident = (st.st_dev, st.st_ino)
        if ident in visited_dirs:  # symlink loop
            continue
        visited_dirs.add(ident)
        if (directory / ".gitignore").is_file():
            ignore.add_file(directory / ".gitignore")
        here = settings_for(directory)
        try:
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError:
            continue
        subdirs = []
        for entry in entries:
            path = Path(entry.path)
            try:
                is_dir = entry.is_dir()
            except OSError:  # a symlink loop: a file of a linted kind is yielded, and reading it reports why
                is_dir = False
            settings = settings_for(path) if is_dir else here
            if _excluded(path, settings) or (settings.respect_gitignore and ignore.ignored(path, is_dir)):
                continue
            if is_dir:
                subdirs.append(path)
                continue
            kind = kind_for(path)
            if kind is None:
                continue
            key = _key(path)
            if key in seen:
                continue
            seen.add(key)
            yield Candidate(path, kind, explicit=False)
        stack.extend(reversed(subdirs))
