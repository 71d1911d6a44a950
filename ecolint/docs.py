"""Write the rule reference, ``docs/rules/CODE.md`` and ``docs/rules/README.md``, from the built-in rules'
docstrings: ``python -m ecolint.docs [DIR]`` (default: the ``docs`` folder next to the package), or
``--check`` to exit 1 when the files on disk differ from the rules (the test suite runs it).
``python -m ecolint.docs --readme [README]`` rewrites the rule table of the project README between its markers
(with ``--check``: exit 1 when it differs)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ecolint.rule import Rule

DEFAULT_DIR = Path(__file__).resolve().parent.parent / "docs"
DEFAULT_README = DEFAULT_DIR.parent / "README.md"
TABLE_START = "<!-- rule table: generated from the rule classes by `python -m ecolint.docs --readme`; do not edit -->"
TABLE_END = "<!-- end of rule table -->"
_FIX_WORDS = {"display-only": "advice"}


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


def readme_table(rules: list[type[Rule]]) -> str:
    """The README's rule table: one row per rule, from its class (code, name, severity, fix, summary)."""
    lines = ["| code | name | severity | fix | what it flags |", "|---|---|---|---|---|"]
    for r in rules:
        severity = r.severity.value + (f" ({r.severity_note})" if r.severity_note else "")
        fix = "—" if r.engine_emitted else _FIX_WORDS.get(r.fix_applicability.value, r.fix_applicability.value)
        summary = " ".join(r.summary.split()).replace("|", "\\|")
        lines.append(f"| {r.code} | {r.name} | {severity} | {fix} | {summary} |")
    return "\n".join(lines) + "\n"


def with_readme_table(readme: str) -> str:
    """``readme`` with the text between the table markers replaced by the generated table."""
    from ecolint.registry import builtin_rules

    start, end = readme.find(TABLE_START), readme.find(TABLE_END)
    if start == -1 or end < start:
        raise ValueError(f"the README has no rule-table markers ({TABLE_START!r} ... {TABLE_END!r})")
    table = readme_table(sorted(builtin_rules(), key=lambda r: r.code))
    return readme[: start + len(TABLE_START)] + "\n" + table + readme[end:]


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
    p.add_argument("--readme", nargs="?", type=Path, const=DEFAULT_README, default=None, metavar="README",
                   help="the README whose rule table to write (default: the project README) instead of docs/rules")
    args = p.parse_args(argv)
    if args.readme is not None:
        text = args.readme.read_text(encoding="utf-8")
        want = with_readme_table(text)
        if args.check:
            if want != text:
                print(f"the rule table in {args.readme} is out of date; run `python -m ecolint.docs --readme`", file=sys.stderr)
            return 1 if want != text else 0
        args.readme.write_text(want, encoding="utf-8", newline="\n")
        return 0
    if args.check:
        stale = drift(args.directory)
        for name in stale:
            print(f"{args.directory / 'rules' / name} is out of date; run `python -m ecolint.docs`", file=sys.stderr)
        return 1 if stale else 0
    write(args.directory)
    return 0


if __name__ == "__main__":
    sys.exit(main())
