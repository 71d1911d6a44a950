"""ECO901 unreadable-file."""

from __future__ import annotations

from ecolint.rule import Applicability, Example, Rule, Severity


class UnreadableFile(Rule):
    """
    ## What it does
    Reports a file that cannot be read (permissions, a directory named like a file, a symlink loop, a FIFO,
    device or socket, or a symlink to one: only regular files are read) or decoded (invalid UTF-8, a wrong
    PEP 263 coding cookie, NUL bytes from a binary file).

    ## Why is this bad?
    The file was not analysed. ecolint never guesses an encoding: Python files are decoded as their BOM or
    coding cookie says, configs as UTF-8.

    ## Fix safety
    No fix: re-encode the file as UTF-8 or exclude it.
    """

    code = "ECO901"
    name = "unreadable-file"
    severity = Severity.YELLOW
    fix_applicability = Applicability.DISPLAY_ONLY
    summary = "a file that cannot be read or decoded"
    tags = ("ecolint",)
    engine_emitted = True
    VALID = (Example("# -*- coding: latin-1 -*-\nname = \"caf\xe9\"\n"),)
    INVALID = ()
