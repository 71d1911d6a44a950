"""``add_noqa`` (issue 19): a ``# noqa: CODE`` on each finding's line in every syntax with comments, merged
with an existing one, refused where a ``#`` would not be a comment; then the check is clean."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ecolint import cli
from ecolint.add_noqa import add_noqa
from ecolint.facts import Span
from ecolint.rule import Finding, Severity
from ecolint.sources import kind_for

FIXTURES = Path(__file__).parent.parent / "fixtures"


def findings_of(capsys, *paths: str) -> list[Finding]:
    cli.main(["check", *paths, "--no-cache", "--output-format", "json"])
    return [Finding.from_dict(d) for d in json.loads(capsys.readouterr().out)]


def finding(code: str, line: int, name: str = "a.py") -> Finding:
    return Finding(code, "x", Severity.YELLOW, "m", name, Span(line, 1, line, 2))


def test_round_trip_on_the_fixtures(tmp_path, monkeypatch, capsys):
    """add-noqa on every file, then check: only the findings it refused remain (ECO9xx, continuation lines,
    YAML block scalars), and no noqa it wrote is unused."""
    import shutil

    root = tmp_path / "fx"
    shutil.copytree(FIXTURES, root)
    monkeypatch.chdir(root)
    before = findings_of(capsys, ".")
    assert before
    refused = []
    for name in sorted({f.filename for f in before}):
        path = Path(name)
        # (surrogateescape: a broken binary notebook has only ECO901, which is refused, and is written back as read)
        text, why = add_noqa(path.read_text(encoding="utf-8", errors="surrogateescape"), [f for f in before if f.filename == name], kind_for(path))
        path.write_text(text, encoding="utf-8", errors="surrogateescape")
        refused += why
    after = findings_of(capsys, ".")
    def key(f):
        return (f.filename, f.code, f.span.line)

    assert sorted(map(key, after)) == sorted(key(r.finding) for r in refused)
    assert not any(f.code == "ECO902" and f not in [r.finding for r in refused] for f in after)
    in_notebooks = [r for r in refused if r.finding.filename.endswith(".ipynb")]  # add-noqa leaves notebook cells alone
    assert all("notebook" in r.reason or r.finding.code.startswith("ECO9") for r in in_notebooks)
    assert len(refused) - len(in_notebooks) < len([f for f in before if not f.filename.endswith(".ipynb")]) / 3


@pytest.mark.parametrize(
    "kind,text,line,expected",
    [
        ("python", "x = load(a)\n", 1, "x = load(a)  # noqa: ECO101\n"),
        ("python", "x = load(a)  # keep\n", 1, "x = load(a)  # keep  # noqa: ECO101\n"),
        ("python", "x = load(a)  # noqa: ECO202\n", 1, "x = load(a)  # noqa: ECO101, ECO202\n"),
        ("python", "x = load(a)  # noqa\n", 1, "x = load(a)  # noqa\n"),
        ("yaml", "quantize: bitsandbytes\n", 1, "quantize: bitsandbytes  # noqa: ECO101\n"),
        ("toml", "load_in_8bit = true\n", 1, "load_in_8bit = true  # noqa: ECO101\n"),
        ("shell", "text-generation-launcher --quantize bitsandbytes\n", 1, "text-generation-launcher --quantize bitsandbytes  # noqa: ECO101\n"),
        ("dockerfile", "FROM x\nRUN serve --quantize bitsandbytes\n", 2, "FROM x\nRUN serve --quantize bitsandbytes  # noqa: ECO101\n"),
        ("python", "x = 1\r\ny = load(a)\r\n", 2, "x = 1\r\ny = load(a)  # noqa: ECO101\r\n"),
    ],
)
def test_placement(kind, text, line, expected):
    new, refused = add_noqa(text, [finding("ECO101", line)], kind)
    assert (new, refused) == (expected, [])


@pytest.mark.parametrize(
    "kind,text,line",
    [
        ("python", 'x = """\nload_in_8bit=True\n"""\n', 2),  # inside a multi-line string
        ("yaml", "cmd: |\n  --quantize bitsandbytes\n", 2),  # inside a block scalar
        ("shell", "serve \\\n  --quantize bitsandbytes\n", 1),  # a continuation line
        ("dockerfile", "FROM x\nENV QUANTIZE=bitsandbytes\n", 2),  # ENV takes no trailing comment
    ],
)
def test_refusals_leave_the_text_alone(kind, text, line):
    new, refused = add_noqa(text, [finding("ECO101", line)], kind)
    assert new == text
    assert len(refused) == 1 and refused[0].reason


def test_several_codes_on_one_line_and_engine_findings():
    new, refused = add_noqa("a = f(x)\nb = g(y)\n", [finding("ECO202", 2), finding("ECO101", 2), finding("ECO900", 1)], "python")
    assert new == "a = f(x)\nb = g(y)  # noqa: ECO101, ECO202\n"
    assert [r.finding.code for r in refused] == ["ECO900"]
