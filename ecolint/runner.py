"""Linting one file and many: read -> decode -> prefilter -> parse/extract facts -> rules -> suppressions.

``lint_bytes`` is a pure function of (display path, bytes, kind, settings) so runs can be cached and spread
over processes. A file that cannot be read or parsed becomes one ECO9xx finding and the run goes on; an
exception inside one rule on one file becomes ECO903 naming the rule.
"""

from __future__ import annotations

import os
import traceback
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Optional, Sequence, Union

from ecolint.config import Resolver, Settings
from ecolint.facts import FileFacts, GpuHint, Span
from ecolint.files import display_path
from ecolint.rule import Applicability, Finding, Fix, Rule, RuleContext

if TYPE_CHECKING:  # pragma: no cover
    from ecolint.cache import ResultsCache
    from ecolint.knowledge import Knowledge
    from ecolint.sources.frontend import FrontEnd, Placement

# The code of the engine-emitted rule that reports unused suppressions (its name, severity and docs live on
# the rule class in rules/unused_noqa.py, like every ECO9xx rule's).
UNUSED_NOQA = "ECO902"


@lru_cache(maxsize=None)
def engine_rules() -> dict[str, type[Rule]]:
    """The engine-emitted rules (ECO9xx) by code: the rule classes are the one home of their metadata."""
    from ecolint.registry import builtin_rules

    return {r.code: r for r in builtin_rules() if r.engine_emitted}


def engine_finding(code: str, path: str, message: str, line: int = 1, col: int = 1, detail: str = "", end: Optional[tuple[int, int]] = None) -> Finding:
    rule = engine_rules()[code]
    span = Span(line, col, end[0] if end else line, end[1] if end else col)
    return Finding(code, rule.name, rule.severity, message, path, span, detail=detail)



def place_findings(fe: "FrontEnd", findings: list[Finding], facts: FileFacts) -> list[Finding]:
    """``findings`` (spans in the front end's analysed text) as reported for the file: moved by the front end's
    :class:`~ecolint.sources.frontend.Placement` (span, fix edits, related locations in the file, message); a fix
    whose edits cannot be placed becomes advice; the placement's own engine findings are added."""
    placement = fe.placement(facts)
    if placement is None:
        return findings
    out = [_placed(f, placement) for f in findings]
    for code, message, span in placement.errors():
        error = engine_finding(code, facts.path, message, span.line, span.col)
        error.span = span
        out.append(error)
    return out


def _placed(f: Finding, placement: "Placement") -> Finding:
    if f.span.cell is not None:  # already in the file's positions
        return f
    fix = f.fix
    if fix is not None and fix.edits:
        try:
            edits = placement.edits(fix.edits)
        except ValueError as why:
            fix = Fix(Applicability.DISPLAY_ONLY, f"{fix.message} (not applied automatically: {why})")
        else:
            fix = fix if edits is fix.edits else replace(fix, edits=edits)
    span = placement.span(f.span)
    related = [(path, placement.span(sp) if path == f.filename else sp, what) for path, sp, what in f.related]
    message = placement.message(f.message)
    if fix is f.fix and span == f.span and related == f.related and message == f.message:
        return f
    return replace(f, span=span, fix=fix, related=related, message=message)

@dataclass
class FileResult:
    path: str
    findings: list[Finding] = field(default_factory=list)
    parsed: bool = False  # False when the prefilter skipped the file
    text: Optional[str] = None
    consulted: Optional[dict] = None  # what the project model was asked for the file (see ecolint.project.model.Trace)


@dataclass
class Engine:
    """The enabled rules plus what they consult, for one set of settings (see :class:`Engines` for a run
    whose files are governed by several)."""

    settings: Settings
    rules: Sequence[Rule]
    context: RuleContext
    prefilter: bool = True  # False: every readable file goes through its front end (the reference behaviour)

    @classmethod
    def create(cls, settings: Settings, knowledge: "Optional[Knowledge]" = None) -> "Engine":
        """``knowledge``: the measurement tables of ``settings.measurements`` when already loaded."""
        from ecolint.knowledge import Knowledge
        from ecolint.registry import all_rules

        if knowledge is None:
            knowledge = Knowledge.load(settings.measurements)
        rules = [r() for r in all_rules() if settings.is_enabled(r.code) and not r.engine_emitted]
        return cls(settings, rules, RuleContext(knowledge, settings.gpu))


