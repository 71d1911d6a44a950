"""Applying fixes. Edits are span-exact text replacements, as small as the change they make (the Python front
end inserts or removes one argument with its comma and comment, see :mod:`ecolint.sources.python.brackets`;
config fixes come from the config front ends), so one mechanism applies both.

Three layers:

* :func:`apply_edits` replaces spans in a string.
* :func:`fix_text` runs the fix loop on one decoded text, the way ruff does: apply every applicable fix that
  does not overlap an earlier one, re-lint the result (through :func:`ecolint.runner.lint_text`, so any front
  end works), repeat until nothing is left to apply or :data:`MAX_ITERATIONS` is reached. A result that no
  longer parses (a new ECO900, or a new ECO903 from a front end or rule; for Python also anything CPython
  refuses, whatever the settings) is thrown away and the original text kept.
* :func:`fix_file` / :func:`fix_run` do the same for files on disk: decode as the linter does, encode back with
  the file's own encoding and BOM, write atomically with the file's mode, and never overwrite a file whose
  bytes changed while ecolint was working on it.
"""

from __future__ import annotations

import codecs
import difflib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Optional, Sequence

from ecolint.facts import Edit
from ecolint.files import write_atomic
from ecolint.text import line_starts

if TYPE_CHECKING:  # pragma: no cover
    from ecolint.rule import Finding, Fix
    from ecolint.runner import Engine, RunResult
    from ecolint.sources.frontend import FrontEnd

MAX_ITERATIONS = 10
# Findings that mean "this text is broken": a fix must never introduce one.
_BROKEN = ("ECO900", "ECO903")


class OverlapError(ValueError):
    pass


def to_offset(starts: list[int], line: int, col: int) -> int:
    return starts[line - 1] + col - 1


def apply_edits(text: str, edits: Iterable[Edit]) -> str:
    """Apply non-overlapping edits (1-based, end exclusive). Overlapping edits raise :class:`OverlapError`;
    callers apply one fix per pass and re-lint, as ruff does."""
    starts = line_starts(text)
    ranges = sorted(
        ((to_offset(starts, e.span.line, e.span.col), to_offset(starts, e.span.end_line, e.span.end_col), e.content) for e in edits),
        key=lambda r: (r[0], r[1]),
    )
    out = []
    pos = 0
    for start, end, content in ranges:
        if start < pos:
            raise OverlapError("overlapping edits")
        out.append(text[pos:start])
        out.append(content)
        pos = end
    out.append(text[pos:])
    return "".join(out)


# -- one pass over one text -------------------------------------------------------------------------------

def applicable(fix: Optional["Fix"], unsafe: bool) -> bool:
    """Would ``--fix`` (plus ``--unsafe-fixes`` when ``unsafe``) apply this fix? Display-only fixes never."""
    from ecolint.rule import Applicability

    if fix is None or not fix.edits:
        return False
    if fix.applicability == Applicability.SAFE:
        return True
    return unsafe and fix.applicability == Applicability.UNSAFE



def apply_front_end_fixes(fe: "FrontEnd", text: str, findings: Sequence["Finding"], unsafe: bool) -> tuple[str, list["Finding"]]:
    """:func:`apply_fixes` for a file of front end ``fe``: when the front end applies edits to a text of its own
    (its :meth:`~ecolint.sources.frontend.FrontEnd.edit_view`), the fixes' edits are moved there, applied, and
    written back by the view (which may refuse: nothing is applied then)."""
    view = fe.edit_view(text)
    if view is None:
        return apply_fixes(text, findings, unsafe)
    shadows, originals = [], {}
    for f in findings:
        if f.fix is None or not applicable(f.fix, unsafe):
            continue
        shadow = replace(f, fix=replace(f.fix, edits=[Edit(view.span(e.span), e.content) for e in f.fix.edits]))
        shadows.append(shadow)
        originals[id(shadow)] = f
    _, applied = apply_fixes(view.text, shadows, unsafe)
    if not applied:
        return text, []
    edits = {(e.span, e.content): e for f in applied if f.fix is not None for e in f.fix.edits}
    new = view.write(list(edits.values()))
    if new is None:
        return text, []
    return new, [originals[id(f)] for f in applied]

