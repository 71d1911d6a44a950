"""Write the rule reference, ``docs/rules/CODE.md`` and ``docs/rules/README.md``, from the built-in rules'
docstrings: ``python -m ecolint.docs [DIR]`` (default: the ``docs`` folder next to the package), or
``--check`` to exit 1 when the files on disk differ from the rules (the test suite runs it)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ecolint.rule import Rule

DEFAULT_DIR = Path(__file__).resolve().parent.parent / "docs"


def rule_page(rule: type[Rule]) -> str:
    head = [
        f"# {rule.code} {rule.name}",
        "",
        f"Default severity: **{rule.severity.value}** · fix: **{rule.fix_applicability.value}**",
        "",
    ]
    if rule.summary:
        head += [rule.summary, ""]
    doc = rule.documentation()
    return "\n".join(head) + "\n" + (doc + "\n" if doc else "")


def index_page(rules: list[type[Rule]]) -> str:
    lines = ["# Rules", "", "Generated from the rules' documentation by `python -m ecolint.docs`; do not edit by hand.", "",
             "| code | name | severity | fix | summary |", "|---|---|---|---|---|"]
    for r in rules:
        summary = " ".join(r.summary.split()).replace("|", "\\|")
        lines.append(f"| [{r.code}]({r.code}.md) | {r.name} | {r.severity.value} | {r.fix_applicability.value} | {summary} |")
    return "\n".join(lines) + "\n"


def pages() -> dict[str, str]:
    """File name (below ``docs/rules``) -> content, for every built-in rule and the index."""
    from ecolint.registry import builtin_rules

    rules = sorted(builtin_rules(), key=lambda r: r.code)
    out = {f"{r.code}.md": rule_page(r) for r in rules}
    out["README.md"] = index_page(rules)
    return out


def drift(directory: Path) -> list[str]:
    """The files under ``directory/rules`` that are missing, stale or no longer belong to a rule."""
    want = pages()
    rules_dir = directory / "rules"
    have = {p.name for p in rules_dir.glob("*.md")} if rules_dir.is_dir() else set()
    stale = [name for name, text in want.items() if not (rules_dir / name).is_file() or (rules_dir / name).read_text(encoding="utf-8") != text]
    return sorted(stale + sorted(have - set(want)))


def write(directory: Path) -> None:
    rules_dir = directory / "rules"
    rules_dir.mkdir(parents=True, exist_ok=True)
    want = pages()
    for old in rules_dir.glob("*.md"):
        if old.name not in want:
            old.unlink()
    for name, text in want.items():
        (rules_dir / name).write_text(text, encoding="utf-8", newline="\n")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m ecolint.docs", description="Write docs/rules/*.md from the rules' docstrings.")
    p.add_argument("directory", nargs="?", type=Path, default=DEFAULT_DIR)
    p.add_argument("--check", action="store_true", help="exit 1 if the files differ from the rules; write nothing")
    args = p.parse_args(argv)
    if args.check:
        stale = drift(args.directory)
        for name in stale:
            print(f"{args.directory / 'rules' / name} is out of date; run `python -m ecolint.docs`", file=sys.stderr)
        return 1 if stale else 0
    write(args.directory)
    return 0


if __name__ == "__main__":
    sys.exit(main())
