"""Settings, resolved per file the way ruff resolves them: the nearest ``ecolint.toml`` / ``.ecolint.toml``
(top-level keys) or ``pyproject.toml`` with a ``[tool.ecolint]`` table in or above a file's directory governs
that file (nearest wins; files are not merged), then command-line options on top; ``--config FILE`` forces one
configuration for every file. Unknown keys are an error with a did-you-mean."""

from __future__ import annotations

import difflib
import fnmatch
import math
import os
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Optional

from ecolint.errors import UsageError
from ecolint.files import read_text
from ecolint.rule import Severity

DEFAULT_EXCLUDE = (
    ".git",
    ".hg",
    ".svn",
    ".venv",
    "venv",
    ".env",
    "env",
    "__pycache__",
    "node_modules",
    ".tox",
    ".nox",
    ".eggs",
    "*.egg-info",
    ".mypy_cache",
    ".pytest_cache",
    ".ruff_cache",
    ".ecolint_cache",
    "site-packages",
    "build",
    "dist",
)

KNOWN_KEYS = {
    "select",
    "ignore",
    "extend-select",
    "per-file-ignores",
    "exclude",
    "extend-exclude",
    "gpu",
    "fail-on",
    "measurements",
    "models",
    "max-file-size",
    "respect-gitignore",
    "transformers-version",
    "cache-dir",
    "jobs",
    "project",
}


class ConfigError(UsageError, ValueError):
    """A configuration file that cannot be used (unreadable, invalid TOML, unknown key, bad value). The message
    has one line per problem: every problem of a configuration section is reported at once."""

    label = "configuration error"


def load_toml(text: str) -> dict:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - exercised on 3.10
        import tomli as tomllib
    return tomllib.loads(text)


@dataclass(frozen=True)
class Settings:
    root: Path = field(default_factory=Path.cwd)
    config_path: Optional[Path] = None
    select: tuple[str, ...] = ("ALL",)
    ignore: tuple[str, ...] = ()
    extend_select: tuple[str, ...] = ()
    per_file_ignores: tuple[tuple[str, tuple[str, ...]], ...] = ()
    exclude: tuple[str, ...] = DEFAULT_EXCLUDE
    extend_exclude: tuple[str, ...] = ()
    gpu: Optional[str] = None  # canonical GPU id
    fail_on: Severity = Severity.YELLOW
    measurements: tuple[Path, ...] = ()
    models: tuple[tuple[str, float], ...] = ()
    max_file_size: int = 2_000_000
    respect_gitignore: bool = True
    transformers_version: Optional[str] = None
    cache_dir: Optional[Path] = None
    jobs: Optional[int] = None
    project: bool = True  # read values from the project's other files (imports, configs); see ecolint.project

    @property
    def model_overrides(self) -> dict[str, float]:
        return dict(self.models)

    def is_enabled(self, code: str, filename: Optional[str] = None) -> bool:
        sel = _best(code, self.select + self.extend_select)
        ign = _best(code, self.ignore + self.file_ignores(filename))
        if sel < 0:
            return False
        return not (ign >= 0 and ign >= sel)

    def file_ignores(self, filename: Optional[str]) -> tuple[str, ...]:
        if not filename or not self.per_file_ignores:
            return ()
        out: list[str] = []
        rel = _relative(Path(filename), self.root)
        for pattern, codes in self.per_file_ignores:
            if glob_match(rel, pattern):
                out.extend(codes)
        return tuple(out)

    def fingerprint(self) -> str:
        """Everything that can change findings, for the results cache key."""
        parts = [
            ",".join(self.select),
            ",".join(self.ignore),
            ",".join(self.extend_select),
            repr(self.per_file_ignores),
            self.gpu or "",
            repr(self.models),
            str(self.max_file_size),
            self.transformers_version or "",
            "project" if self.project else "no-project",
        ]
        for path in self.measurements:
            try:
                parts.append(read_text(path, errors="replace"))
            except OSError:  # unreadable, not a regular file, too large: loading the table reports it
                parts.append(str(path))
        return "\x00".join(parts)


