"""SARIF 2.1.0 for GitHub code scanning (``github/codeql-action/upload-sarif``) and SARIF viewers.

One run, one tool. ``tool.driver.rules`` describes every registered rule (so code scanning can show the
documentation of any alert and close alerts of rules that stop firing); each result points at its rule by
``ruleId`` and ``ruleIndex``. Locations are relative to the repository root (``%SRCROOT%``) and %-encoded;
columns count Unicode code points, 1-based, end exclusive. Fixes are emitted as ``fixes[]`` for editors
(GitHub ignores them). ``partialFingerprints`` (key ``ecolint/v1``) hash the rule, the file and the flagged
source with whitespace collapsed, plus an occurrence index (:mod:`ecolint.report.fingerprint`), so an alert
survives code moving. Each rule's documentation travels in ``help.markdown``; ``helpUri`` and
``informationUri`` are given only when the installed distribution names a documentation or home URL
(``[project.urls]``), never a guessed address.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from urllib.parse import quote

from ecolint import __version__
from ecolint.report import ReportContext
from ecolint.rule import Applicability, Finding, Rule, Severity

SCHEMA_URI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
SRCROOT = "%SRCROOT%"

LEVEL = {Severity.RED: "error", Severity.YELLOW: "warning", Severity.INFO: "note"}
PROBLEM_SEVERITY = {Severity.RED: "error", Severity.YELLOW: "warning", Severity.INFO: "recommendation"}
_MAX_TEXT = 1024


def render(findings: list[Finding], ctx: ReportContext) -> str:
    return json.dumps(sarif_log(findings, ctx), indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def sarif_log(findings: list[Finding], ctx: ReportContext) -> dict:
    from ecolint.registry import all_rules

    root = source_root()
    rules = list(all_rules())
    index = {r.code: i for i, r in enumerate(rules)}
    descriptors = [rule_descriptor(r) for r in rules]
    for f in findings:  # a code without a registered rule (should not happen) still gets a descriptor
        if f.code not in index:
            index[f.code] = len(descriptors)
            descriptors.append(_bare_descriptor(f))
    from ecolint.report.fingerprint import VERSION, fingerprints

    texts = {}
    for name in {f.filename for f in findings}:
        lines = ctx.source_lines(name)
        if lines is not None:
            texts[name] = "\n".join(lines)
    prints = fingerprints(findings, texts)
    results = [result(f, index[f.code], root) for f in findings]
    for res, fp in zip(results, prints):
        res["partialFingerprints"] = {VERSION: fp}
    driver: dict = {"name": "ecolint", "version": __version__, "semanticVersion": __version__}
    if homepage():
        driver["informationUri"] = homepage()
    driver["rules"] = descriptors
    run = {
        "tool": {"driver": driver},
        "invocations": [{"executionSuccessful": not any(f.code == "ECO903" for f in findings)}],
        "originalUriBaseIds": {SRCROOT: {"uri": root.as_uri().rstrip("/") + "/"}},
        "columnKind": "unicodeCodePoints",
        "results": results,
    }
    return {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}


# -- paths ------------------------------------------------------------------------------------------------

def source_root(start: Path | None = None) -> Path:
    """The root that URIs are relative to: the enclosing git work tree of the working directory, else the
    working directory itself (GitHub resolves paths against the repository root)."""
    here = (start or Path.cwd()).resolve()
    for d in (here, *here.parents):
        if (d / ".git").exists():
            return d
    return here


def repo_relative(filename: str, root: Path | None = None) -> str | None:
    """``filename`` as a ``/``-separated path below ``root``, or None when it lies outside."""
    root = root or source_root()
    try:
        rel = Path(os.path.abspath(filename)).relative_to(root)
    except ValueError:
        try:
            rel = Path(filename).resolve().relative_to(root)
        except (ValueError, OSError):
            return None
    return rel.as_posix()


def artifact_location(filename: str, root: Path) -> dict:
    rel = repo_relative(filename, root)
    if rel is None:
        return {"uri": Path(os.path.abspath(filename)).as_uri()}
    return {"uri": quote(rel, safe="/"), "uriBaseId": SRCROOT}


# -- rules ------------------------------------------------------------------------------------------------

def homepage() -> str | None:
    """The project's home page from the installed distribution's metadata; None when it names none."""
    urls = _project_urls()
    for key in ("homepage", "source", "repository"):
        if key in urls:
            return urls[key]
    return None


def help_uri(rule: type[Rule]) -> str | None:
    """The rule's page, ``docs/rules/CODE.md`` (written by ``python -m ecolint.docs``), below the
    distribution's ``Documentation`` URL (where the ``docs`` folder is published); None when none is named."""
    base = _project_urls().get("documentation")
    if not base or not base.startswith("https://"):
        return None
    return f"{base.rstrip('/')}/rules/{rule.code}.md"


_URLS: dict[str, str] | None = None


def _project_urls() -> dict[str, str]:
    global _URLS
    if _URLS is None:
        urls: dict[str, str] = {}
        try:
            from importlib.metadata import PackageNotFoundError, metadata

            meta = metadata("ecolint")
            for entry in meta.get_all("Project-URL") or []:
                label, _, url = entry.partition(",")
                urls[label.strip().lower()] = url.strip()
            home = meta["Home-page"] if "Home-page" in meta else None
            if home:
                urls.setdefault("homepage", home)
        except (ImportError, PackageNotFoundError):  # pragma: no cover - running from an uninstalled tree
            pass
        _URLS = urls
    return _URLS


