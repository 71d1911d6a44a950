"""``--statistics``: how many findings each rule produced, most frequent first (as ruff prints it)."""

from __future__ import annotations

import json

from ecolint.fix import applicable
from ecolint.rule import Finding


def rows(findings: list[Finding], unsafe_fixes: bool = False) -> list[dict]:
    by_code: dict[str, dict] = {}
    for f in findings:
        row = by_code.setdefault(f.code, {"code": f.code, "name": f.name, "severity": f.severity.value, "count": 0, "fixable": 0})
        row["count"] += 1
        if applicable(f.fix, unsafe_fixes):
            row["fixable"] += 1
        if f.severity.rank > {"red": 3, "yellow": 2, "info": 1}[row["severity"]]:
            row["severity"] = f.severity.value
    return sorted(by_code.values(), key=lambda r: (-r["count"], r["code"]))


def render(findings: list[Finding], fmt: str = "text", unsafe_fixes: bool = False) -> str:
    table = rows(findings, unsafe_fixes)
    if fmt == "json":
        return json.dumps(table, indent=2, allow_nan=False) + "\n"
    if not table:
        return ""
    width = max(len(str(r["count"])) for r in table)
    sev = max(len(r["severity"]) for r in table)
    lines = []
    for r in table:
        mark = "[*]" if r["fixable"] == r["count"] else "[-]" if r["fixable"] else "   "
        lines.append(f"{r['count']:>{width}}\t{r['code']}\t{r['severity']:<{sev}}\t{mark} {r['name']}")
    total = sum(r["count"] for r in table)
    fixable = sum(r["fixable"] for r in table)
    lines.append(f"Found {total} finding{'s' if total != 1 else ''}.")
    if fixable:
        how = "`--fix --unsafe-fixes`" if unsafe_fixes else "the `--fix` option"
        lines.append(f"[*] {fixable} fixable with {how}" + ("; [-] marks rules where only some are." if any(0 < r["fixable"] < r["count"] for r in table) else "."))
    return "\n".join(lines) + "\n"
