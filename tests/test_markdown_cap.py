"""The Markdown report fits a GitHub comment (65,536 characters), links locations to the commit under GitHub
Actions, and shows fixes as diffs with context (issue 19)."""

from __future__ import annotations

from ecolint.facts import Edit, Span
from ecolint.report import ReportContext, render
from ecolint.report.markdown import LIMIT
from ecolint.rule import Applicability, Evidence, Finding, Fix, Severity

GITHUB_LIMIT = 65_536
SEVERITIES = [Severity.INFO, Severity.YELLOW, Severity.RED]


def synthetic(n: int) -> list[Finding]:
    out = []
    for i in range(n):
        ev = [Evidence(str(i % 40 + j), "a800", f"Model-{i % 7}", "int8_default", 1, 1000.0 + i, "owner/repo:data/file.csv", "exp", "total_board_power", "a note " * 5) for j in range(3)]  # noqa: E501
        out.append(
            Finding(
                f"ECO{101 + i % 4}", "some-rule", SEVERITIES[i % 3], "a long message about energy per token " * 6, f"pkg/mod_{i % 50}.py", Span(i % 90 + 1, 1, i % 90 + 1, 10),
                fix=Fix(Applicability.DISPLAY_ONLY, "do the thing"), evidence=ev, advice="advice " * 20, next_command="ecolint optimize --model x",
            )
        )
    return out


def test_500_findings_stay_under_the_comment_limit():
    findings = synthetic(500)
    text = render("markdown", findings, ReportContext(files_checked=50))
    assert len(text) <= LIMIT < GITHUB_LIMIT
    assert text.startswith("## ecolint: 500 findings in 50 files\n")
    assert "| \U0001f534 red | 166 |" in text, "the summary counts every finding"
    shown = text.count("\n### ")
    assert 0 < shown < 500
    assert f"**{500 - shown} more findings not shown**" in text and "SARIF or JSON report" in text
    # the most severe first: every red finding before any yellow one
    heads = [line for line in text.splitlines() if line.startswith("### ")]
    ranks = [3 if "(red)" in h else 2 if "(yellow)" in h else 1 for h in heads]
    assert ranks == sorted(ranks, reverse=True)
    assert text.count("<details><summary>Evidence: ") == 1


def test_huge_messages_stay_under_the_limit():
    findings = synthetic(3)
    for f in findings:
        f.message = "x" * 70_000
    assert len(render("markdown", findings, ReportContext())) <= LIMIT


def test_small_reports_are_not_cut():
    text = render("markdown", synthetic(5), ReportContext())
    assert text.count("\n### ") == 5 and "not shown" not in text


def test_locations_link_to_the_commit_under_github_actions(tmp_path, monkeypatch):
    (tmp_path / ".git").mkdir()
    (tmp_path / "src").mkdir()
    monkeypatch.chdir(tmp_path)
    f = Finding("ECO301", "kv-cache-disabled", Severity.YELLOW, "m", "src/a b.py", Span(7, 3, 7, 9))
    monkeypatch.delenv("GITHUB_SHA", raising=False)
    text = render("markdown", [f], ReportContext())
    assert "at `src/a b.py:7:3`" in text and "](" not in text, "no link without the commit: none can be dead"
    monkeypatch.setenv("GITHUB_SERVER_URL", "https://github.com")
    monkeypatch.setenv("GITHUB_REPOSITORY", "octo/proj")
    monkeypatch.setenv("GITHUB_SHA", "0123456789abcdef0123456789abcdef01234567")
    text = render("markdown", [f], ReportContext())
    assert "at [`src/a b.py:7:3`](https://github.com/octo/proj/blob/0123456789abcdef0123456789abcdef01234567/src/a%20b.py#L7)" in text
    monkeypatch.setenv("GITHUB_REPOSITORY", "octo/proj)[x](y")  # not a repository name: no link
    assert "](" not in render("markdown", [f], ReportContext())


def test_fix_diff_has_context_lines():
    lines = ["import torch", "a = 1", "b = 2", "m.generate(use_cache=False)", "c = 3", "d = 4", "e = 5"]
    edit = Edit(Span(4, 12, 4, 27), "")
    f = Finding("ECO301", "kv", Severity.YELLOW, "m", "a.py", Span(4, 12, 4, 27), fix=Fix(Applicability.UNSAFE, "Remove it", [edit]))
    text = render("markdown", [f], ReportContext(source_lines=lambda p: lines))
    assert "```diff\n@@ -2,5 +2,5 @@\n a = 1\n b = 2\n-m.generate(use_cache=False)\n+m.generate()\n c = 3\n d = 4\n```" in text
    assert "e = 5" not in text and "import torch" not in text
