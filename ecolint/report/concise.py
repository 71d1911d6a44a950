"""One line per finding, ``path:line:col: CODE [severity] summary``, within about :data:`LIMIT` characters: the
summary is the message if it fits, else as many of its leading clauses as fit, else its first clause cut at a
word. The whole message is in the JSON and SARIF output."""

from __future__ import annotations

from ecolint.report import ReportContext, position, summary_line
from ecolint.rule import Finding

LIMIT = 120
_MIN_SUMMARY = 40  # a long path still leaves this much of the message
_CLAUSE_ENDS = (": ", "; ", ". ")


def render(findings: list[Finding], ctx: ReportContext) -> str:
    lines = []
    for f in findings:
        head = f"{position(f)}: {f.code} [{f.severity.value}] "
        lines.append(head + one_line(f.message, max(_MIN_SUMMARY, LIMIT - len(head))))
    lines.append(summary_line(findings, ctx))
    return "\n".join(lines) + "\n"


def clause_ends(text: str) -> list[int]:
    """Where the clauses of ``text`` end: each ``: ``, ``; `` or ``. `` outside a `backticked` part."""
    quoted = False
    out = []
    for i, ch in enumerate(text):
        if ch == "`":
            quoted = not quoted
        elif not quoted and text.startswith(_CLAUSE_ENDS, i):
            out.append(i)
    return out


def first_clause(message: str) -> str:
    """The message up to its first clause end (see :func:`clause_ends`), on one line."""
    text = " ".join(message.split())
    ends = clause_ends(text)
    return (text[: ends[0]] if ends else text).rstrip(".")


def one_line(message: str, limit: int) -> str:
    """``message`` on one line in at most ``limit`` characters: whole if it fits, else its longest run of
    whole clauses that fits, else its first clause cut at a word, with an ellipsis."""
    text = " ".join(message.split())
    if len(text) <= limit:
        return text
    fitting = [i for i in clause_ends(text) if i <= limit]
    if fitting:
        return text[: fitting[-1]].rstrip(".")
    cut = first_clause(text)[: limit - 1]
    if " " in cut[limit // 2 :]:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,;:(") + "…"