def glob_match(rel: str, pattern: str) -> bool:
    """Match a ``/``-separated relative path against a ruff-style glob (``**`` spans directories; a pattern
    without a slash matches any path component or the basename)."""
    glob = _glob(pattern)
    if glob is None:
        return False
    component, pat = glob
    if component:
        return any(fnmatch.fnmatchcase(part, pat) for part in rel.split("/"))
    return glob_regex(pat).match(rel) is not None


def _glob(pattern: str) -> Optional[tuple[bool, str]]:
    """(True, pattern) for a pattern that matches a path component, (False, pattern) for one matched against the
    whole relative path; None for an empty one."""
    pattern = pattern.strip()
    if not pattern:
        return None
    if pattern.startswith("./"):
        pattern = pattern[2:]
    if "/" not in pattern.rstrip("/"):
        return True, pattern.rstrip("/")
    return False, pattern.lstrip("/")


@lru_cache(maxsize=64)
def any_glob(patterns: tuple[str, ...]) -> Callable[[str], bool]:
    """``lambda rel: any(glob_match(rel, p) for p in patterns)``, with each path component tested once against
    the component patterns (a directory walk meets the same directory names again and again)."""
    components: list[str] = []
    paths = []
    for pattern in patterns:
        glob = _glob(pattern)
        if glob is None:
            continue
        component, pat = glob
        if component:
            components.append(pat)
        else:
            paths.append(glob_regex(pat))
    seen: dict[str, bool] = {}

    def part_hit(part: str) -> bool:
        hit = seen.get(part)
        if hit is None:
            hit = seen[part] = any(fnmatch.fnmatchcase(part, pat) for pat in components)
        return hit

    def matches(rel: str) -> bool:
        if components and any(part_hit(part) for part in rel.split("/")):
            return True
        return any(regex.match(rel) is not None for regex in paths)

    return matches


@lru_cache(maxsize=512)
def glob_regex(pattern: str) -> "re.Pattern[str]":
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