def _line_ending_at(text: str, starts: list[int], line: int) -> str:
    """The newline sequence that ends ``line`` (or the file's first one, for the last line without one)."""
    for n in (line, 1):
        if n < len(starts):
            end = starts[n] - 1
            if text[end] == "\n" and end > 0 and text[end - 1] == "\r":
                return "\r\n"
            return text[end]
    return "\n"


def _newline_for(text: str, starts: list[int], edit: Edit) -> str:
    """The line break an edit's text is written with: that of the line it lands on, or, for text inserted at the
    start of a line (a new line), that of the line it follows, so that the lines around keep theirs."""
    line = edit.span.line
    if edit.span.col == 1 and line > 1 and (edit.span.end_line, edit.span.end_col) == (line, 1):
        line -= 1
    return _line_ending_at(text, starts, line)


def _normalise_newlines(content: str, newline: str) -> str:
    if "\r" not in content and (newline == "\n" or "\n" not in content):
        return content
    return content.replace("\r\n", "\n").replace("\r", "\n").replace("\n", newline)


def apply_fixes(text: str, findings: Sequence["Finding"], unsafe: bool = False) -> tuple[str, list["Finding"]]:
    """Apply, in source order, every applicable fix whose edits overlap no fix taken before it; the others
    wait for the next pass. Inserted text uses the newline style of the line it lands on (a new line: of the line
    it follows).
    Returns the new text and the findings whose fixes were applied."""
    starts = line_starts(text)
    size = len(text)
    candidates = []
    for f in findings:
        if f.fix is None or not applicable(f.fix, unsafe):
            continue
        ranges: list[tuple[int, int, str]] = []
        for e in f.fix.edits:
            try:
                start, end = to_offset(starts, e.span.line, e.span.col), to_offset(starts, e.span.end_line, e.span.end_col)
            except IndexError:
                ranges = []
                break
            if not 0 <= start <= end <= size:
                ranges = []
                break
            ranges.append((start, end, _normalise_newlines(e.content, _newline_for(text, starts, e))))
        if ranges:
            candidates.append((min(r[0] for r in ranges), f, sorted(ranges)))
    candidates.sort(key=lambda c: (c[0], c[1].sort_key()))
    taken: list[tuple[int, int, str]] = []
    applied: list["Finding"] = []
    seen: set[tuple] = set()
    for _, finding, ranges in candidates:
        key = tuple(ranges)
        if key in seen:  # two findings proposing the very same edits: apply once
            applied.append(finding)
            continue
        if _overlaps(ranges, taken) or any(_overlaps([r], [o]) for i, r in enumerate(ranges) for o in ranges[i + 1:]):
            continue
        seen.add(key)
        taken.extend(ranges)
        applied.append(finding)
    if not taken:
        return text, []
    taken.sort()
    out = []
    pos = 0
    for start, end, content in taken:
        out.append(text[pos:start])
        out.append(content)
        pos = end
    out.append(text[pos:])
    return "".join(out), applied


def _overlaps(a: Iterable[tuple[int, int, str]], b: Iterable[tuple[int, int, str]]) -> bool:
    """Do two sets of ranges conflict? Ranges that share characters do; so does an insertion at either end of
    another range (or at the point of another insertion): the inserted text was written for the neighbours it
    had, which the other edit changes (adding ``, x=0`` after an argument whose separator another fix removes)."""
    b = list(b)
    for s1, e1, _ in a:
        for s2, e2, _ in b:
            if s1 < e2 and s2 < e1:
                return True
            if (s1 == e1 and s2 <= s1 <= e2) or (s2 == e2 and s1 <= s2 <= e1):
                return True
    return False


# -- the loop ---------------------------------------------------------------------------------------------

@dataclass
class FixResult:
    """The outcome of fixing one text."""

    path: str
    original: str
    fixed: str
    applied: int = 0  # number of fixes applied
    findings: list["Finding"] = field(default_factory=list)  # what remains after fixing
    error: Optional[str] = None  # why nothing was written (the text was reverted or refused)
    codes: list[str] = field(default_factory=list)  # codes of the applied fixes, in order
    bom: bool = False  # the file starts with a UTF-8 byte-order mark (not part of ``original``/``fixed``)

    @property
    def changed(self) -> bool:
        return self.fixed != self.original


