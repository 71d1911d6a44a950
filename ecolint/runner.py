"""Linting one file and many: read -> decode -> prefilter -> parse/extract facts -> rules -> suppressions.

``lint_bytes`` is a pure function of (display path, bytes, kind, settings) so runs can be cached and spread
over processes. A file that cannot be read or parsed becomes one ECO9xx finding and the run goes on; an
exception inside one rule on one file becomes ECO903 naming the rule.
"""

from __future__ import annotations

import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Optional, Sequence

from ecolint.config import Settings
from ecolint.facts import FileFacts, Span
from ecolint.rule import Finding, Rule, RuleContext, Severity

# Engine-emitted codes (each has a documentation-only rule module in rules/).
SYNTAX_ERROR = ("ECO900", "syntax-error")
UNREADABLE = ("ECO901", "unreadable-file")
UNUSED_NOQA = ("ECO902", "unused-noqa")
INTERNAL_ERROR = ("ECO903", "internal-error")
TOO_LARGE = ("ECO904", "file-too-large")
TEMPLATED = ("ECO905", "templated-config")

_ENGINE = {c: n for c, n in (SYNTAX_ERROR, UNREADABLE, UNUSED_NOQA, INTERNAL_ERROR, TOO_LARGE, TEMPLATED)}
_ENGINE_SEVERITY = {
    "ECO900": Severity.YELLOW,
    "ECO901": Severity.YELLOW,
    "ECO902": Severity.INFO,
    "ECO903": Severity.RED,
    "ECO904": Severity.INFO,
    "ECO905": Severity.INFO,
}


def engine_finding(code: str, path: str, message: str, line: int = 1, col: int = 1, detail: str = "", end: Optional[tuple[int, int]] = None) -> Finding:
    span = Span(line, col, end[0] if end else line, end[1] if end else col)
    return Finding(code, _ENGINE[code], _ENGINE_SEVERITY[code], message, path, span, detail=detail)


@dataclass
class FileResult:
    path: str
    findings: list[Finding] = field(default_factory=list)
    parsed: bool = False  # False when the prefilter skipped the file
    text: Optional[str] = None


@dataclass
class Engine:
    """The enabled rules plus what they consult; built once per run."""

    settings: Settings
    rules: Sequence[Rule]
    context: RuleContext

    @classmethod
    def create(cls, settings: Settings, extra_selected: Iterable[type[Rule]] = ()) -> "Engine":
        from ecolint.knowledge import Knowledge
        from ecolint.registry import all_rules

        knowledge = Knowledge.load(settings.measurements)
        rules = [r() for r in all_rules() if settings.is_enabled(r.code) and not r.engine_emitted]
        return cls(settings, rules, RuleContext(knowledge, settings.gpu))

    def triggers(self, kind: str) -> tuple[str, ...]:
        tokens: list[str] = []
        for rule in self.rules:
            if kind in rule.kinds:
                tokens.extend(rule.triggers or ("",))  # a rule without triggers disables the prefilter
        return tuple(dict.fromkeys(tokens))


def decode(data: bytes, kind: str) -> str:
    from ecolint.sources import SourceError, front_end

    if b"\x00" in data:
        raise SourceError("file contains NUL bytes (binary file?)", code="ECO901")
    module = front_end(kind)
    if hasattr(module, "decode"):
        return module.decode(data)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SourceError(f"file is not valid UTF-8: {exc}", code="ECO901") from None
    return text


def wants_parse(text: str, kind: str, engine: Engine) -> bool:
    """The text prefilter: only files containing a trigger token of an enabled rule are parsed."""
    tokens = engine.triggers(kind)
    if not tokens:
        return False
    if "" in tokens:
        return True
    if engine.settings.is_enabled(UNUSED_NOQA[0]) and "noqa" in text:
        return True
    return any(t in text for t in tokens)