def _relative(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except (ValueError, OSError):
        return path.as_posix()


def _best(code: str, prefixes: tuple[str, ...]) -> int:
    """Length of the most specific selector matching ``code`` (ALL counts as 0), -1 when none does."""
    best = -1
    for p in prefixes:
        p = p.strip().upper()
        if p == "ALL":
            best = max(best, 0)
        elif code.startswith(p):
            best = max(best, len(p))
    return best


CONFIG_FILES = ("ecolint.toml", ".ecolint.toml")


def find_config(start: Path) -> Optional[tuple[Path, dict]]:
    """The configuration governing ``start`` (a file or directory): the nearest one in or above it."""
    start = start.resolve()
    if start.is_file():
        start = start.parent
    for directory in [start, *start.parents]:
        found = _config_in(directory)
        if found is not None:
            return found
    return None


def _config_in(directory: Path) -> Optional[tuple[Path, Any]]:
    """The configuration file of ``directory`` itself and its ecolint section, or None. ``ecolint.toml`` and
    ``.ecolint.toml`` win over ``pyproject.toml``; a ``pyproject.toml`` without ``[tool.ecolint]`` is not one."""
    for name in CONFIG_FILES:
        candidate = directory / name
        if candidate.is_file():
            data = _read(candidate)
            tool = data.get("tool")
            return candidate, tool.get("ecolint", data) if isinstance(tool, dict) else data
    pyproject = directory / "pyproject.toml"
    if pyproject.is_file():
        data = _read(pyproject)
        tool = data.get("tool")
        section = tool.get("ecolint") if isinstance(tool, dict) else None  # `tool = [1]` is not ours to judge
        if section is not None:
            return pyproject, section
    return None


def _read(path: Path) -> dict:
    try:
        return load_toml(read_text(path))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    except RecursionError:
        raise ConfigError(f"{path}: invalid TOML: nesting too deep") from None


def _did_you_mean(key: str, options) -> str:
    close = difflib.get_close_matches(key, sorted(options), n=1, cutoff=0.5)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _codes(value: Any, key: str, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where}: {key} must be a list of rule codes or prefixes")
    return tuple(v.strip().upper() for v in value)


def validate_selector(sel: str) -> Optional[str]:
    """An error message when a selector matches no rule."""
    from ecolint.registry import all_rules

    s = sel.strip().upper()
    if s == "ALL":
        return None
    codes = [r.code for r in all_rules()]
    if any(c.startswith(s) for c in codes):
        return None
    names = {r.name: r.code for r in all_rules()}
    hint = _did_you_mean(s, codes)
    if sel.lower() in names:
        hint = f" (use the code {names[sel.lower()]})"
    return f"unknown rule selector {sel!r}{hint}"


def settings_from_mapping(data: dict, root: Path, where: str) -> Settings:
    """The settings of one configuration section. Every problem in it is reported at once: a
    :class:`ConfigError` whose message has one line per problem."""
    from ecolint.knowledge.gpus import resolve_gpu, suggest_gpu

    errors = _Problems(where)
    for key in data:
        if key not in KNOWN_KEYS:
            errors.add(f"unknown key {key!r}{_did_you_mean(key, KNOWN_KEYS)}")
    s = Settings(root=root)
    changes: dict[str, Any] = {}
    for key in ("select", "ignore", "extend-select"):
        if key in data:
            with errors.collect():
                changes[key.replace("-", "_")] = _codes(data[key], key, where)
    if "per-file-ignores" in data:
        with errors.collect():
            pfi = data["per-file-ignores"]
            if not isinstance(pfi, dict):
                raise ConfigError(f"{where}: per-file-ignores must be a table of glob = [codes]")
            changes["per_file_ignores"] = tuple((k, _codes(v, f"per-file-ignores.{k}", where)) for k, v in pfi.items())
    for key in ("exclude", "extend-exclude"):
        if key in data:
            v = data[key]
            if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
                errors.add(f"{key} must be a list of glob patterns")
            else:
                changes[key.replace("-", "_")] = tuple(v)
    if "gpu" in data:
        g = data["gpu"]
        info = resolve_gpu(g) if isinstance(g, str) else None
        if info is None:
            sugg = suggest_gpu(str(g))
            hint = f" (did you mean {sugg[0]!r}?)" if sugg else ""
            errors.add(f"unknown gpu {g!r}{hint}")
        else:
            changes["gpu"] = info.id
    if "fail-on" in data:
        try:
            changes["fail_on"] = Severity(str(data["fail-on"]).lower())
        except ValueError:
            errors.add("fail-on must be one of red, yellow, info")
    if "measurements" in data:
        v = data["measurements"]
        items = [v] if isinstance(v, str) else v
        if not isinstance(items, list) or not all(isinstance(x, str) for x in items):
            errors.add("measurements must be a path or a list of paths")
        else:
            changes["measurements"] = tuple((root / x) for x in items)
    if "models" in data:
        v = data["models"]
        if not isinstance(v, dict):
            errors.add("models must be a table of model id = parameters in billions")
        else:
            bad = [k for k, x in v.items() if not _positive_number(x)]
            for k in bad:
                errors.add(f"models.{k} must be a positive number of parameters in billions, not {v[k]!r}")
            if not bad:
                changes["models"] = tuple((k, float(x)) for k, x in v.items())
    if "max-file-size" in data:
        v = data["max-file-size"]
        if not isinstance(v, int) or isinstance(v, bool) or v <= 0:
            errors.add("max-file-size must be a positive number of bytes")
        else:
            changes["max_file_size"] = v
    if "respect-gitignore" in data:
        if not isinstance(data["respect-gitignore"], bool):
            errors.add("respect-gitignore must be true or false")
        else:
            changes["respect_gitignore"] = data["respect-gitignore"]
    if "transformers-version" in data:
        v = data["transformers-version"]
        if not isinstance(v, str) or not _VERSION_SPEC.fullmatch(v):
            errors.add(f"transformers-version must be a version or version specifier string such as \"4.46.3\" or \">=4.40,<5\", not {v!r}")
        else:
            changes["transformers_version"] = v.strip()
    if "cache-dir" in data:
        with errors.collect():
            changes["cache_dir"] = _cache_dir(data["cache-dir"], root, where)
    if "jobs" in data:
        v = data["jobs"]
        if not isinstance(v, int) or isinstance(v, bool) or v < 0:
            errors.add(f"jobs must be a non-negative integer (0: one per CPU; more than the CPUs is lowered to them), not {v!r}")
        else:
            changes["jobs"] = v
    if "project" in data:
        if not isinstance(data["project"], bool):
            errors.add(f"project must be true or false, not {data['project']!r}")
        else:
            changes["project"] = data["project"]
    for sel in changes.get("select", ()) + changes.get("ignore", ()) + changes.get("extend_select", ()):
        err = validate_selector(sel)
        if err:
            errors.add(err)
    errors.raise_if_any()
    return replace(s, **changes)


class _Problems:
    """The problems found in one configuration section, each ``where: message``, raised together."""

    def __init__(self, where: str) -> None:
        self.where = where
        self.messages: list[str] = []

    def add(self, message: str) -> None:
        self.messages.append(f"{self.where}: {message}")

    @contextmanager
    def collect(self) -> Iterator[None]:
        """Record a :class:`ConfigError` raised inside the block (already ``where: message``) and go on."""
        try:
            yield
        except ConfigError as exc:
            self.messages.extend(str(exc).splitlines())

    def raise_if_any(self) -> None:
        if self.messages:
            raise ConfigError("\n".join(self.messages))


# A PEP 440 version, or a comma-separated list of clauses, each an optional operator and a version (``4.46.3``,
# ``==4.44.*``, ``>=4.40,<5``, ``~=4.40.0rc1``).
_VERSION = r"\d+(?:\.\d+)*(?:\.\*|(?:[-_.]?(?:a|b|c|rc|alpha|beta|pre|preview)[-_.]?\d*)?(?:[-_.]?(?:post|rev|r)[-_.]?\d*)?(?:[-_.]?dev[-_.]?\d*)?(?:\+[a-z0-9]+(?:[-_.][a-z0-9]+)*)?)"  # noqa: E501
_CLAUSE = rf"\s*(?:===|==|!=|~=|<=|>=|<|>)?\s*{_VERSION}\s*"
_VERSION_SPEC = re.compile(rf"{_CLAUSE}(?:,{_CLAUSE})*", re.IGNORECASE)


def _positive_number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x) and x > 0


