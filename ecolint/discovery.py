"""Finding the files to lint: walk the given paths, keep the kinds a front end understands, honour
``exclude``/``extend-exclude`` and ``.gitignore`` files. Files named explicitly are always linted unless
``--force-exclude`` is given (pre-commit passes files explicitly)."""

from __future__ import annotations

import fnmatch
import os
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Iterator, Optional

from ecolint.config import Settings
from ecolint.files import read_text
from ecolint.sources import kind_for


@dataclass(frozen=True)
class Candidate:
    path: Path
    kind: Optional[str]  # None: not a kind we lint (reported only when named explicitly)
    explicit: bool


def glob_match(rel: str, pattern: str) -> bool:
    """Match a ``/``-separated relative path against a ruff-style glob (``**`` spans directories; a pattern
    without a slash matches any path component or the basename)."""
    pattern = pattern.strip()
    if not pattern:
        return False
    if pattern.startswith("./"):
        pattern = pattern[2:]
    if "/" not in pattern.rstrip("/"):
        pat = pattern.rstrip("/")
        return any(fnmatch.fnmatchcase(part, pat) for part in rel.split("/"))
    return _glob_regex(pattern.lstrip("/")).match(rel) is not None


@lru_cache(maxsize=512)
def _glob_regex(pattern: str) -> "re.Pattern[str]":
    out = []
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
            continue
        if pattern.startswith("**", i):
            out.append(".*")
            i += 2
            continue
        if c == "*":
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        else:
            out.append(re.escape(c))
        i += 1
    body = "".join(out).rstrip("/")
    return re.compile(body + "(?:/.*)?$")


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
        for base, pattern, negate, dir_only, anchored in self.rules:
            if dir_only and not is_dir:
                continue
            try:
                rel = path.relative_to(base).as_posix()
            except ValueError:
                continue
            if anchored:
                hit = _glob_regex(pattern).match(rel) is not None and rel.count("/") == pattern.count("/") or fnmatch.fnmatchcase(rel, pattern)
            else:
                hit = fnmatch.fnmatchcase(path.name, pattern)
            if hit:
                result = not negate
        return result


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


def discover(paths: list[Path], settings: Settings, force_exclude: bool = False) -> Iterator[Candidate]:
    """Yield candidates in a deterministic order (sorted per directory), each file once."""
    seen: set[Path] = set()
    for given in paths:
        if given.is_dir():
            yield from _walk(given, settings, seen)
        else:
            if force_exclude and (_excluded(given, settings) or _gitignored(given, settings)):
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


def _walk(root: Path, settings: Settings, seen: set[Path]) -> Iterator[Candidate]:
    ignore = _GitIgnore()
    if settings.respect_gitignore:
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
        if settings.respect_gitignore and (directory / ".gitignore").is_file():
            ignore.add_file(directory / ".gitignore")
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
