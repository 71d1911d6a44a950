"""Fingerprints of findings that survive code moving: SARIF ``partialFingerprints`` and the baseline use them.

A fingerprint hashes the rule, the file (relative to the repository root) and the finding's source lines with
whitespace collapsed, then appends the occurrence index among findings with the same three (so two identical
lines in a file stay two). Line numbers play no part: inserting or removing lines above a finding keeps its
fingerprint; editing the flagged code itself changes it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

from ecolint.report import cell_text
from ecolint.report.sarif import repo_relative
from ecolint.rule import Finding
from ecolint.text import split_lines

VERSION = "ecolint/v1"  # the SARIF partialFingerprints key; bump when the recipe changes


def snippet(finding: Finding, text: str | None) -> str:
    """The finding's source line(s), whitespace collapsed; the rule's name when the text is not at hand. In a
    notebook, the lines of the finding's cell (the cell's index plays no part, like line numbers)."""
    text = cell_text(text, finding)
    if text is None:
        return finding.name
    lines = split_lines(text)
    first, last = finding.span.line, max(finding.span.line, finding.span.end_line)
    if not 1 <= first <= len(lines):
        return finding.name
    return " ".join(" ".join(lines[first - 1 : last]).split())


def _key(finding: Finding, text: str | None) -> str:
    path = repo_relative(finding.filename) or finding.filename.replace("\\", "/")
    return hashlib.sha256("\0".join((finding.code, path, snippet(finding, text))).encode("utf-8", "surrogatepass")).hexdigest()[:32]


def fingerprint(finding: Finding, text: str | None, occurrence: int = 0) -> str:
    """``finding``'s fingerprint given its file's ``text`` and its ``occurrence`` index among findings with
    the same rule, file and snippet (see :func:`fingerprints` to number them)."""
    return f"{_key(finding, text)}:{occurrence}"


def fingerprints(findings: list[Finding], texts: Mapping[str, str]) -> list[str]:
    """The fingerprint of each finding, in order; ``texts`` maps a finding's filename to its file's text.
    Occurrences are numbered in source order."""
    keys = [_key(f, texts.get(f.filename)) for f in findings]
    order = sorted(range(len(findings)), key=lambda i: (findings[i].span.cell or 0, findings[i].span.line, findings[i].span.col, i))
    seen: dict[str, int] = {}
    out = [""] * len(findings)
    for i in order:
        n = seen.get(keys[i], 0)
        seen[keys[i]] = n + 1
        out[i] = f"{keys[i]}:{n}"
    return out
