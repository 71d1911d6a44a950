"""The results cache: ``.ecolint_cache/<version>/<context>.json``.

A *context* is everything outside a file that can change its findings: the ecolint version, the packaged
measurement tables (:func:`~ecolint.knowledge.data.data_version`), the settings
(:meth:`~ecolint.config.Settings.fingerprint`, plus the project root that per-file ignores are relative to), the
enabled rules (code, class, module, and the size and mtime of each rule module and of ecolint's own sources, so
an edited rule in a development checkout is never served stale results). One JSON file holds one context: per
display path, the key of the content it was computed for (a hash of path, kind, content and the transformers pin
that applies to the file's directory) and the findings as :meth:`Finding.to_dict` writes them.

Concurrent runs are safe: the file is written to a temporary name and renamed over the old one, after merging
what is on disk, so a reader sees either the old or the new file, never half of one. Anything unreadable is a
miss. Findings that report internal errors (ECO903) are never stored.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Optional

if TYPE_CHECKING:  # pragma: no cover
    from ecolint.rule import Finding
    from ecolint.runner import Engine

CACHE_DIR_NAME = ".ecolint_cache"
FORMAT = 1
_TAG = "Signature: 8a477f597d28d172789f06886806bc55\n# This file is a cache directory tag created by ecolint.\n# For information about cache directory tags see https://bford.info/cachedir/\n"


def default_dir(settings) -> Path:
    return Path(settings.cache_dir) if settings.cache_dir else Path(settings.root) / CACHE_DIR_NAME


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

        self.root = directory
        self.directory = directory / __version__
        self.file = self.directory / f"{context}.json"
        self.entries: dict[str, dict] = {}
        self.changed: dict[str, dict] = {}
        self._loaded = False

    @classmethod
    def for_engine(cls, engine: "Engine", directory: Optional[Path] = None) -> "ResultsCache":
        return cls(directory or default_dir(engine.settings), context_key(engine))

    # -- keys --------------------------------------------------------------------------------------------
    @staticmethod
    def file_key(display: str, kind: str, data: bytes, engine: "Engine") -> str:
        return _hash(display, kind, hashlib.blake2b(data, digest_size=16).digest(), _pin(display, engine))

    # -- reading -----------------------------------------------------------------------------------------
    def _load(self) -> None:
        self._loaded = True
        self.entries = _read(self.file)

    def get(self, display: str, key: str) -> Optional[list["Finding"]]:
        from ecolint.rule import Finding

        if not self._loaded:
            self._load()
        entry = self.entries.get(display)
        if not isinstance(entry, dict) or entry.get("key") != key:
            return None
        try:
            return [Finding.from_dict(d) for d in entry["findings"]]
        except (KeyError, TypeError, ValueError, AttributeError):
            return None  # a corrupt entry is a miss

    # -- writing -----------------------------------------------------------------------------------------
    def put(self, display: str, key: str, findings: list["Finding"]) -> None:
        if any(f.code == "ECO903" for f in findings):
            return
        self.changed[display] = {"key": key, "findings": [f.to_dict() for f in findings]}

    def save(self) -> None:
        """Merge with what is on disk now and replace the file atomically; errors are ignored."""
        if not self.changed:
            return
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            tag = self.root / "CACHEDIR.TAG"
            if not tag.exists():
                _atomic_write(tag, _TAG)
            ignore = self.root / ".gitignore"
            if not ignore.exists():
                _atomic_write(ignore, "# Automatically created by ecolint.\n*\n")
            merged = _read(self.file)
            merged.update(self.changed)
            _atomic_write(self.file, json.dumps({"format": FORMAT, "entries": merged}, separators=(",", ":")))
            self.entries = merged
            self.changed = {}
        except OSError:
            pass


def _pin(display: str, engine: "Engine") -> str:
    """The project pin the Python front end will attach to this file (it changes ECO401)."""
    settings = engine.settings
    if settings.transformers_version:
        return ""  # part of the settings fingerprint already
    from ecolint.pins import transformers_pin

    try:
        directory = Path(display).resolve().parent
    except (OSError, RuntimeError):
        return "?"
    spec, where = transformers_pin(directory)
    return f"{spec}\x00{where}"


def _read(file: Path) -> dict:
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeDecodeError):
        return {}
    if not isinstance(data, dict) or data.get("format") != FORMAT or not isinstance(data.get("entries"), dict):
        return {}
    return data["entries"]


def _atomic_write(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def clean(directory: Path) -> bool:
    """Remove an ecolint cache directory; refuses a directory that is not one. True when something was removed."""
    import shutil

    if not directory.is_dir():
        return False
    if not (directory / "CACHEDIR.TAG").is_file() and directory.name != CACHE_DIR_NAME:
        raise ValueError(f"{directory} does not look like an ecolint cache (no CACHEDIR.TAG); not removing it")
    shutil.rmtree(directory, ignore_errors=True)
    return True