def fix_text(
    path: str,
    text: str,
    kind: str,
    engine: "Engine",
    unsafe: bool = False,
    findings: Optional[Sequence["Finding"]] = None,
    max_iterations: int = MAX_ITERATIONS,
    project_dir: Optional[Path] = None,
) -> FixResult:
    """Fix ``text`` until no applicable fix is left (or ``max_iterations`` passes were made).

    ``findings`` are the findings of ``text`` when the caller already has them (saves one parse)."""
    from ecolint.runner import lint_text
    from ecolint.sources import front_end

    fe = front_end(kind)
    if findings is None:
        findings = lint_text(path, text, kind, engine, project_dir).findings
    broken_before = {f.code for f in findings if f.code in _BROKEN}
    result = FixResult(path, text, text, findings=list(findings))
    current, current_findings = text, list(findings)
    for _ in range(max_iterations):
        new, applied = apply_front_end_fixes(fe, current, current_findings, unsafe)
        if not applied or new == current:
            break
        new_findings = lint_text(path, new, kind, engine, project_dir).findings
        broken = [(f.code, f.span.line, f.span.col, f.message) for f in new_findings if f.code in _BROKEN and f.code not in broken_before]
        if not broken and not broken_before:
            broken = _front_end_rejects(new, kind)  # (also when the settings ignore ECO900)
        if broken:
            codes = sorted({f.code for f in applied})
            code, line, col, message = broken[0]
            result.error = (
                f"fixing {path} ({', '.join(codes)}) produced text that does not parse ({code} at "
                f"{line}:{col}: {message}); the file was left unchanged. "
                f"This is a bug in ecolint: please report it with the file"
            )
            result.fixed, result.findings, result.applied, result.codes = text, list(findings), 0, []
            return result
        result.applied += len(applied)
        result.codes.extend(f.code for f in applied)
        current, current_findings = new, new_findings
    result.fixed, result.findings = current, current_findings
    return result


def _front_end_rejects(text: str, kind: str) -> list[tuple[str, int, int, str]]:
    """The front end's own verdict on fixed text (for Python, CPython's): a fix must never write a file the
    interpreter refuses."""
    from ecolint.sources import front_end

    err = front_end(kind).rejects(text)
    return [] if err is None else [(err.code, err.line, err.col, err.message)]


# -- files on disk ----------------------------------------------------------------------------------------

def source_encoding(data: bytes, kind: str) -> str:
    """The codec that writes ``data``'s text back byte-for-byte (the front end decides: a BOM is kept, a PEP 263
    cookie is honoured for Python)."""
    from ecolint.sources import front_end

    return front_end(kind).encoding(data)


def fix_file(
    path: Path,
    display: str,
    kind: str,
    engine: "Engine",
    unsafe: bool = False,
    write: bool = True,
    findings: Optional[Sequence["Finding"]] = None,
    expected_text: Optional[str] = None,
) -> FixResult:
    """Fix one file. ``expected_text`` is the text the findings were computed on: if the file no longer holds
    it, nothing is written. With ``write=False`` (``--diff``) the result is computed but never written."""
    from ecolint.files import read_regular
    from ecolint.runner import decode, read_limit

    limit = read_limit(kind, engine.settings)
    try:
        data = read_regular(path, limit)
        text = decode(data, kind)
    except Exception as exc:  # noqa: BLE001 - unreadable now: leave it
        message = getattr(exc, "message", None) or getattr(exc, "strerror", None) or str(exc)
        return FixResult(display, "", "", findings=list(findings or ()), error=f"cannot read {display} for fixing: {message}")
    if expected_text is not None and text != expected_text:
        return FixResult(display, text, text, findings=list(findings or ()), error=f"{display} changed on disk during the run; not fixed")
    result = fix_text(display, text, kind, engine, unsafe, findings=findings if expected_text is not None else None)
    result.bom = data.startswith(codecs.BOM_UTF8)
    if result.error or not result.changed:
        return result
    encoding = source_encoding(data, kind)
    try:
        new_data = result.fixed.encode(encoding)
    except UnicodeEncodeError as exc:
        result.error = f"the fixed text of {display} cannot be written in its encoding ({encoding}: {exc.reason}); the file was left unchanged"
        result.fixed, result.applied = result.original, 0
        return result
    if new_data == data or not write:
        return result
    try:
        if read_regular(path, limit) != data:
            result.error = f"{display} changed on disk during the run; the fixes were not written"
            result.fixed, result.applied = result.original, 0
            return result
        write_atomic(path, new_data)
    except OSError as exc:
        result.error = f"cannot write {display}: {exc.strerror or exc}"
        result.fixed, result.applied = result.original, 0
    return result