def _cache_dir(value: Any, root: Path, where: str) -> Path:
    """``cache-dir`` from a configuration file: a path inside the project (the directory of that file). A
    repository must not make ecolint write, or ``ecolint clean`` delete, anything outside it; ``--cache-dir``
    on the command line may name any directory."""
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{where}: cache-dir must be a directory path (a string), not {value!r}")
    path = root / value
    real_root = os.path.realpath(root)
    real = os.path.realpath(path)
    if os.path.commonpath([real_root, real]) != real_root:
        raise ConfigError(
            f"{where}: cache-dir {value!r} is outside the project ({real_root}); a configuration file may only put "
            f"the cache inside the project (use --cache-dir on the command line for another place)"
        )
    return path


def load_settings(start: Optional[Path] = None, explicit: Optional[Path] = None) -> Settings:
    """The settings governing ``start`` (a file or directory; default: the working directory), or those of the
    configuration file ``explicit`` (``--config``)."""
    if explicit is not None:
        return _load_explicit(explicit)
    found = find_config(start or Path.cwd())
    return _settings_of(found) if found is not None else Settings(root=Path.cwd())


def _load_explicit(explicit: Path) -> Settings:
    data = _read(explicit)
    tool = data.get("tool")
    section = (tool.get("ecolint", {}) if isinstance(tool, dict) else {}) if explicit.name == "pyproject.toml" else data
    if not isinstance(section, dict):
        raise ConfigError(f"{explicit}: [tool.ecolint] must be a table")
    return replace(settings_from_mapping(section, explicit.resolve().parent, str(explicit)), config_path=explicit)


