"""The rule API shared by built-in rules and third-party rules (entry-point group ``ecolint.rules``).

A rule is a class with a code, a kebab-case name, a default severity, a fix applicability, the fact lists it
reads (``reads``: which files are worth parsing follows from them and the front ends' vocabularies), a docstring
that is its documentation, VALID/INVALID examples that the test suite runs, and ``check(facts, ctx)`` yielding
:class:`Finding` objects. A rule sees the facts of every kind of file; it never names a file kind or a syntax.
"""

from __future__ import annotations

import enum
import inspect
import textwrap
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Iterable, Optional, Sequence

from ecolint.facts import Edit, FileFacts, FixCandidate, Span
from ecolint.knowledge.evidence import Evidence  # noqa: F401  (re-exported: a finding's evidence rows)

if TYPE_CHECKING:  # pragma: no cover
    from ecolint.knowledge import Knowledge


class Severity(str, enum.Enum):
    RED = "red"
    YELLOW = "yellow"
    INFO = "info"

    @property
    def rank(self) -> int:
        return {"red": 3, "yellow": 2, "info": 1}[self.value]

    def lower(self) -> "Severity":
        return {Severity.RED: Severity.YELLOW, Severity.YELLOW: Severity.INFO, Severity.INFO: Severity.INFO}[self]


class Applicability(str, enum.Enum):
    SAFE = "safe"  # behaviour unchanged
    UNSAFE = "unsafe"  # changes numerics or behaviour
    DISPLAY_ONLY = "display-only"  # advice, never applied


@dataclass
class Fix:
    applicability: Applicability
    message: str
    edits: list[Edit] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {
            "applicability": self.applicability.value,
            "message": self.message,
            "edits": [
                {
                    "content": e.content,
                    **({"cell": e.span.cell} if e.span.cell is not None else {}),
                    "location": {"row": e.span.line, "column": e.span.col},
                    "end_location": {"row": e.span.end_line, "column": e.span.end_col},
                }
                for e in self.edits
            ],
        }


@dataclass
class Finding:
    code: str
    name: str
    severity: Severity
    message: str
    filename: str
    span: Span
    fix: Optional[Fix] = None
    evidence: list[Evidence] = field(default_factory=list)
    next_command: Optional[str] = None
    advice: str = ""
    detail: str = ""  # e.g. a traceback for internal errors, shown with -v
    # Other places that explain the finding: (path, span, what is there); SARIF relatedLocations.
    related: list[tuple[str, Span, str]] = field(default_factory=list)

    def sort_key(self) -> tuple:
        return (self.filename, self.span.cell or 0, self.span.line, self.span.col, self.code, self.message)

    def to_dict(self) -> dict:
        return {
            "code": self.code,
            "name": self.name,
            "severity": self.severity.value,
            "message": self.message,
            "filename": self.filename,
            "cell": self.span.cell,  # a notebook's cell (1-based among all cells); rows are counted inside it
            "location": {"row": self.span.line, "column": self.span.col},
            "end_location": {"row": self.span.end_line, "column": self.span.end_col},
            "fix": self.fix.to_dict() if self.fix else None,
            "advice": self.advice or None,
            "evidence": [e.to_dict() for e in self.evidence],
            "next_command": self.next_command,
            "related": [
                {"filename": path, **({"cell": sp.cell} if sp.cell is not None else {}), "location": {"row": sp.line, "column": sp.col},
                 "end_location": {"row": sp.end_line, "column": sp.end_col}, "message": msg}
                for path, sp, msg in self.related
            ],
        }

    @classmethod
    def from_dict(cls, data: dict) -> "Finding":
        fix = None
        if data.get("fix"):
            f = data["fix"]
            fix = Fix(
                Applicability(f["applicability"]),
                f["message"],
                [
                    Edit(Span(e["location"]["row"], e["location"]["column"], e["end_location"]["row"], e["end_location"]["column"], e.get("cell")), e["content"])
                    for e in f["edits"]
                ],
            )
        loc, end = data["location"], data["end_location"]
        return cls(
            code=data["code"],
            name=data["name"],
            severity=Severity(data["severity"]),
            message=data["message"],
            filename=data["filename"],
            span=Span(loc["row"], loc["column"], end["row"], end["column"], data.get("cell")),
            fix=fix,
            evidence=[Evidence(**e) for e in data.get("evidence", [])],
            next_command=data.get("next_command"),
            advice=data.get("advice") or "",
            related=[
                (r["filename"], Span(r["location"]["row"], r["location"]["column"], r["end_location"]["row"], r["end_location"]["column"], r.get("cell")), r["message"])
                for r in data.get("related", [])
            ],
        )


