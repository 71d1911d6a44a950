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

from ecolint.config import Resolver, Settings, any_glob, glob_match, glob_regex
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
            if _rule_hits(pattern, anchored, rel, path.name):
                result = not negate
        return result

    def in_directory(self, directory: Path) -> "Callable[[str, bool], bool]":
        """``lambda name, is_dir: self.ignored(directory / name, is_dir)`` for the entries of one directory (of a
        walk: the rules read so far are those of the directory and the ones above it), with the work that is the
        same for every entry done once: which rules apply below ``directory`` and the path relative to each base."""
        path = _abs(directory)
        posix = path.as_posix() if os.sep == "/" else None
        applicable = []
        rel_of: dict[int, Optional[str]] = {}  # id(base) -> the directory relative to it (a file's rules share one)
        for base, pattern, negate, dir_only, anchored in self.rules:
            key = id(base)
            if key in rel_of:
                rel = rel_of[key]
            else:
                rel = rel_of[key] = _relative(path, posix, base)
            if rel is not None:  # an entry of the directory is below base too: its path there is rel/name
                applicable.append((pattern, negate, dir_only, anchored, "" if rel == "." else rel + "/"))

        # The last rule that matches decides. Runs of name rules (no slash) that agree on negation and on
        # directories-only are tried at once, as one regular expression; the runs are tried from the last back,
        # and the first that matches holds the last matching rule.
        runs: list[tuple[bool, bool, Union[list[str], tuple[str, str]]]] = []  # (negate, dir_only, names or (pattern, prefix))
        for pattern, negate, dir_only, anchored, prefix in applicable:
            last = runs[-1][2] if runs else None
            if anchored:
                runs.append((negate, dir_only, (pattern, prefix)))
            elif isinstance(last, list) and runs[-1][:2] == (negate, dir_only):
                last.append(pattern)
            else:
                runs.append((negate, dir_only, [pattern]))
        tests: list[tuple[bool, bool, Union[Callable[[str], object], tuple[str, str]]]] = [
            (negate, dir_only, _any_name(tuple(what)) if isinstance(what, list) else what) for negate, dir_only, what in reversed(runs)
        ]

        def ignored(name: str, is_dir: bool) -> bool:
            for negate, dir_only, test in tests:
                if dir_only and not is_dir:
                    continue
                if isinstance(test, tuple):
                    hit = _path_rule_hits(test[0], test[1] + name)
                else:
                    hit = test(name) is not None
                if hit:
                    return not negate
            return False

        return ignored


@lru_cache(maxsize=256)
def _any_name(patterns: tuple[str, ...]) -> Callable[[str], object]:
    """A match function that succeeds when ``fnmatch.fnmatchcase(name, p)`` holds for one of ``patterns``."""
    if not patterns:
        return lambda name: None
    import re

    return re.compile("|".join(f"(?:{fnmatch.translate(p)})" for p in patterns)).match


def _rule_hits(pattern: str, anchored: bool, rel: str, name: str) -> bool:
    if anchored:
        return _path_rule_hits(pattern, rel)
    return fnmatch.fnmatchcase(name, pattern)


def _path_rule_hits(pattern: str, rel: str) -> bool:
    """An anchored rule (a pattern with a slash) against the path relative to its ``.gitignore``."""
    glob, slashes, whole = _path_rule(pattern)
    return glob(rel) is not None and rel.count("/") == slashes or whole(rel) is not None


@lru_cache(maxsize=1024)
def _path_rule(pattern: str) -> tuple[Callable[[str], object], int, Callable[[str], object]]:
    import re

    return glob_regex(pattern).match, pattern.count("/"), re.compile(fnmatch.translate(pattern)).match


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


def _excluded(path: Path, settings: Settings, resolved: Optional[Path] = None) -> bool:
    """Does an ``exclude`` / ``extend-exclude`` pattern of ``settings`` match ``path`` (relative to the settings'
    root, symbolic links resolved; ``resolved``: ``path.resolve()`` when the caller has it)?"""
    try:
        rel = (resolved if resolved is not None else path.resolve()).relative_to(_real(settings.root)).as_posix()
    except (ValueError, OSError, RuntimeError):
        rel = path.as_posix()
    return any_glob(settings.exclude + settings.extend_exclude)(rel)


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
        ignored = ignore.in_directory(directory)
        real_dir: Optional[Path] = None
        subdirs = []
        for entry in entries:
            path = Path(entry.path)
            try:
                is_dir = entry.is_dir()
            except OSError:  # a symlink loop: a file of a linted kind is yielded, and reading it reports why
                is_dir = False
            kind = None
            if not is_dir:
                kind = kind_for(path)
                if kind is None:  # (not a kind we lint: skipped whatever the exclusions say)
                    continue
            # path.resolve(), from the directory's when the entry itself is no symbolic link
            resolved = None
            try:
                if not entry.is_symlink():
                    if real_dir is None:
                        real_dir = directory.resolve()
                    resolved = real_dir / entry.name
            except (OSError, RuntimeError):
                resolved = None
            settings = settings_for(path) if is_dir else here
            if _excluded(path, settings, resolved) or (settings.respect_gitignore and ignored(entry.name, is_dir)):
                continue
            if is_dir:
                subdirs.append(path)
                continue
            key = resolved if resolved is not None else _key(path)
            if key in seen:
                continue
            seen.add(key)
            yield Candidate(path, kind, explicit=False)
        stack.extend(reversed(subdirs))