def _settings_of(found: tuple[Path, Any]) -> Settings:
    path, section = found
    if not isinstance(section, dict):
        raise ConfigError(f"{path}: [tool.ecolint] must be a table")
    return replace(settings_from_mapping(section, path.parent, str(path)), config_path=path)


@dataclass(frozen=True)
class Overrides:
    """Command-line options, applied on top of the settings of every file. Empty / None: keep the file's."""

    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    extend_select: tuple[str, ...] = ()  # added to the configured extend-select
    gpu: Optional[str] = None  # canonical GPU id
    fail_on: Optional[Severity] = None
    jobs: Optional[int] = None
    project: Optional[bool] = None  # --no-project: False

    def apply(self, settings: Settings) -> Settings:
        changes: dict[str, Any] = {}
        if self.select:
            changes["select"] = self.select
        if self.ignore:
            changes["ignore"] = self.ignore
        if self.extend_select:
            changes["extend_select"] = settings.extend_select + self.extend_select
        if self.gpu is not None:
            changes["gpu"] = self.gpu
        if self.fail_on is not None:
            changes["fail_on"] = self.fail_on
        if self.jobs is not None:
            changes["jobs"] = self.jobs
        if self.project is not None:
            changes["project"] = self.project
        return replace(settings, **changes) if changes else settings


class Resolver:
    """The settings governing each path of a run, like ruff's resolver: the nearest configuration in or above
    the path's directory (a directory is governed by its own configuration), then :class:`Overrides`. The
    configuration file of each directory is looked up once per run, and each configuration file is read once.
    With ``config`` (``--config FILE``) that one configuration governs every path.

    ``run_settings`` govern what belongs to the whole run rather than to a file (worker processes, where a
    report's paths are relative to): those of the working directory, or of ``--config``."""

    def __init__(self, overrides: Overrides = Overrides(), config: Optional[Path] = None, cwd: Optional[Path] = None):
        self.overrides = overrides
        self.cwd = Path(cwd) if cwd is not None else Path.cwd()
        self._forced = overrides.apply(_load_explicit(config)) if config is not None else None
        self._config_of: dict[str, Optional[Path]] = {}  # real directory -> the configuration file governing it
        self._sections: dict[Path, Any] = {}  # configuration file -> its ecolint section
        self._by_config: dict[Optional[Path], Settings] = {}
        self._by_directory: dict[Path, Settings] = {}  # a directory as given -> its settings

    @property
    def forced(self) -> bool:
        return self._forced is not None

    @property
    def run_settings(self) -> Settings:
        return self.for_directory(self.cwd)

    def for_file(self, path: Path) -> Settings:
        return self.for_directory(path.parent)

    def for_path(self, path: Path) -> Settings:
        """A directory's own settings, or a file's (those of its directory)."""
        return self.for_directory(path) if path.is_dir() else self.for_file(path)

    def for_directory(self, directory: Path) -> Settings:
        if self._forced is not None:
            return self._forced
        settings = self._by_directory.get(directory)
        if settings is None:
            config = self._config_for(directory)
            settings = self._by_config.get(config)
            if settings is None:
                base = _settings_of((config, self._sections[config])) if config is not None else Settings(root=self.cwd)
                settings = self._by_config[config] = self.overrides.apply(base)
            self._by_directory[directory] = settings
        return settings

    def _config_for(self, directory: Path) -> Optional[Path]:
        start = os.path.realpath(directory)
        chain: list[str] = []
        current = start
        config: Optional[Path] = None
        while True:
            if current in self._config_of:
                config = self._config_of[current]
                break
            chain.append(current)
            found = _config_in(Path(current))
            if found is not None:
                config = found[0]
                self._sections[config] = found[1]
                break
            parent = os.path.dirname(current)
            if parent == current:
                break
            current = parent
        for d in chain:
            self._config_of[d] = config
        return config
