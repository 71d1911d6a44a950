"""Suppress existing findings in place: ``# noqa: ECOxxx`` on each finding's line, for adopting ecolint on a
repository without fixing everything first.

``add_noqa(text, findings, kind)`` returns the new text and the findings it could not suppress, with why.
A code is added to a ``# noqa: ...`` comment already on the line, or a new comment is appended at the end
of the line. Every placement is checked by reading the comments back with the same reader that honours
them (:func:`ecolint.noqa.parse_suppressions`): where the ``#`` would not be a comment, as inside a
multi-line string, a YAML block scalar, a shell here-document or a Dockerfile instruction that does not
take comments, or after a line continuation, the line is left alone and the findings are refused.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from ecolint.noqa import parse_suppressions
from ecolint.rule import Finding
from ecolint.text import line_starts, split_lines


@dataclass(frozen=True)
class Refusal:
    finding: Finding
    reason: str


def add_noqa(text: str, findings: list[Finding], kind: str) -> tuple[str, list[Refusal]]:
    """``text`` with ``# noqa: CODES`` on every line that has findings (of a file of front-end ``kind``), and
    the findings that could not be suppressed that way."""
    refused: list[Refusal] = []
    by_line: dict[int, list[Finding]] = {}
    for f in findings:
        if f.code.startswith("ECO9"):
            refused.append(Refusal(f, "ecolint's own findings (ECO9xx: parse errors, stale suppressions) are not suppressed line by line"))
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
        return text, ""  # a blanket ``# noqa`` already covers every code
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
