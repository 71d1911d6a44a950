"""ECO904 file-too-large."""

from __future__ import annotations

from ecolint.rule import Applicability, Rule, Severity


class FileTooLarge(Rule):
    """
    ## What it does
    Reports a file larger than `max-file-size` (default 2,000,000 bytes), which is skipped unread.

    For a notebook the limit applies to its code cells: outputs (plots, images, logs) are not analysed, so a
    notebook may be up to 16 times the limit on disk and is skipped only when its code is over the limit. A
    JSON file over the limit that was found by walking a directory is taken for data (a dataset, a request
    payload with an encoded image) and skipped without this note; named on the command line, it is reported.

    ## Why is this bad?
    Huge generated files (vendored code, data dumps) are rarely hand-written inference code and would slow
    every run; the limit keeps runs bounded. Raise `max-file-size` in `[tool.ecolint]` to include them.

    ## Fix safety
    No fix.
    """

    code = "ECO904"
    name = "file-too-large"
    severity = Severity.INFO
    fix_applicability = Applicability.DISPLAY_ONLY
    summary = "a file over the max-file-size limit was skipped"
    tags = ("ecolint",)
    engine_emitted = True
    VALID = ()
    INVALID = ()