@dataclass
class FixRun:
    """What ``--fix`` / ``--diff`` did to a whole run."""

    findings: list["Finding"]  # remaining findings, all files, sorted
    results: list[FixResult]  # one per file that had an applicable fix
    fixed: int = 0  # fixes applied (or, with --diff, that would be)

    @property
    def errors(self) -> list[str]:
        return [r.error for r in self.results if r.error]

    @property
    def changed(self) -> list[FixResult]:
        return [r for r in self.results if r.changed and not r.error]

    def diff(self) -> str:
        from ecolint.sources import front_end, kind_for

        out = []
        for r in self.changed:
            kind = kind_for(Path(r.path))
            parts = front_end(kind).diff_parts(r.original, r.fixed, r.path) if kind else None
            if parts is None:
                out.append(unified_diff(r.original, r.fixed, r.path, bom=r.bom))
            else:
                out.extend(unified_diff(old, new, label) for old, new, label in parts)
        return "".join(out)


def fix_run(run: "RunResult", engine: "Engine", unsafe: bool = False, write: bool = True) -> FixRun:
    """Fix every file of a lint run that has an applicable fix; the other files keep their findings."""
    from ecolint.rule import Finding
    from ecolint.sources import kind_for

    by_file: dict[str, list[Finding]] = {}
    for f in run.findings:
        by_file.setdefault(f.filename, []).append(f)
    remaining: list[Finding] = []
    results: list[FixResult] = []
    fixed = 0
    for display, findings in by_file.items():
        kind = kind_for(Path(display))
        if kind is None or not any(applicable(f.fix, unsafe) for f in findings):
            remaining.extend(findings)
            continue
        # Edits are only ever taken from findings computed in this run: a cached result only says that the file
        # has something to fix, and the file is linted afresh (no expected text) so that its fixes are
        # recomputed from the text itself.
        expected = None if display in run.cached else run.texts.get(display)
        result = fix_file(Path(display), display, kind, engine, unsafe, write=write, findings=findings, expected_text=expected)
        results.append(result)
        remaining.extend(result.findings if not result.error else findings)
        if not result.error:
            fixed += result.applied
            run.texts[display] = result.fixed
    remaining.sort(key=Finding.sort_key)
    return FixRun(remaining, results, fixed)


def _git_lines(text: str) -> list[str]:
    """Lines as ``git apply`` sees them: only ``\\n`` ends a line, a ``\\r`` is part of the line's content."""
    lines = text.split("\n")
    out = [line + "\n" for line in lines[:-1]]
    if lines[-1]:
        out.append(lines[-1])
    return out


def unified_diff(before: str, after: str, path: str, context: int = 3, *, bom: bool = False) -> str:
    """A ``git apply``-able unified diff of one file (``a/`` and ``b/`` prefixes). Lines are split the way git
    splits them (on ``\\n`` only, so a file with lone-CR newlines is one line), and ``bom`` (the file starts
    with a UTF-8 byte-order mark that ``before``/``after`` do not hold) puts the mark back into line 1, so the
    context matches the bytes on disk."""
    if before == after:
        return ""
    if bom:
        before, after = "\ufeff" + before, "\ufeff" + after
    out = []
    lines = difflib.unified_diff(_git_lines(before), _git_lines(after), f"a/{path}", f"b/{path}", n=context)
    for i, line in enumerate(lines):
        if i < 2:  # the ---/+++ header
            out.append(line.rstrip("\r\n") + "\n")
        elif line.endswith("\n"):
            out.append(line)
        else:
            out.append(line + "\n\\ No newline at end of file\n")
    return "".join(out)