class Engines:
    """The engines of one run, one per distinct settings: a :class:`~ecolint.config.Resolver` gives each file
    the settings that govern it, and files governed by equal settings share one engine. The rules are
    instantiated once per engine and the measurement tables loaded once per distinct list of tables."""

    def __init__(self, resolver: Optional[Resolver] = None, prefilter: bool = True, fixed: Optional[Engine] = None):
        if (resolver is None) == (fixed is None):
            raise ValueError("Engines needs a resolver or one fixed engine")
        self.resolver = resolver
        self.prefilter = prefilter
        self._fixed = fixed
        self._by_settings: dict[Settings, Engine] = {}
        self._knowledge: dict[tuple[Path, ...], "Knowledge"] = {}

    @classmethod
    def of(cls, engine: Engine) -> "Engines":
        """One engine for every file (its settings govern them all)."""
        return cls(prefilter=engine.prefilter, fixed=engine)

    @property
    def discovery_settings(self) -> "Union[Settings, Resolver]":
        """What :func:`~ecolint.discovery.discover` judges paths by."""
        if self._fixed is not None:
            return self._fixed.settings
        assert self.resolver is not None
        return self.resolver

    @property
    def run_settings(self) -> Settings:
        """The settings of what belongs to the run as a whole (see :attr:`Resolver.run_settings`)."""
        if self._fixed is not None:
            return self._fixed.settings
        assert self.resolver is not None
        return self.resolver.run_settings

    def for_file(self, path: Path) -> Engine:
        if self._fixed is not None:
            return self._fixed
        assert self.resolver is not None
        return self.for_settings(self.resolver.for_file(path))

    def for_settings(self, settings: Settings) -> Engine:
        engine = self._by_settings.get(settings)
        if engine is None:
            from ecolint.knowledge import Knowledge

            knowledge = self._knowledge.get(settings.measurements)
            if knowledge is None:
                knowledge = self._knowledge[settings.measurements] = Knowledge.load(settings.measurements)
            engine = Engine.create(settings, knowledge)
            engine.prefilter = self.prefilter
            self._by_settings[settings] = engine
        return engine


def decode(data: bytes, kind: str) -> str:
    from ecolint.sources import SourceError, front_end

    if b"\x00" in data:
        if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
            raise SourceError("file is UTF-16 or UTF-32 encoded (byte-order mark); only UTF-8 is read", code="ECO901")
        raise SourceError("file contains NUL bytes (binary file?)", code="ECO901")
    return front_end(kind).decode(data)


def wants_parse(text: str, kind: str, engine: Engine, gpu_known: bool = False) -> bool:
    """The prefilter (see :mod:`ecolint.prefilter`): False when no enabled rule can report on ``text``."""
    if not engine.prefilter:
        return True
    from ecolint.prefilter import wants_parse as _wants

    return _wants(text, kind, engine, gpu_known)


def read_limit(kind: Optional[str], settings: Settings) -> int:
    """How many bytes a file of ``kind`` may hold on disk to be read (max-file-size, or more for a kind whose
    limit applies to the part it analyses: a notebook's code cells)."""
    from ecolint.sources import front_end

    if kind is None:
        return settings.max_file_size
    return front_end(kind).read_limit(settings.max_file_size)


def too_large(path: str, size: int, limit: int, what: str = "file is") -> Finding:
    return engine_finding("ECO904", path, f"{what} {size:,} bytes, over the {limit:,}-byte limit; not analysed (raise max-file-size to include it)")


def lint_bytes(path: str, data: bytes, kind: str, engine: Engine, project_dir: Optional[Path] = None) -> FileResult:
    """The findings of one file; ``result.consulted`` records what the project model was asked for it (the
    results cache serves the findings again only while the answers stay the same)."""
    from ecolint.heap import one_file
    from ecolint.project import tracing
    from ecolint.sources.python_frontend import forget_tree

    with tracing() as trace:
        with one_file():  # (the collector walks the file's objects once, at the end: see ecolint.heap)
            try:
                result = _lint_bytes(path, data, kind, engine, project_dir)
            finally:
                forget_tree()  # (not kept into the next file)
        result.consulted = trace.to_json()
    return result


