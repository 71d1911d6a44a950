"""ECO903 internal-error."""

from __future__ import annotations

from ecolint.rule import Applicability, Rule, Severity


class InternalError(Rule):
    """
    ## What it does
    Reports an exception raised by one rule or front end on one file. The finding names the rule; `-v`
    prints the traceback. The other rules and files are still checked, and the run exits 2.

    ## Why is this bad?
    Part of the file was not checked. Please report it with the traceback.

    ## Fix safety
    No fix.
    """

    code = "ECO903"
    name = "internal-error"
    severity = Severity.RED
    fix_applicability = Applicability.DISPLAY_ONLY
    summary = "ecolint failed on a file (a bug in a rule or front end)"
    tags = ("ecolint",)
    engine_emitted = True
    VALID = ()
    INVALID = ()
