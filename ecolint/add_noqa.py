"""Suppress existing findings in place: ``# noqa: ECOxxx`` on each finding's line, for adopting ecolint on a
repository without fixing everything first.

``add_noqa(text, findings, kind)`` returns the new text and the findings it could not suppress, with why.
A code is added to a ``# noqa: ...`` comment already on the line, or a new comment is appended at the end
of the line. Every placement is checked by reading the comments back with the same reader that honours
them (:func:`ecolint.noqa.parse_suppressions`): where the ``#`` would not be a comment, as inside a
multi-line string, a YAML block scalar, a shell here-document or a Dockerfile instruction that does not
take comments, or after a line continuation, the line is left alone and the findings are refused.

``add_noqa_files(findings, texts, settings_for)`` does it to the files of a run (``ecolint check --add-noqa``):
only files that have findings, only when the file still holds the text that was linted and the new text
parses as before, written like fixes (:func:`ecolint.fix.write_atomic`: owner, mode and hard links kept,
read-only files refused).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ecolint.noqa import parse_suppressions
from ecolint.rule import Finding
from ecolint.text import line_starts, split_lines

if TYPE_CHECKING:  # pragma: no cover
    from ecolint.config import Settings


@dataclass(frozen=True)
class Refusal:
    finding: Finding
    reason: str


@dataclass
class NoqaRun:
    """What :func:`add_noqa_files` did."""

    suppressed: int = 0  # findings now suppressed by a comment
    files: int = 0  # files written
    refusals: list[Refusal] = field(default_factory=list)  # findings left as they were, with why
    errors: list[str] = field(default_factory=list)  # files that could not be read or written


def add_noqa_files(findings: list[Finding], texts: Mapping[str, str], settings_for: "Callable[[str], Settings]") -> NoqaRun:
    """Suppress ``findings`` in their files. ``texts``: each file's text as linted (display path -> text);
    ``settings_for``: the settings governing a display path (its size limit, its front end's reading)."""
    by_file: dict[str, list[Finding]] = {}
    for f in findings:
        by_file.setdefault(f.filename, []).append(f)
    run = NoqaRun()
    for display, group in by_file.items():
        _add_to_file(display, group, texts.get(display), settings_for(display), run)
    run.refusals.sort(key=lambda r: r.finding.sort_key())
    return run


def _add_to_file(display: str, findings: list[Finding], text: "str | None", settings: "Settings", run: NoqaRun) -> None:
    from ecolint.files import read_regular
    from ecolint.fix import source_encoding, write_atomic
    from ecolint.runner import decode, read_limit
    from ecolint.sources import kind_for

    kind = kind_for(Path(display))
    if kind is None or text is None:
        run.refusals.extend(Refusal(f, "the file was not read as text") for f in findings)
        return
    new, refused = add_noqa(text, findings, kind)
    if new != text and _breaks(new, text, display, kind, settings):
        new, refused = text, [Refusal(f, "a comment would make the file fail to parse") for f in findings]
    failure = None
    if new != text:
        try:
            data = read_regular(Path(display), read_limit(kind, settings))
            if decode(data, kind) != text:
                failure = f"{display} changed on disk during the run; no noqa comment was added"
            else:
                write_atomic(Path(display), new.encode(source_encoding(data, kind)))
        except Exception as exc:  # noqa: BLE001 - unreadable, unwritable, not encodable: the file stays as it was
            message = getattr(exc, "message", None) or getattr(exc, "strerror", None) or str(exc)
            failure = f"cannot add noqa comments to {display}: {message}"
    if failure is not None:
        run.errors.append(failure)
        done = {id(r.finding) for r in refused}
        refused += [Refusal(f, "the file was left unchanged") for f in findings if id(f) not in done]
    elif new != text:
        run.files += 1
    run.refusals.extend(refused)
    run.suppressed += len(findings) - len(refused)


def _breaks(new: str, old: str, display: str, kind: str, settings: "Settings") -> bool:
    """Does ``new`` fail to parse (for the front end, or its own verdict) where ``old`` did not?"""
    from ecolint.sources import SourceError, front_end

    def fails(text: str) -> bool:
        end = front_end(kind)
        if end.rejects(text) is not None:
            return True
        try:
            end.extract(display, text, settings)
        except SourceError:
            return True
        except Exception:  # noqa: BLE001 - a front end that cannot read it: do not write it
            return True
        return False

    return fails(new) and not fails(old)


def add_noqa(text: str, findings: list[Finding], kind: str) -> tuple[str, list[Refusal]]:
    """``text`` with ``# noqa: CODES`` on every line that has findings (of a file of front-end ``kind``), and
    the findings that could not be suppressed that way."""
    refused: list[Refusal] = []
    by_line: dict[int, list[Finding]] = {}
    for f in findings:
        if f.code.startswith("ECO9"):
            refused.append(Refusal(f, "ecolint's own findings (ECO9xx: parse errors, stale suppressions) are not suppressed line by line"))
        elif f.span.cell is not None or kind == "notebook":
            refused.append(Refusal(f, "comments are not added to notebook cells; add `# noqa: CODE` to the cell's line by hand"))
        else:
            by_line.setdefault(f.span.line, []).append(f)
    python_ok = kind == "python" and _parses(text)
    for line in sorted(by_line, reverse=True):  # bottom up: earlier offsets stay valid
        group = by_line[line]
        codes = sorted({f.code for f in group})
        new, why = _suppress(text, line, codes, kind)
        if new is not None and python_ok and not _parses(new):
            new, why = None, "a comment there would break the Python syntax"
        if new is None:
            refused.extend(Refusal(f, why) for f in group)
        else:
            text = new
    refused.sort(key=lambda r: r.finding.sort_key())
    return text, refused


def _suppress(text: str, line: int, codes: list[str], kind: str) -> tuple[str | None, str]:
    """``text`` with ``codes`` suppressed on ``line``, or None and why not."""
    starts = line_starts(text)
    if not 1 <= line <= len(starts):
        return None, f"line {line} is not in the file"
    current = parse_suppressions(text, kind).lines.get(line)
    if current is not None and current.codes is None:
        return text, ""  # a blanket noqa comment already covers every code
    body = split_lines(text)[line - 1]
    begin = starts[line - 1]
    if current is not None:
        merged = sorted(set(current.codes or ()) | set(codes))
        a, b = begin + current.col - 1, begin + current.end_col - 1
        new = text[:a] + "# noqa: " + ", ".join(merged) + text[b:]
    else:
        if body.rstrip().endswith("\\"):
            return None, "the line continues on the next one; a comment cannot follow a backslash"
        end = begin + len(body)
        new = text[:end] + ("  " if body.strip() else "") + "# noqa: " + ", ".join(codes) + text[end:]
    check = parse_suppressions(new, kind).lines.get(line)
    if check is None or (check.codes is not None and not set(codes) <= set(check.codes)):
        return None, _where(kind)
    return new, ""


def _where(kind: str) -> str:
    if kind == "yaml":
        return "the line is inside a YAML block or quoted scalar, where a # is text"
    if kind == "dockerfile":
        return "the Dockerfile instruction does not take a trailing comment"
    if kind == "shell":
        return "the line is inside a quoted word or here-document, where a # is text"
    if kind == "json":
        return "JSON has no comments"
    if kind == "properties":
        return "a properties line cannot take a trailing comment (# starts a comment only at the start of a line)"
    return "the line is inside a multi-line string, where a # is text"


def _parses(text: str) -> bool:
    try:
        ast.parse(re.sub(r"\A\ufeff", "", text))
    except (SyntaxError, ValueError):
        return False
    return True