def _lint_bytes(path: str, data: bytes, kind: str, engine: Engine, project_dir: Optional[Path]) -> FileResult:
    from ecolint.sources import SourceError, front_end

    settings = engine.settings
    result = FileResult(path)
    limit = read_limit(kind, settings)
    if len(data) > limit:
        result.findings.append(too_large(path, len(data), limit))
        return _filter(result, settings)
    try:
        text = decode(data, kind)
        analysed = front_end(kind).analysed_size(data, text)
    except SourceError as exc:
        result.findings.append(engine_finding(exc.code, path, exc.message, exc.line, exc.col))
        return _filter(result, settings)
    if analysed is not None and analysed > settings.max_file_size:
        result.findings.append(too_large(path, analysed, settings.max_file_size, "its code cells hold"))
        return _filter(result, settings)
    result.text = text
    if not wants_parse(text, kind, engine) and not _project_keeps(path, text, kind, engine):
        return result
    return lint_text(path, text, kind, engine, project_dir)


def lint_text(path: str, text: str, kind: str, engine: Engine, project_dir: Optional[Path] = None) -> FileResult:
    from ecolint.noqa import directive_span, parse_suppressions
    from ecolint.sources import SourceError, front_end

    settings = engine.settings
    result = FileResult(path, parsed=True, text=text)
    fe = front_end(kind)
    try:
        from ecolint.project import active

        with active(path, settings):
            facts = fe.extract(path, text, settings)
            if kind == "yaml":  # a kustomize patch is read with the manifest it patches
                from ecolint.project.kustomize import overlay_facts

                facts = overlay_facts(path, text, facts, settings)[0]
        from ecolint.project.companions import add_hint

        companion = add_hint(facts, kind, settings)  # the GPU a sibling file of the deployment names
    except SourceError as exc:
        result.findings.append(engine_finding(exc.code, path, exc.message, exc.line, exc.col))
        return _filter(result, settings)
    except RecursionError:
        result.findings.append(engine_finding("ECO900", path, "cannot parse: nesting too deep"))
        return _filter(result, settings)
    except Exception as exc:  # noqa: BLE001 - a front-end bug must not stop the run
        from ecolint.sources import caused_by_recursion

        if caused_by_recursion(exc):  # an error raised while unwinding a RecursionError: still too deep
            result.findings.append(engine_finding("ECO900", path, "cannot parse: nesting too deep"))
            return _filter(result, settings)
        result.findings.append(engine_finding("ECO903", path, f"internal error in the {kind} front end: {type(exc).__name__}: {exc}", detail=traceback.format_exc()))
        return _filter(result, settings)
    _project_facts(facts, path, settings, project_dir)
    findings: list[Finding] = []
    for rule in engine.rules:  # every rule sees every file's facts (a rule reads facts, not syntax)
        try:
            findings.extend(_checked(rule, facts, engine.context, companion))
        except Exception as exc:  # noqa: BLE001
            findings.append(engine_finding("ECO903", path, f"internal error in rule {rule.code} ({rule.name}): {type(exc).__name__}: {exc}", detail=traceback.format_exc()))
    findings = _dedupe(findings)
    if kind == "yaml":
        from ecolint.project.kustomize import drop_foreign

        findings = drop_foreign(findings)
    _relate(findings, facts)
    sup = parse_suppressions(fe.analysed_text(text, facts), kind)
    kept = [f for f in findings if f.code == "ECO903" or not sup.suppresses(f.code, f.span.line)]
    if settings.is_enabled(UNUSED_NOQA, path):
        for directive, codes in sup.unused():
            if any(not settings.is_enabled(c, path) for c in codes):
                codes = [c for c in codes if settings.is_enabled(c, path)]
            if not codes:
                continue
            s = directive_span(directive)
            kept.append(engine_finding("ECO902", path, f"unused noqa directive (nothing to suppress for {', '.join(codes)})", s.line, s.col, end=(s.end_line, s.end_col)))
    result.findings = place_findings(fe, kept, facts)
    if facts.release is not None:
        facts.release()  # (the findings are made: free the syntax tree now, see FileFacts.release)
    return _filter(result, settings)


