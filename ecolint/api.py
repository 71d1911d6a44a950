"""The library interface: lint or fix files, directories and in-memory content, each file under the settings
that govern it (see :class:`~ecolint.config.Resolver`). The command line is a thin layer over these functions:
it turns options into a :class:`Resolver` and an :class:`Options`, calls one of them, and reports the
:class:`Result`.

    from ecolint.api import lint_paths
    result = lint_paths([Path("src")])
    for finding in result.findings: ...
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Optional, Sequence

from ecolint.config import Resolver, Settings
from ecolint.errors import UsageError
from ecolint.rule import Finding

if TYPE_CHECKING:  # pragma: no cover
    from ecolint.fix import FixRun
    from ecolint.runner import Engine, Engines, RunResult

__all__ = ["Options", "Result", "UsageError", "fix_paths", "fix_result", "lint_bytes", "lint_paths"]


@dataclass(frozen=True)
class Options:
    """How a run goes, beyond the settings: none of these change which findings a file has."""

    force_exclude: bool = False  # apply exclude patterns and .gitignore to files named explicitly too
    jobs: Optional[int] = None  # worker processes; None: the run settings' ``jobs``, else one per CPU
    cache: bool = True  # read and write the results cache
    cache_dir: Optional[Path] = None  # None: each configuration's own (``cache-dir`` or its project root)
    output: Optional[Path] = None  # the report file: refused as an input
    unsafe_fixes: bool = False  # fixes: also apply unsafe fixes
    write: bool = True  # fixes: write them (False: only compute them, e.g. for a diff)


@dataclass
class Result:
    """What a lint or fix run found and did."""

    findings: list[Finding]
    run_settings: Settings  # the settings of the run as a whole (the working directory's, or --config's)
    files_checked: int = 0
    texts: dict[str, str] = field(default_factory=dict)  # display path -> current text (code frames)
    settings: dict[str, Settings] = field(default_factory=dict)  # display path -> the settings governing it
    fixed: int = 0  # fixes applied (or, without writing, that would be)
    changed: int = 0  # files changed (or that would be)
    errors: list[str] = field(default_factory=list)  # files that could not be fixed or written, and why
    diff: str = ""  # the fixes as a unified diff
    content: Optional[bytes] = None  # lint_bytes: the content after fixes (the input when nothing changed)
    _run: "Optional[tuple[RunResult, Engines]]" = field(default=None, repr=False, compare=False)  # for fix_result

    def settings_for(self, display: str) -> Settings:
        return self.settings.get(display, self.run_settings)

    @property
    def internal_error(self) -> bool:
        """A file could not be fixed or written, or something failed inside ecolint (ECO903)."""
        return bool(self.errors) or any(f.code == "ECO903" for f in self.findings)

    def fails(self) -> bool:
        """A finding at or above the ``fail-on`` severity of the settings governing its file."""
        return any(f.severity.rank >= self.settings_for(f.filename).fail_on.rank for f in self.findings)


def lint_paths(paths: Sequence[Path], resolver: Optional[Resolver] = None, options: Options = Options()) -> Result:
    """Lint files and directories (directories are walked); ``resolver``: default, the files' own
    configurations with no command-line overrides."""
    resolver = resolver or Resolver()
    run, engines = _lint(paths, resolver, options)
    result = _result(run, engines)
    result._run = (run, engines)
    return result


def fix_paths(paths: Sequence[Path], resolver: Optional[Resolver] = None, options: Options = Options()) -> Result:
    """Lint, then fix every file with an applicable fix (written unless ``options.write`` is False); the
    findings are those left after fixing."""
    return fix_result(lint_paths(paths, resolver, options), options)


def fix_result(linted: Result, options: Options = Options()) -> Result:
    """Fix the files of a :func:`lint_paths` result (the second half of :func:`fix_paths`, for a caller that
    has something to do in between, such as opening the report file). Edits are recomputed from each file's
    text, never taken from the results cache."""
    if linted._run is None:
        raise ValueError("fix_result takes the result of lint_paths")
    run, engines = linted._run
    fixes = _fix_run(run, engines, options)
    result = _result(run, engines)
    result.findings, result.fixed, result.errors = fixes.findings, fixes.fixed, fixes.errors
    result.changed, result.diff = len(fixes.changed), fixes.diff()
    return result


def lint_bytes(name: Path, data: bytes, resolver: Optional[Resolver] = None, options: Options = Options(), fix: bool = False) -> Result:
    """Lint ``data`` as the file ``name`` (which need not exist: it decides the file type and the settings);
    with ``fix``, apply the fixes to the content (``result.content``) rather than to any file."""
    from ecolint.fix import applicable, fix_text, source_encoding, unified_diff
    from ecolint.runner import Engines, display_path
    from ecolint.runner import lint_bytes as lint_one
    from ecolint.sources import kind_for

    resolver = resolver or Resolver()
    engines = Engines(resolver)
    display = display_path(name)
    settings = resolver.for_file(name)
    kind = kind_for(name)
    result = Result([], resolver.run_settings, settings={display: settings}, content=data)
    if kind is None or (options.force_exclude and _excluded(name, resolver)):
        return result
    engine = engines.for_settings(settings)
    linted = lint_one(display, data, kind, engine)
    result.files_checked = 1
    result.findings, text = linted.findings, linted.text
    if text is None:
        return result
    result.texts[display] = text
    if not fix or not any(applicable(f.fix, options.unsafe_fixes) for f in result.findings):
        return result
    fixed = fix_text(display, text, kind, engine, options.unsafe_fixes, findings=result.findings)
    if fixed.error:
        result.errors.append(fixed.error)
        return result
    if not fixed.changed:
        return result
    try:
        content = fixed.fixed.encode(source_encoding(data, kind))
    except UnicodeEncodeError as exc:
        result.errors.append(f"the fixed source cannot be encoded ({exc.reason}); left unchanged")
        return result
    result.content, result.findings, result.fixed, result.changed = content, fixed.findings, fixed.applied, 1
    result.texts[display] = fixed.fixed
    result.diff = unified_diff(text, fixed.fixed, display, bom=data.startswith(b"\xef\xbb\xbf"))
    return result


# -- helpers -------------------------------------------------------------------------------------------------
def _lint(paths: Sequence[Path], resolver: Resolver, options: Options) -> "tuple[RunResult, Engines]":
    from ecolint.runner import Engines, OutputIsInput
    from ecolint.runner import lint_paths as run_paths

    jobs = options.jobs if options.jobs is not None else resolver.run_settings.jobs
    if jobs is not None and jobs < 0:
        raise UsageError("--jobs must be 0 (one per CPU) or more")
    engines = Engines(resolver)
    try:
        run = run_paths(list(paths), engines, options.force_exclude, jobs=jobs or None, cache=_caches(options), output=options.output)
    except OutputIsInput as exc:
        raise UsageError(str(exc)) from None
    return run, engines


def _caches(options: Options):
    """Each engine's results cache: in ``options.cache_dir``, else where its own settings put it (a
    configuration file may only put it inside its own project)."""
    if not options.cache:
        return None
    from ecolint.cache import ResultsCache

    return lambda engine: ResultsCache.for_engine(engine, options.cache_dir)


def _fix_run(run: "RunResult", engines: "Engines", options: Options) -> "FixRun":
    """:func:`ecolint.fix.fix_run` for the files of each engine, the results merged in path order."""
    from ecolint.fix import FixRun, fix_run
    from ecolint.runner import RunResult

    groups: dict[int, tuple["Engine", list[Finding]]] = {}
    for f in run.findings:
        engine = run.engines.get(f.filename) or engines.for_settings(engines.run_settings)
        groups.setdefault(id(engine), (engine, []))[1].append(f)
    findings: list[Finding] = []
    results = []
    fixed = 0
    for engine, group in groups.values():
        part = RunResult(group, run.texts, run.files_checked, run.cached, run.engines)
        fixes = fix_run(part, engine, unsafe=options.unsafe_fixes, write=options.write)
        findings.extend(fixes.findings)
        results.extend(fixes.results)
        fixed += fixes.fixed
    findings.sort(key=Finding.sort_key)
    results.sort(key=lambda r: r.path)
    return FixRun(findings, results, fixed)


def _result(run: "RunResult", engines: "Engines") -> Result:
    return Result(
        run.findings,
        engines.run_settings,
        files_checked=run.files_checked,
        texts=run.texts,
        settings={display: engine.settings for display, engine in run.engines.items()},
    )


def _excluded(name: Path, resolver: Resolver) -> bool:
    from ecolint.discovery import discover

    return not list(discover([name], resolver, force_exclude=True))
