"""One line per finding, ``path:line:col: CODE [severity] summary``, within about :data:`LIMIT` characters: the
summary is the first clause of the message, cut at a word. The whole message is in the JSON and SARIF output."""

from __future__ import annotations

from ecolint.report import ReportContext, summary_line
from ecolint.rule import Finding

LIMIT = 120
_MIN_SUMMARY = 40  # a long path still leaves this much of the message
_CLAUSE_ENDS = (": ", "; ", ". ")


def render(findings: list[Finding], ctx: ReportContext) -> str:
    lines = []
    for f in findings:
        head = f"{f.filename}:{f.span.line}:{f.span.col}: {f.code} [{f.severity.value}] "
        lines.append(head + one_line(f.message, max(_MIN_SUMMARY, LIMIT - len(head))))
    lines.append(summary_line(findings, ctx))
    return "\n".join(lines) + "\n"


def first_clause(message: str) -> str:
    """The message up to its first ``: ``, ``; `` or ``. `` outside a `backticked` part, on one line."""
    text = " ".join(message.split())
    quoted = False
    for i, ch in enumerate(text):
        if ch == "`":
            quoted = not quoted
        elif not quoted and text.startswith(_CLAUSE_ENDS, i):
            return text[:i].rstrip(".")
    return text.rstrip(".")


def one_line(message: str, limit: int) -> str:
    """The first clause of ``message``, at most ``limit`` characters: cut at a word, with an ellipsis."""
    text = first_clause(message)
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if " " in cut[limit // 2 :]:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,;:(") + "…"