def lint_bytes(path: str, data: bytes, kind: str, engine: Engine, project_dir: Optional[Path] = None) -> FileResult:
    from ecolint.sources import SourceError

    settings = engine.settings
    result = FileResult(path)
    if len(data) > settings.max_file_size:
        result.findings.append(engine_finding(
            "ECO904", path, f"file is {len(data):,} bytes, over the {settings.max_file_size:,}-byte limit; not analysed (raise max-file-size to include it)"
        ))
        return _filter(result, settings)
    try:
        text = decode(data, kind)
    except SourceError as exc:
        result.findings.append(engine_finding(exc.code, path, exc.message, exc.line, exc.col))
        return _filter(result, settings)
    result.text = text
    if not wants_parse(text, kind, engine):
        return result
    return lint_text(path, text, kind, engine, project_dir)


def lint_text(path: str, text: str, kind: str, engine: Engine, project_dir: Optional[Path] = None) -> FileResult:
    from ecolint.noqa import directive_span, parse_suppressions
    from ecolint.sources import SourceError, front_end

    settings = engine.settings
    result = FileResult(path, parsed=True, text=text)
    try:
        facts = front_end(kind).extract(path, text, settings)
    except SourceError as exc:
        result.findings.append(engine_finding(exc.code, path, exc.message, exc.line, exc.col))
        return _filter(result, settings)
    except RecursionError:
        result.findings.append(engine_finding("ECO900", path, "cannot parse: nesting too deep"))
        return _filter(result, settings)
    except Exception as exc:  # noqa: BLE001 - a front-end bug must not stop the run
        result.findings.append(engine_finding("ECO903", path, f"internal error in the {kind} front end: {type(exc).__name__}: {exc}", detail=traceback.format_exc()))
        return _filter(result, settings)
    _project_facts(facts, path, settings, project_dir)
    findings: list[Finding] = []
    for rule in engine.rules:
        if kind not in rule.kinds:
            continue
        try:
            findings.extend(rule.check(facts, engine.context))
        except Exception as exc:  # noqa: BLE001
            findings.append(engine_finding("ECO903", path, f"internal error in rule {rule.code} ({rule.name}): {type(exc).__name__}: {exc}", detail=traceback.format_exc()))
    findings = _dedupe(findings)
    sup = parse_suppressions(text, kind)
    kept = [f for f in findings if f.code == "ECO903" or not sup.suppresses(f.code, f.span.line)]
    if settings.is_enabled(UNUSED_NOQA[0], path):
        for directive, codes in sup.unused():
            if any(not settings.is_enabled(c, path) for c in codes):
                codes = [c for c in codes if settings.is_enabled(c, path)]
            if not codes:
                continue
            s = directive_span(directive)
            kept.append(engine_finding("ECO902", path, f"unused noqa directive (nothing to suppress for {', '.join(codes)})", s.line, s.col, end=(s.end_line, s.end_col)))
    result.findings = kept
    return _filter(result, settings)


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
    from ecolint.pins import default_dtype_for, transformers_pin

    if settings.transformers_version:
        spec = settings.transformers_version
        if spec[:1].isdigit():
            spec = "==" + spec
        facts.transformers_pin = f"transformers{spec} ([tool.ecolint] transformers-version)"
        facts.transformers_default_dtype = default_dtype_for(spec)
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


def display_path(path: Path) -> str:
    """How a path is shown in reports: relative to the working directory when below it, else as given."""
    import os

    try:
        rel = os.path.relpath(path)
    except ValueError:
        rel = str(path)
    return Path(rel).as_posix() if not rel.startswith("..") else path.as_posix()


def lint_paths(paths: list[Path], engine: Engine, force_exclude: bool = False) -> RunResult:
    """Discover and lint files; findings sorted by file, line, column, code."""
    from ecolint.discovery import discover

    run = RunResult()
    for cand in discover(paths, engine.settings, force_exclude=force_exclude):
        if cand.kind is None:
            continue
        run.files_checked += 1
        display = display_path(cand.path)
        try:
            data = cand.path.read_bytes()
        except IsADirectoryError:
            run.findings.append(engine_finding("ECO901", display, "is a directory, not a file"))
            continue
        except OSError as exc:
            run.findings.append(engine_finding("ECO901", display, f"cannot read file: {exc.strerror or exc}"))
            continue
        result = lint_bytes(display, data, cand.kind, engine)
        if result.text is not None:
            run.texts[display] = result.text
        run.findings.extend(result.findings)
    run.findings.sort(key=Finding.sort_key)
    return run
