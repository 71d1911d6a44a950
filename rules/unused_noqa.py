"""ECO902 unused-noqa."""

from __future__ import annotations

from ecolint.rule import Applicability, Example, Rule, Severity


class UnusedNoqa(Rule):
    """
    ## What it does
    Reports `# noqa: ECO…` directives that name an ecolint code which did not fire on that line.

    ## Why is this bad?
    A stale suppression hides nothing today but will silently hide a real finding later. Codes of other tools
    (`E501`, `F401`, `B615` …) and bare `# noqa` are left alone.

    ## Example
    ```python
    model = AutoModelForCausalLM.from_pretrained(mid, torch_dtype="auto")  # noqa: ECO401
    ```

    ## Fix safety
    No automatic fix yet: delete the code from the directive.
    """

    code = "ECO902"
    name = "unused-noqa"
    severity = Severity.INFO
    fix_applicability = Applicability.DISPLAY_ONLY
    summary = "a noqa directive naming an ecolint code that suppressed nothing"
    tags = ("ecolint",)
    engine_emitted = True
    VALID = (Example("x = 1  # noqa: E501\n"),)
    INVALID = (Example("x = 1  # noqa: ECO101\n", line=1, col=8, message='unused noqa directive', count=1),)
