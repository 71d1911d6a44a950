"""ECO900 syntax-error."""

from __future__ import annotations

from ecolint.rule import Applicability, Example, Rule, Severity


class SyntaxErrorRule(Rule):
    """
    ## What it does
    Reports a file ecolint cannot parse: invalid Python (including Python 2 syntax or IPython `!`/`%` lines),
    invalid YAML or TOML, or nesting too deep to analyse.

    ## Why is this bad?
    Nothing in the file was checked, so its energy problems (if any) are invisible. The run goes on with the
    other files; the finding names the line and column where parsing stopped.

    ## Example
    ```python
    print "hello"
    ```

    ## Fix safety
    No fix: correct the syntax, or exclude the file (`extend-exclude`).
    """

    code = "ECO900"
    name = "syntax-error"
    severity = Severity.YELLOW
    fix_applicability = Applicability.DISPLAY_ONLY
    summary = "a file that cannot be parsed (Python, YAML or TOML)"
    tags = ("ecolint",)
    engine_emitted = True
    VALID = (Example("x = 1\n"),)
    INVALID = (Example("print \"hello\"\n", line=1, col=1, message='cannot parse Python', count=1),)
