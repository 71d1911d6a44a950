"""The results cache: ``<cache-dir>/.ecolint_cache/<version>/<context>.json`` (the default cache dir is the
project root, so the default cache is ``.ecolint_cache/`` there).

ecolint keeps its files in a directory of its own, named ``.ecolint_cache``: a configured ``cache-dir`` that is
already called that is used as it is, any other gets that sub-directory. ``CACHEDIR.TAG`` and a ``.gitignore``
(``*``) are written only into a directory ecolint has just created itself, never into one it found, and
:func:`clean` removes only the files ecolint writes (its versioned entry files and those two markers), never a
directory it did not create. A symlinked cache directory is not used.

A *context* is everything outside a file that can change its findings: the ecolint version, the packaged
measurement tables (:func:`~ecolint.knowledge.data.data_version`), the settings
(:meth:`~ecolint.config.Settings.fingerprint`, plus the project root that per-file ignores are relative to), the
enabled rules (code, class, module, and the size and mtime of each rule module and of ecolint's own sources, so
an edited rule in a development checkout is never served stale results). One JSON file holds one context: per
real file, the key of what it was computed for (a hash of the display path, the real path, the fingerprint of the
settings that govern the file and the per-file ignores of them that apply to it, kind, content and the
transformers pin that applies to the file's directory) and the findings
as :meth:`Finding.to_dict` writes them.

The cache only ever decides which findings a file has; ``--fix`` recomputes every edit from the file's text, so
a forged cache file cannot put text into a source file.

Concurrent runs are safe: the file is written to a temporary name and renamed over the old one, after merging
what is on disk, so a reader sees either the old or the new file, never half of one. Anything unreadable is a
miss. Findings that report internal errors (ECO903) are never stored.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Optional

from ecolint.files import read_text, replace_file

if TYPE_CHECKING:  # pragma: no cover
    from ecolint.rule import Finding
    from ecolint.runner import Engine

CACHE_DIR_NAME = ".ecolint_cache"
FORMAT = 2
_TAG = "Signature: 8a477f597d28d172789f06886806bc55\n# This file is a cache directory tag created by ecolint.\n# For information about cache directory tags see https://bford.info/cachedir/\n"
_IGNORE = "# Automatically created by ecolint.\n*\n"
_MARKERS = {"CACHEDIR.TAG": _TAG, ".gitignore": _IGNORE}
# What ecolint writes inside its own directory: ``<version>/<context>.json`` and the temporary files of
# :func:`ecolint.files.replace_file`. :func:`clean` removes nothing else.
_VERSION_DIR = re.compile(r"\d+(?:\.\d+)*[A-Za-z0-9.+_-]*")
_ENTRY_FILE = re.compile(r"[0-9a-f]{32}\.json|\.[0-9a-f]{32}\.json\.[A-Za-z0-9_]+\.tmp")
_MARKER_TMP = re.compile(r"\.(?:CACHEDIR\.TAG|\.gitignore)\.[A-Za-z0-9_]+\.tmp")


def default_dir(settings) -> Path:
    """The configured cache directory (``--cache-dir`` / ``cache-dir``), else the project root."""
    return Path(settings.cache_dir) if settings.cache_dir else Path(settings.root)


def own_dir(directory: Path) -> Path:
    """The directory ecolint keeps its files in, for a configured cache directory."""
    return directory if directory.name == CACHE_DIR_NAME else directory / CACHE_DIR_NAME


def _hash(*parts) -> str:
    h = hashlib.blake2b(digest_size=16)
    for p in parts:
        h.update(p if isinstance(p, bytes) else str(p).encode("utf-8", "surrogatepass"))
        h.update(b"\x00")
    return h.hexdigest()


def _code_stamp(engine: "Engine") -> str:
    """Size and mtime of ecolint's own modules and of every enabled rule's module."""
    import sys

    import ecolint

    files: set[str] = set()
    pkg = Path(ecolint.__file__).parent
    for path in pkg.rglob("*.py"):
        files.add(str(path))
    for rule in engine.rules:
        mod = sys.modules.get(type(rule).__module__)
        f = getattr(mod, "__file__", None)
        if f:
            files.add(f)
    out = []
    for f in sorted(files):
        try:
            st = os.stat(f)
        except OSError:
            continue
        out.append(f"{f}:{st.st_size}:{st.st_mtime_ns}")
    return _hash(*out)


def context_key(engine: "Engine") -> str:
    from ecolint import __version__
    from ecolint.knowledge.data import data_version

    settings = engine.settings
    rules = [f"{type(r).__module__}.{type(r).__qualname__}:{r.code}" for r in engine.rules]
    return _hash(FORMAT, __version__, data_version(), settings.fingerprint(), Path(settings.root).resolve(), *rules, _code_stamp(engine))


class ResultsCache:
    def __init__(self, directory: Path, context: str):
        from ecolint import __version__

        self.root = own_dir(directory)
        self.directory = self.root / __version__
        self.file = self.directory / f"{context}.json"
        self.entries: dict[str, dict] = {}
        self.changed: dict[str, dict] = {}
        self._loaded = False
        self._settings_keys: dict[object, str] = {}  # settings -> hash of their fingerprint, once per run

    @classmethod
    def for_engine(cls, engine: "Engine", directory: Optional[Path] = None) -> "ResultsCache":
        return cls(directory or default_dir(engine.settings), context_key(engine))

    # -- keys --------------------------------------------------------------------------------------------
    def file_key(self, display: str, real: str, kind: str, data: bytes, engine: "Engine") -> str:
        """``display``: the path shown in the findings; ``real``: the file it names (symlinks resolved);
        ``engine``: the engine of the settings that govern the file."""
        settings = engine.settings
        governing = self._settings_keys.get(settings)
        if governing is None:
            governing = self._settings_keys[settings] = _hash(settings.fingerprint(), Path(settings.root).resolve())
        ignores = ",".join(settings.file_ignores(real))
        return _hash(display, real, governing, ignores, kind, hashlib.blake2b(data, digest_size=16).digest(), _pin(real, engine))

    # -- reading -----------------------------------------------------------------------------------------
    def _load(self) -> None:
        self._loaded = True
        self.entries = _read(self.file) if _usable(self.root) and not self.directory.is_symlink() else {}

    def get(self, real: str, key: str) -> Optional[list["Finding"]]:
        """The cached findings of the real file ``real`` if they were computed for ``key``, else None."""
        from ecolint.rule import Finding

        if not self._loaded:
            self._load()
        entry = self.entries.get(real)
        if not isinstance(entry, dict) or entry.get("key") != key:
            return None
        from ecolint.project import still_valid

        if not still_valid(entry.get("consulted")):
            return None  # a module it read values from changed, or an import now finds another module
        try:
            return [Finding.from_dict(d) for d in entry["findings"]]
        except (KeyError, TypeError, ValueError, AttributeError):
            return None  # a corrupt entry is a miss

    # -- writing -----------------------------------------------------------------------------------------
    def put(self, real: str, key: str, findings: list["Finding"], consulted: Optional[dict] = None) -> None:
        """``consulted``: what the project model was asked for the file (see :func:`ecolint.project.tracing`)."""
        if any(f.code == "ECO903" for f in findings):
            return
        entry: dict = {"key": key, "findings": [f.to_dict() for f in findings]}
        if consulted is not None:
            entry["consulted"] = consulted
        self.changed[real] = entry

    def save(self) -> None:
        """Merge with what is on disk now and replace the file atomically; errors are ignored."""
        if not self.changed:
            return
        try:
            if not _make_own_dir(self.root):
                return
            self.directory.mkdir(exist_ok=True)
            if not _usable(self.directory):
                return
            merged = _read(self.file)
            merged.update(self.changed)
            replace_file(self.file, json.dumps({"format": FORMAT, "entries": merged}, separators=(",", ":")).encode("utf-8"))
            self.entries = merged
            self.changed = {}
        except OSError:
            pass


def _usable(directory: Path) -> bool:
    """A real directory (not a symlink to one); ecolint neither reads nor writes a cache through a symlink."""
    return not directory.is_symlink() and directory.is_dir()


def _make_own_dir(root: Path) -> bool:
    """Make sure ecolint's own directory exists; mark it as a cache (CACHEDIR.TAG, .gitignore) only when this
    call created it. False when it cannot be used."""
    if root.is_symlink():
        return False
    try:
        root.mkdir(parents=True)
    except FileExistsError:
        return root.is_dir()
    for name, text in _MARKERS.items():
        replace_file(root / name, text.encode("utf-8"))
    return True


def _pin(real: str, engine: "Engine") -> str:
    """The project pin the Python front end will attach to this file (it changes ECO401)."""
    settings = engine.settings
    if settings.transformers_version:
        return ""  # part of the settings fingerprint already
    from ecolint.pins import transformers_pin

    spec, where = transformers_pin(Path(real).parent)
    return f"{spec}\x00{where}"


_CACHE_FILE_MAX_BYTES = 512 * 1024 * 1024


def _read(file: Path) -> dict:
    """A cache file's entries; anything unexpected (not a regular file, too large, not ecolint's JSON) is an
    empty cache, never a hang or an error."""
    try:
        data = json.loads(read_text(file, max_bytes=_CACHE_FILE_MAX_BYTES))
    except (OSError, ValueError, UnicodeDecodeError):
        return {}
    if not isinstance(data, dict) or data.get("format") != FORMAT or not isinstance(data.get("entries"), dict):
        return {}
    return data["entries"]


def clean(directory: Path) -> bool:
    """Remove the cache kept for the configured cache directory ``directory``: only the files ecolint writes
    (versioned entry files, their temporary files, and the markers with exactly the text ecolint gives them),
    then the directories left empty. Anything else stays. True when something was removed."""
    root = own_dir(directory)
    if not _usable(root):
        return False
    removed = False
    for child in sorted(root.iterdir()):
        if _VERSION_DIR.fullmatch(child.name) and _usable(child):
            for entry in sorted(child.iterdir()):
                removed |= _ENTRY_FILE.fullmatch(entry.name) is not None and _remove_file(entry)
            _remove_empty_dir(child)
        elif _MARKER_TMP.fullmatch(child.name):
            removed |= _remove_file(child)
    for name, text in _MARKERS.items():
        marker = root / name
        if _is_plain_file(marker) and _text_of(marker) == text:
            removed |= _remove_file(marker)
    _remove_empty_dir(root)
    return removed


def _is_plain_file(path: Path) -> bool:
    return not path.is_symlink() and path.is_file()


def _text_of(path: Path) -> Optional[str]:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def _remove_file(path: Path) -> bool:
    if not _is_plain_file(path):
        return False
    try:
        path.unlink()
    except OSError:
        return False
    return True


def _remove_empty_dir(path: Path) -> None:
    try:
        path.rmdir()  # fails, and leaves it, unless it is empty
    except OSError:
        pass