def rule_descriptor(rule: type[Rule]) -> dict:
    doc = rule.documentation()
    what = _section(doc, "What it does") or doc or rule.summary or rule.name
    tags = list(dict.fromkeys([*rule.tags, _family(rule.code)]))[:20]
    out = {
        "id": rule.code,
        "name": rule.name,
        "shortDescription": {"text": _clip(rule.summary or rule.name)},
        "fullDescription": {"text": _clip(_plain(what))},
        "help": {"text": _plain(doc) or rule.summary or rule.name, "markdown": doc or rule.summary or rule.name},
        "defaultConfiguration": {"level": LEVEL[rule.severity]},
        "properties": {
            "tags": tags,
            "precision": getattr(rule, "precision", None) or ("very-high" if rule.engine_emitted else "high"),
            "problem.severity": PROBLEM_SEVERITY[rule.severity],
            "fix": rule.fix_applicability.value,
        },
    }
    uri = help_uri(rule)
    if uri:
        out["helpUri"] = uri
    return out


def _bare_descriptor(f: Finding) -> dict:
    return {
        "id": f.code,
        "name": f.name,
        "shortDescription": {"text": _clip(f.name)},
        "fullDescription": {"text": _clip(f.name)},
        "help": {"text": f.name},
        "defaultConfiguration": {"level": LEVEL[f.severity]},
        "properties": {"tags": [_family(f.code)], "precision": "medium", "problem.severity": PROBLEM_SEVERITY[f.severity]},
    }


_FAMILIES = {"1": "quantization", "2": "batching", "3": "cache-and-decoding", "4": "precision-and-placement", "9": "ecolint"}


def _family(code: str) -> str:
    return _FAMILIES.get(code[3:4], "energy") if code.startswith("ECO") else "energy"


def _section(doc: str, title: str) -> str:
    m = re.search(rf"^##\s*{re.escape(title)}\s*\n(.*?)(?=^##\s|\Z)", doc, flags=re.MULTILINE | re.DOTALL)
    return m.group(1).strip() if m else ""


def _plain(markdown: str) -> str:
    """Markdown to readable plain text: headings lose their hashes, code fences their markers."""
    lines = []
    for line in markdown.splitlines():
        if line.lstrip().startswith("```"):
            continue
        m = re.match(r"^#+\s*(.*)$", line)
        lines.append(m.group(1) if m else line)
    return "\n".join(lines).strip()


def _clip(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _MAX_TEXT else text[: _MAX_TEXT - 1].rstrip() + "\u2026"


# -- results ----------------------------------------------------------------------------------------------

def region(line: int, col: int, end_line: int, end_col: int) -> dict:
    line, col = max(1, line), max(1, col)
    end_line = max(line, end_line)
    end_col = max(1, end_col)
    if end_line == line and end_col < col:
        end_col = col
    return {"startLine": line, "startColumn": col, "endLine": end_line, "endColumn": end_col}


def cell_prefix(f: Finding) -> str:
    """``"cell 4, line 12: "`` for a finding in a notebook cell (whose rows are not the file's lines), else ``""``."""
    return f"cell {f.span.cell}, line {f.span.line}: " if f.span.cell is not None else ""


def result(f: Finding, rule_index: int, root: Path) -> dict:
    location = artifact_location(f.filename, root)
    physical: dict = {"artifactLocation": location}
    if f.span.cell is None:
        physical["region"] = region(f.span.line, f.span.col, f.span.end_line, f.span.end_col)
    out: dict = {
        "ruleId": f.code,
        "ruleIndex": rule_index,
        "level": LEVEL[f.severity],
        "message": {"text": cell_prefix(f) + f.message},
        "locations": [{"physicalLocation": physical}],
    }
    if f.fix is not None and f.fix.edits and f.fix.applicability != Applicability.DISPLAY_ONLY and f.span.cell is None:
        out["fixes"] = [
            {
                "description": {"text": f.fix.message},
                "artifactChanges": [
                    {
                        "artifactLocation": dict(location),
                        "replacements": [
                            {
                                "deletedRegion": region(e.span.line, e.span.col, e.span.end_line, e.span.end_col),
                                "insertedContent": {"text": e.content},
                            }
                            for e in f.fix.edits
                        ],
                    }
                ],
                "properties": {"applicability": f.fix.applicability.value},
            }
        ]
    if f.related:
        out["relatedLocations"] = [
            {
                "id": i,
                "physicalLocation": {"artifactLocation": artifact_location(path, root), "region": region(sp.line, sp.col, sp.end_line, sp.end_col)}
                if sp.cell is None
                else {"artifactLocation": artifact_location(path, root)},
                "message": {"text": (f"cell {sp.cell}, line {sp.line}: " if sp.cell is not None else "") + message},
            }
            for i, (path, sp, message) in enumerate(f.related)
        ]
    props: dict = {"severity": f.severity.value, "name": f.name}
    if f.span.cell is not None:  # the notebook cell (1-based among all cells) and the row and column inside it
        props["cell"] = {"index": f.span.cell, "row": f.span.line, "column": f.span.col}
    if f.fix is not None:
        props["fix"] = {"applicability": f.fix.applicability.value, "message": f.fix.message}
    if f.advice:
        props["advice"] = f.advice
    if f.next_command:
        props["nextCommand"] = f.next_command
    if f.evidence:
        props["evidence"] = [e.to_dict() for e in f.evidence]
    out["properties"] = props
    return out