def _checked(rule: Rule, facts: FileFacts, ctx: RuleContext, companion: Optional[GpuHint]) -> list[Finding]:
    """The rule's findings; those it made after asking for a GPU that a companion file names say so."""
    if companion is None or ctx.gpu:
        return list(rule.check(facts, ctx))
    from ecolint.project.companions import name_companion

    out = []
    before = companion.reads
    for f in rule.check(facts, ctx):
        if companion.reads > before:  # the rule asked for the GPU before making this finding
            name_companion(f, companion)
        out.append(f)
    return out


def _project_keeps(path: str, text: str, kind: str, engine: Engine) -> bool:
    """The prefilter's answer for what a file's own text cannot show: a call into a project module that
    generates (see :func:`ecolint.project.keeps_file`), a kustomize JSON patch (the target holds the words), or
    a rule that needs a GPU when only a companion file names one (see :mod:`ecolint.project.companions`)."""
    from ecolint.project import keeps_file
    from ecolint.project.companions import companion_hint, may_have_companion

    settings = engine.settings
    if keeps_file(path, text, kind, settings):
        return True
    if kind == "yaml":
        from ecolint.project.kustomize import keeps_patch

        if keeps_patch(path, text, settings):
            return True
    if not may_have_companion(path, kind, settings):  # (cheap, and the usual answer: no question of a GPU)
        return False
    return wants_parse(text, kind, engine, gpu_known=True) and companion_hint(path, kind, settings) is not None


def _relate(findings: list[Finding], facts: FileFacts) -> None:
    """Give each finding at a use of a value from another file the place that value is written (related
    locations; see :mod:`ecolint.project`)."""
    if not facts.imported_values:
        return
    for f in findings:
        for use, other, where, what in facts.imported_values:
            if _overlaps(f.span, use) and (other, where, what) not in f.related:
                f.related.append((other, where, what))


def _overlaps(a: Span, b: Span) -> bool:
    return (a.line, a.col) < (b.end_line, b.end_col) and (b.line, b.col) < (a.end_line, a.end_col)


def _filter(result: FileResult, settings: Settings) -> FileResult:
    result.findings = sorted((f for f in result.findings if settings.is_enabled(f.code, result.path) or f.code == "ECO903"), key=Finding.sort_key)
    return result


def _dedupe(findings: list[Finding]) -> list[Finding]:
    seen: set[tuple] = set()
    out = []
    for f in findings:
        key = (f.code, f.span, f.message)
        if key in seen:
            continue
        seen.add(key)
        out.append(f)
    return out


def _project_facts(facts: FileFacts, path: str, settings: Settings, project_dir: Optional[Path]) -> None:
    from ecolint.pins import transformers_pin
    from ecolint.versions import default_dtype_for

    if settings.transformers_version:
        spec = settings.transformers_version
        if spec[:1].isdigit():
            spec = "==" + spec
        facts.transformers_pin = f"transformers{spec} ([tool.ecolint] transformers-version)"
        facts.transformers_default_dtype = default_dtype_for(spec)
        return
    if facts.transformers_install is not None:  # the file installs its own transformers
        spec, dtype, where = facts.transformers_install
        facts.transformers_pin = f"transformers{spec or ' (unpinned: the newest release)'} ({where})"
        facts.transformers_default_dtype = dtype
        return
    directory = project_dir or Path(path).resolve().parent
    spec, where = transformers_pin(directory)
    if where:
        where = display_path(Path(where))
        facts.transformers_pin = f"transformers{spec} ({where})"
        facts.transformers_default_dtype = default_dtype_for(spec) if spec else None


@dataclass
class RunResult:
    findings: list[Finding] = field(default_factory=list)
    texts: dict[str, str] = field(default_factory=dict)  # display path -> decoded text (code frames, fixes)
    files_checked: int = 0
    cached: set[str] = field(default_factory=set)  # display paths whose findings came from the results cache
    engines: dict[str, Engine] = field(default_factory=dict)  # display path -> the engine of its settings

    def settings_for(self, display: str, default: Settings) -> Settings:
        """The settings that governed the file shown as ``display`` (``default`` for a file not linted)."""
        engine = self.engines.get(display)
        return engine.settings if engine is not None else default


class OutputIsInput(ValueError):
    """The report file named on the command line is one of the files to lint."""


