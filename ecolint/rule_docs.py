"""Live evidence for ``ecolint rule CODE``: the packaged rows behind each rule's claim, computed now."""

from __future__ import annotations

from ecolint.knowledge import Knowledge
from ecolint.knowledge.evidence import describe_pair

# rule code -> (baseline quant, compared quant, max params) for the pairs that back the rule
RULE_PAIRS = {
    "ECO101": ("fp16", "int8_default", None),
    "ECO102": ("fp16", "nf4", 3.0),
}


def live_evidence(rule) -> list[str]:
    k = Knowledge.load()
    spec = RULE_PAIRS.get(rule.code)
    lines: list[str] = []
    if spec:
        base, other, max_params = spec
        for p in k.pairs(base, other):
            if max_params is not None and p.base.params_b > max_params:
                continue
            lines.append(describe_pair(p) + f" [{p.base.experiment}]")
    elif rule.code == "ECO201" or rule.code == "ECO202":
        base = k.query(experiment="a800_2026-02-15_batch_sweep", batch_size=1)
        if base:
            b = base[0]
            for r in k.query(experiment="a800_2026-02-15_batch_sweep"):
                if r.batch_size and r.batch_size > 1:
                    d = (r.energy_j_per_1k_tok - b.energy_j_per_1k_tok) / b.energy_j_per_1k_tok * 100
                    lines.append(f"a800 {r.model} int8_pure BS=1 -> BS={r.batch_size}: {d:+.1f} % energy per token (rows {b.row_id}->{r.row_id})")
    return lines
