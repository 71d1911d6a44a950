"""A Markdown report for a pull-request comment: a summary table by severity, then the findings, most severe
first, each with its location, message, the rows it cites and its fix as a small diff with context (or the
advice), then the cited measurement rows once, in one table.

The report stays under :data:`LIMIT` characters (GitHub refuses comments over 65,536): findings that do not
fit are counted in a closing line that points to the SARIF/JSON report. Locations are relative to the
repository root and link to the file at the commit when ``GITHUB_SERVER_URL``, ``GITHUB_REPOSITORY`` and
``GITHUB_SHA`` are set (as in GitHub Actions); without them no link is made, so none can be dead.

Everything that can come from the analysed files (paths, model ids, code, messages quoting them, table
rows) goes through :func:`_inline`, :func:`_code`, :func:`_cell` or a fence longer than any backtick run in
it, so it shows as text and never becomes a live link, image, HTML tag or heading.
"""

from __future__ import annotations

import difflib
import os
import re
from urllib.parse import quote

from ecolint.report import ReportContext, counts, finding_lines, fix_counts, position
from ecolint.report.sarif import repo_relative, source_root
from ecolint.rule import Applicability, Evidence, Finding
from ecolint.text import split_lines

LIMIT = 60_000  # GitHub's comment limit is 65,536 characters; the rest is room for text wrapped around it
_CONTEXT = 2  # unchanged lines around a fix in its diff
_MARK = {"red": "\U0001f534", "yellow": "\U0001f7e1", "info": "\U0001f535"}
_HOW = {
    Applicability.SAFE: "safe: `ecolint check --fix`",
    Applicability.UNSAFE: "unsafe, changes numerics or behaviour: `ecolint check --fix --unsafe-fixes`",
    Applicability.DISPLAY_ONLY: "suggestion, not applied automatically",
}
_EVIDENCE_HEAD = [
    "| row | GPU | model | quant | batch | J/1k tok | basis | experiment | source | note |",
    "|---|---|---|---|---:|---:|---|---|---|---|",
]


def render(findings: list[Finding], ctx: ReportContext) -> str:
    files = ctx.files_checked
    checked = f"{files} file{'s' if files != 1 else ''} checked"
    if not findings:
        head = "## ecolint: all checks passed\n\n" + checked
        if ctx.fixed:
            head += f"; {ctx.fixed} finding{'s' if ctx.fixed != 1 else ''} fixed"
        return head + ".\n"
    n_files = len({f.filename for f in findings})
    out = [
        f"## ecolint: {len(findings)} finding{'s' if len(findings) != 1 else ''} in {n_files} file{'s' if n_files != 1 else ''}",
        "",
        "| severity | findings |",
        "|---|---:|",
    ]
    for sev, n in counts(findings).items():
        out.append(f"| {_MARK[sev]} {sev} | {n} |")
    out.append("")
    tail = checked
    if ctx.fixed:
        tail += f"; {ctx.fixed} finding{'s' if ctx.fixed != 1 else ''} fixed"
    safe, unsafe = fix_counts(findings)
    if safe:
        tail += f"; {safe} fixable with `ecolint check --fix`"
    if unsafe:
        tail += f"; {unsafe} more with `--fix --unsafe-fixes` (review them: they change numerics)"
    out.append(tail + ".")
    head = "\n".join(out) + "\n"
    links = _Links()
    blocks: list[str] = []
    rows: dict[tuple[str, str], str] = {}  # cited rows, once each, as table lines
    size = len(head) + sum(map(len, _EVIDENCE_HEAD)) + 200  # + the rows table's frame and the closing line
    ordered = sorted(findings, key=lambda f: -f.severity.rank)  # stable: the run's order within a severity
    for f in ordered:
        block = "\n" + "\n".join(_finding(f, ctx, links)) + "\n"
        new_rows = {(e.row_id, e.source): _row(e) for e in f.evidence if (e.row_id, e.source) not in rows}
        cost = len(block) + sum(len(r) + 1 for r in new_rows.values())
        if size + cost > LIMIT:
            break
        size += cost
        blocks.append(block)
        rows.update(new_rows)
    text = head + "".join(blocks)
    if rows:
        text += "\n" + "\n".join(
            [f"<details><summary>Evidence: {len(rows)} measured row{'s' if len(rows) != 1 else ''}</summary>", "", *_EVIDENCE_HEAD, *rows.values(), "", "</details>"]
        ) + "\n"
    left = len(findings) - len(blocks)
    if left:
        text += f"\n**{left} more finding{'s' if left != 1 else ''} not shown** (a comment's size is limited): see the SARIF or JSON report for all of them.\n"
    return text