def _real_path(path: Path, real_dirs: dict[Path, str]) -> str:
    """The file ``path`` names, symlinks resolved (each directory resolved once per run)."""
    if path.is_symlink():
        return os.path.realpath(path)
    parent = real_dirs.get(path.parent)
    if parent is None:
        parent = real_dirs[path.parent] = os.path.realpath(path.parent)
    return os.path.join(parent, path.name)


def _identity(path: Path) -> Optional[tuple[int, int]]:
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return None
    return st.st_dev, st.st_ino


def default_jobs() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


CacheFor = Callable[[Engine], "Optional[ResultsCache]"]  # the results cache of an engine's settings


def lint_paths(
    paths: list[Path],
    engine: Union[Engine, Engines],
    force_exclude: bool = False,
    *,
    jobs: Optional[int] = 1,
    cache: "Union[ResultsCache, CacheFor, None]" = None,
    output: Optional[Path] = None,
) -> RunResult:
    """Discover and lint files; findings sorted by file, line, column, code.

    ``engine``: one :class:`Engine` for every file, or the :class:`Engines` that give each file the engine of
    the settings governing it. ``jobs``: worker processes (None or 0: one per CPU, and never more than the
    CPUs); the result is the same for any value. ``cache``: a :class:`~ecolint.cache.ResultsCache`, or a
    function giving each engine's (None: no cache), consulted and refreshed per file; ``run.cached`` names the
    files it answered. ``run.texts`` holds the decoded text of each file that has findings (code frames,
    fixes). ``output``: the file the report will be written to; if it is one of the files to lint,
    :class:`OutputIsInput` is raised before anything is written.
    """
    from ecolint.heap import settled

    with settled():  # (what outlives a file is left out of later collections: see ecolint.heap)
        return _lint_paths(paths, engine, force_exclude, jobs=jobs, cache=cache, output=output)


def _lint_paths(
    paths: list[Path],
    engine: Union[Engine, Engines],
    force_exclude: bool,
    *,
    jobs: Optional[int],
    cache: "Union[ResultsCache, CacheFor, None]",
    output: Optional[Path],
) -> RunResult:
    from ecolint import files
    from ecolint.discovery import discover
    from ecolint.project.model import forget
    from ecolint.sources import front_end

    forget()  # modules read by an earlier run in this process may have changed
    engines = engine if isinstance(engine, Engines) else Engines.of(engine)
    cache_for = _cache_function(cache)
    caches: dict[int, "Optional[ResultsCache]"] = {}  # id(engine) -> its cache
    used: dict[int, int] = {}  # id(engine) -> its index in ``run_engines``
    run_engines: list[Engine] = []
    run = RunResult()
    pending: list[tuple[str, str, bytes, str, Optional[str], int]] = []  # display, real path, data, kind, cache key, engine
    results: list[tuple[str, bytes, str, list[Finding]]] = []
    report = _identity(output) if output is not None else None
    real_dirs: dict[Path, str] = {}
    for cand in discover(paths, engines.discovery_settings, force_exclude=force_exclude):
        if cand.kind is None:
            continue
        if report is not None and _identity(cand.path) == report:
            raise OutputIsInput(f"the output file {output} is one of the files to lint; refusing to overwrite it with the report")
        run.files_checked += 1
        display = display_path(cand.path)
        eng = engines.for_file(cand.path)
        run.engines[display] = eng
        settings = eng.settings
        try:
            # Only regular files are read (a FIFO or /dev/zero must not hang the run), and a file over
            # max-file-size is refused from its size, without being read.
            data = files.read_regular(cand.path, read_limit(cand.kind, settings))
        except IsADirectoryError:
            run.findings.append(engine_finding("ECO901", display, "is a directory, not a file"))
            continue
        except files.FileTooLarge as exc:
            if front_end(cand.kind).oversize_is_data and not cand.explicit:
                continue
            run.findings.extend(_filter(FileResult(display, [too_large(display, exc.size, exc.limit)]), settings).findings)
            continue
        except OSError as exc:
            run.findings.append(engine_finding("ECO901", display, f"cannot read file: {exc.strerror or exc}"))
            continue
        if id(eng) not in used:
            used[id(eng)] = len(run_engines)
            run_engines.append(eng)
            caches[id(eng)] = cache_for(eng)
        file_cache = caches[id(eng)]
        real, key = "", None
        if file_cache is not None:
            real = _real_path(cand.path, real_dirs)
            key = file_cache.file_key(display, real, cand.kind, data, eng)
            hit = file_cache.get(real, key)
            if hit is not None:
                results.append((display, data, cand.kind, hit))
                run.cached.add(display)
                continue
        pending.append((display, real, data, cand.kind, key, used[id(eng)]))
    tasks = [(display, data, kind, index) for display, _, data, kind, _, index in pending]
    for (display, real, data, kind, key, index), (findings, consulted) in zip(pending, _lint_many(tasks, run_engines, jobs), strict=True):
        file_cache = caches[id(run_engines[index])]
        if file_cache is not None and key is not None:
            file_cache.put(real, key, findings, consulted)
        results.append((display, data, kind, findings))
    for file_cache in caches.values():
        if file_cache is not None:
            file_cache.save()
    for display, data, kind, findings in results:
        if findings:
            run.findings.extend(findings)
            text = _text_for(data, kind)
            if text is not None:
                run.texts[display] = text
    run.findings.sort(key=Finding.sort_key)
    return run