@dataclass(frozen=True)
class Example:
    """A rule example: ``code`` in a file called ``filename``. INVALID examples may pin the first finding's
    line, column, severity and a fragment of its message, the number of findings, and the fixed text."""

    code: str
    filename: str = "example.py"
    line: Optional[int] = None  # expected finding line (INVALID); None = any
    severity: Optional[Severity] = None
    gpu: Optional[str] = None  # run with this --gpu
    fixed: Optional[str] = None  # expected source after applying the rule's fix (unsafe fixes included)
    col: Optional[int] = None  # expected column (1-based) of the first finding
    message: Optional[str] = None  # a fragment the first finding's message must contain
    count: Optional[int] = None  # expected number of findings of the rule


@dataclass
class RuleContext:
    """What a rule may consult besides the facts: the knowledge layer and the user's settings."""

    knowledge: "Knowledge"
    gpu: Optional[str] = None  # canonical id from --gpu / [tool.ecolint] gpu

    def gpu_for(self, facts: FileFacts) -> Optional[str]:
        """The user's GPU, else the GPU the file or config names, else one a companion file of the deployment
        names (:mod:`ecolint.project.companions`)."""
        if self.gpu:
            return self.gpu
        if not facts.gpu_hints:
            return None
        hint = facts.gpu_hints[0]
        hint.reads += 1  # a GPU from a companion file is named in the findings that used it
        return hint.gpu


class Rule:
    code: ClassVar[str] = ""
    name: ClassVar[str] = ""
    severity: ClassVar[Severity] = Severity.YELLOW
    fix_applicability: ClassVar[Applicability] = Applicability.DISPLAY_ONLY
    summary: ClassVar[str] = ""  # one line, used in tables and SARIF shortDescription
    severity_note: ClassVar[str] = ""  # when the severity differs by context ("yellow in training"), for tables
    tags: ClassVar[tuple[str, ...]] = ()
    # The FileFacts lists the rule reads (e.g. ("quant_specs",)). The prefilter parses a file only when its front
    # end can produce one of them from the text (each front end lists the tokens for each fact list), so a rule
    # never names syntax, file kinds or dialect spellings: it sees the facts of every kind of file. None means
    # "any fact", which keeps the prefilter safe but slow.
    reads: ClassVar[Optional[tuple[str, ...]]] = None
    # Optional narrowing: text tokens without which the rule cannot fire. A file must hold one of them as well as
    # a token of a fact the rule reads. Only sound when they cover every front end's tokens for those facts
    # (tests/test_frontends.py checks the built-in rules; a plugin's author answers for its own).
    triggers: ClassVar[tuple[str, ...]] = ()
    needs_gpu: ClassVar[bool] = False  # cannot fire without a GPU from the settings or named in the file
    VALID: ClassVar[Sequence[Example]] = ()
    INVALID: ClassVar[Sequence[Example]] = ()
    engine_emitted: ClassVar[bool] = False  # ECO9xx: reported by the engine itself, check() is never called

    def check(self, facts: FileFacts, ctx: RuleContext) -> Iterable[Finding]:  # pragma: no cover - interface
        return ()

    # -- helpers ------------------------------------------------------------------------------------------
    def finding(
        self,
        facts: FileFacts,
        span: Span,
        message: str,
        *,
        severity: Optional[Severity] = None,
        fix: Optional[Fix] = None,
        evidence: Iterable[Evidence] = (),
        next_command: Optional[str] = None,
        advice: str = "",
    ) -> Finding:
        note = facts.notes.get(span)
        return Finding(
            code=self.code,
            name=self.name,
            severity=severity or self.severity,
            message=f"{message} ({note})" if note else message,
            filename=facts.path,
            span=span,
            fix=fix,
            evidence=list(evidence),
            next_command=next_command,
            advice=advice,
            related=[(facts.path, sp, what) for sp, what in facts.related.get(span, ())],
        )

    def make_fix(self, candidate: Optional[FixCandidate], message: str, applicability: Optional[Applicability] = None) -> Optional[Fix]:
        if candidate is None:
            return None
        if candidate.advice_only:
            return Fix(Applicability.DISPLAY_ONLY, f"{message} (not applied automatically: {candidate.advice_only})")
        if not candidate.edits:
            return None
        level = applicability or self.fix_applicability
        if (candidate.comment_loss or candidate.side_effects) and level == Applicability.SAFE:
            level = Applicability.UNSAFE
        return Fix(level, message, list(candidate.edits))

    @classmethod
    def live_evidence(cls, knowledge: "Knowledge") -> list[str]:
        """The packaged measurement rows behind the rule's claim, one line each, computed now (``ecolint rule
        CODE`` prints them). Rules whose claim rests on measurements override this."""
        return []

    @classmethod
    def documentation(cls) -> str:
        return textwrap.dedent(inspect.getdoc(cls) or "").strip()

    @classmethod
    def describe(cls) -> dict[str, Any]:
        return {
            "code": cls.code,
            "name": cls.name,
            "severity": cls.severity.value,
            "fix": cls.fix_applicability.value,
            "summary": cls.summary,
        }