class _Links:
    """Locations relative to the repository root, linked to the file at the commit under GitHub Actions."""

    def __init__(self) -> None:
        self.root = source_root()
        server, repo, sha = (os.environ.get(k, "").strip() for k in ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_SHA"))
        ok = server.startswith("https://") and re.fullmatch(r"[\w.-]+/[\w.-]+", repo) and re.fullmatch(r"[0-9a-fA-F]{7,64}", sha)
        self.base: str | None = f"{server.rstrip('/')}/{repo}/blob/{sha}/" if ok else None

    def location(self, f: Finding) -> str:
        rel = repo_relative(f.filename, self.root)
        shown = _code(position(f) if rel is None else rel + position(f)[len(f.filename):])
        if rel is None or self.base is None or f.span.cell is not None:
            return shown
        return f"[{shown}]({self.base}{quote(rel, safe='/')}#L{f.span.line})"


def _row(e: Evidence) -> str:
    energy = f"{e.energy_j_per_1k_tok:,.1f}" if e.energy_j_per_1k_tok is not None else "n/a"
    cells = [e.row_id, e.gpu, e.model, e.quant, str(e.batch_size or ""), energy, e.energy_basis, e.experiment, e.source, e.note]
    return "| " + " | ".join(_cell(c) for c in cells) + " |"


def _finding(f: Finding, ctx: ReportContext, links: _Links) -> list[str]:
    sev = f.severity.value
    out = [
        f"### {_MARK[sev]} {f.code} {_code(f.name)} ({sev}) at {links.location(f)}",
        "",
        _paragraph(_inline(f.message)),
    ]
    if f.evidence:
        ids = list(dict.fromkeys(e.row_id for e in f.evidence))
        out += ["", f"Evidence: row{'s' if len(ids) != 1 else ''} {_escape(', '.join(ids))} (table below)."]
    if f.fix is not None:
        out += ["", f"**Fix** ({_HOW[f.fix.applicability]}): {_inline(f.fix.message)}"]
        diff = _fix_diff(f, ctx)
        if diff:
            fence = _fence(diff)
            out += ["", fence + "diff", *diff, fence]
    if f.advice:
        out += ["", f"**Help:** {_inline(f.advice)}"]
    if f.next_command:
        out += ["", f"**Next:** {_code(f.next_command)}"]
    return out


# Characters with a Markdown or HTML meaning anywhere in a line (emphasis, code, links, images, raw HTML,
# entities, table cells, math, e-mail autolinks), the ``://`` and ``www.`` of web autolinks, and what makes a
# heading, list item or quote at the start of a line: backslash-escaped in text.
_SPECIAL = re.compile(r"[\\`*_~\[\]!<>&|$@]|:(?=//)|(?<=[Ww]{3})\.")
_LINE_START = re.compile(r"^(\s*)([#+\-=>]|\d+(?=[.)]))")
_BREAKS = re.compile(r"[\r\n]+")


def _escape(text: str) -> str:
    """Plain text on one line, every character with a Markdown meaning escaped."""
    return _SPECIAL.sub(lambda m: "\\" + m.group(0), _BREAKS.sub(" ", text))


def _paragraph(text: str) -> str:
    """Escaped text that starts a line: a leading ``#``, ``-``, ``+``, ``=``, ``>`` or ``1.`` stays text."""
    m = _LINE_START.match(text)
    if not m:
        return text
    lead = m.group(2)
    if lead[0].isdigit():
        return text[: m.end()] + "\\" + text[m.end():]
    return text[: m.start(2)] + "\\" + text[m.start(2):]


def _code(text: str) -> str:
    """A code span holding ``text`` verbatim, whatever backticks it contains."""
    text = _BREAKS.sub(" ", text)
    if not text:
        return ""
    fence = "`" * (max((len(run) for run in re.findall("`+", text)), default=0) + 1)
    pad = " " if text[0] in "` " or text[-1] in "` " else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _inline(message: str) -> str:
    """A message whose `backticked` parts become code spans and everything else escaped text; an unmatched
    backtick (from a quoted id that holds one) stays literal."""
    parts = message.split("`")
    out = []
    for i, part in enumerate(parts):
        if i % 2 == 0:
            out.append(_escape(part))
        elif i == len(parts) - 1 or not part:  # no closing backtick, or an empty pair
            out.append("\\`" + _escape(part) + ("\\`" if i < len(parts) - 1 else ""))
        else:
            out.append(_code(part))
    return "".join(out)


def _fence(lines: list[str]) -> str:
    """A code fence longer than every backtick run in ``lines``."""
    longest = max((len(run) for line in lines for run in re.findall("`+", line)), default=0)
    return "`" * max(3, longest + 1)


def _cell(value: object) -> str:
    return _escape(" ".join(str(value).split()))


def _fix_diff(f: Finding, ctx: ReportContext) -> list[str]:
    """The lines the fix changes as a unified diff with :data:`_CONTEXT` lines of context (hunk headers kept,
    file headers dropped), when the source is at hand."""
    from ecolint.fix import OverlapError, apply_edits

    lines = finding_lines(ctx, f)
    if not lines or f.fix is None or not f.fix.edits or any(e.span.cell != f.span.cell for e in f.fix.edits):
        return []
    text = "\n".join(lines) + "\n"
    try:
        fixed = apply_edits(text, f.fix.edits)
    except (OverlapError, IndexError):
        return []
    diff = difflib.unified_diff([line.rstrip("\r\n") for line in split_lines(text)], [line.rstrip("\r\n") for line in split_lines(fixed)], n=_CONTEXT, lineterm="")
    return [line for line in diff if not line.startswith(("---", "+++"))]