def _cache_function(cache: "Union[ResultsCache, CacheFor, None]") -> CacheFor:
    if cache is None:
        return lambda engine: None
    if callable(cache):
        return cache
    return lambda engine: cache


def _text_for(data: bytes, kind: str) -> Optional[str]:
    from ecolint.sources import SourceError

    try:
        return decode(data, kind)
    except SourceError:
        return None


# -- parallel execution -------------------------------------------------------------------------------------
Task = tuple[str, bytes, str, int]  # display path, content, kind, index of the file's engine in the run
_WORKER_ENGINES: Sequence[Engine] = ()
_PARALLEL_MIN_FILES = 4
_PARALLEL_MIN_BYTES = 256 * 1024
WORKER_DIED = "worker process died while linting this file (killed, or out of memory?); its findings are missing"


def worker_count(jobs: Optional[int], files: int) -> int:
    """Worker processes for ``files`` files: ``jobs`` (None or 0: one per CPU), lowered to the CPUs this process
    may use and to the number of files."""
    cpus = default_jobs()
    return max(1, min(jobs or cpus, cpus, files))


Done = tuple[list[Finding], Optional[dict]]  # a file's findings and what the project model was asked for it


def _lint_one(task: Task) -> Done:
    display, data, kind, index = task
    engine = _WORKER_ENGINES[index]
    try:
        result = lint_bytes(display, data, kind, engine)
        return result.findings, result.consulted
    except Exception as exc:  # noqa: BLE001 - one file must not stop the run
        return [engine_finding("ECO903", display, f"internal error: {type(exc).__name__}: {exc}", detail=traceback.format_exc())], None


def _work(task: Task) -> Done:
    """What a worker runs (looks ``_lint_one`` up at call time)."""
    return _lint_one(task)


def _init_worker(engines: Optional[Sequence[Engine]], parent: int) -> None:
    global _WORKER_ENGINES
    if engines is not None:
        _WORKER_ENGINES = engines
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent reports the interrupt
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # not the parent's handler, inherited through fork
    _die_with_parent(parent)


def _die_with_parent(parent: int) -> None:
    """End this worker when its parent ends, however the parent ends (SIGKILL included): the kernel's
    parent-death signal on Linux, else a thread that watches the parent process id."""
    if not _parent_death_signal():
        import threading

        threading.Thread(target=_watch_parent, args=(parent,), name="ecolint-parent-watch", daemon=True).start()
    if os.getppid() != parent:  # the parent was gone before the signal was armed
        os._exit(1)


def _parent_death_signal() -> bool:
    """Ask Linux to send SIGTERM to this process when its parent dies (``prctl(PR_SET_PDEATHSIG)``)."""
    import sys

    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes
        import signal

        pr_set_pdeathsig = 1
        return ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, int(signal.SIGTERM), 0, 0, 0) == 0
    except (ImportError, OSError, AttributeError):
        return False


def _watch_parent(parent: int) -> None:
    import time

    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(1)


