"""ECO905 templated-config."""

from __future__ import annotations

from ecolint.rule import Applicability, Rule, Severity


class TemplatedConfig(Rule):
    """
    ## What it does
    Reports a YAML or TOML file that holds template syntax (`{{ … }}`, `{% … %}`) and so cannot be parsed
    as the deployed configuration.

    ## Why is this bad?
    The rendered config is what runs; lint the rendered output instead (for Helm, `helm template … > out.yaml`).

    ## Fix safety
    No fix.
    """

    code = "ECO905"
    name = "templated-config"
    severity = Severity.INFO
    fix_applicability = Applicability.DISPLAY_ONLY
    summary = "a templated config (Helm, Jinja) that cannot be analysed as written"
    tags = ("ecolint",)
    engine_emitted = True
    VALID = ()
    INVALID = ()