class _Workers:
    """The process pools of one run. Leaving the block normally waits for them; an exception (an interrupt, an
    error) cancels what is queued and ends the workers; SIGTERM ends the workers, then the run, as the signal
    would have."""

    def __init__(self, engines: Sequence[Engine]):
        import multiprocessing
        from multiprocessing.context import BaseContext

        self.context: BaseContext
        if "fork" in multiprocessing.get_all_start_methods():
            self.context = multiprocessing.get_context("fork")
            self.initargs: tuple = (None, os.getpid())  # the engines are inherited by the forked workers
        else:  # pragma: no cover - platforms without fork
            self.context = multiprocessing.get_context("spawn")
            self.initargs = (list(engines), os.getpid())
        self.pools: list = []
        self._previous_sigterm: Any = None  # the SIGTERM handler to restore

    def pool(self, size: int):
        from concurrent.futures import ProcessPoolExecutor

        pool = ProcessPoolExecutor(max_workers=size, mp_context=self.context, initializer=_init_worker, initargs=self.initargs)
        self.pools.append(pool)
        return pool

    def kill(self) -> None:
        for pool in self.pools:
            for process in list((getattr(pool, "_processes", None) or {}).values()):
                try:
                    process.terminate()
                except (OSError, ValueError, AttributeError):
                    pass

    def _on_sigterm(self, signum, frame) -> None:
        import signal

        self.kill()
        previous = self._previous_sigterm
        signal.signal(signal.SIGTERM, previous)
        if callable(previous):
            previous(signum, frame)
        else:
            os.kill(os.getpid(), signal.SIGTERM)  # the default action: end with the signal (exit status 143)

    def __enter__(self) -> "_Workers":
        import signal
        import threading

        if threading.current_thread() is threading.main_thread():
            previous = signal.getsignal(signal.SIGTERM)
            if previous not in (signal.SIG_IGN, None):
                self._previous_sigterm = previous
                signal.signal(signal.SIGTERM, self._on_sigterm)
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        import signal

        try:
            if exc_type is not None:
                self.kill()
            for pool in self.pools:
                pool.shutdown(wait=exc_type is None, cancel_futures=True)
        finally:
            if self._previous_sigterm is not None:
                signal.signal(signal.SIGTERM, self._previous_sigterm)
                self._previous_sigterm = None


def _lint_many(tasks: list[Task], engines: Sequence[Engine], jobs: Optional[int]) -> list[Done]:
    """Findings (and what the project model was asked) per task, in task order; spread over processes when there is enough work.

    A worker that dies (killed, out of memory) does not stop the run: the files it left unfinished are linted
    again one at a time, each in a fresh worker, and a file that kills its worker again gets one ECO903."""
    global _WORKER_ENGINES
    workers = worker_count(jobs, len(tasks))
    total = sum(len(t[1]) for t in tasks)
    _WORKER_ENGINES = engines  # for the in-process path, and inherited by forked workers (nothing pickled)
    try:
        if workers <= 1 or len(tasks) < _PARALLEL_MIN_FILES or total < _PARALLEL_MIN_BYTES:
            return [_lint_one(t) for t in tasks]
        # Largest files first so that no worker is left with a big file at the end.
        order = sorted(range(len(tasks)), key=lambda i: -len(tasks[i][1]))
        out: list[Optional[Done]] = [None] * len(tasks)
        with _Workers(engines) as pools:
            _run_pool(pools.pool(workers), tasks, order, out)
            _run_isolated(pools, tasks, [i for i in order if out[i] is None], out)
        return [o if o is not None else ([], None) for o in out]
    finally:
        _WORKER_ENGINES = ()


def _run_pool(pool, tasks: list[Task], order: list[int], out: list) -> None:
    """Fill ``out[i]`` for every task the pool finishes; tasks lost with a dead worker stay None."""
    from concurrent.futures.process import BrokenProcessPool

    futures = [(i, pool.submit(_work, tasks[i])) for i in order]
    for i, future in futures:
        try:
            out[i] = future.result()
        except BrokenProcessPool:
            pass


def _run_isolated(pools: _Workers, tasks: list[Task], indices: list[int], out: list) -> None:
    """Lint each of ``indices`` alone in a one-worker pool; a file whose worker dies gets ECO903."""
    from concurrent.futures.process import BrokenProcessPool

    pool = None
    for i in indices:
        pool = pool or pools.pool(1)
        try:
            out[i] = pool.submit(_work, tasks[i]).result()
        except BrokenProcessPool:
            out[i] = ([engine_finding("ECO903", tasks[i][0], WORKER_DIED)], None)
            pool = None
