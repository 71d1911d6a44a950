"""A third-party rule registered under the ``ecolint.rules`` entry-point group runs with the built-in API."""

from __future__ import annotations

import json
import os
import textwrap

from conftest import run_cli

PLUGIN = textwrap.dedent('''
    from ecolint.rule import Example, Rule, Severity


    class NoGreedyForChat(Rule):
        """
        ## What it does
        Flags generation with more than 4 beams (a house rule).

        ## Why is this bad?
        Beam search multiplies the work per token.

        ## Fix safety
        No fix.
        """

        code = "ACME001"
        name = "too-many-beams"
        severity = Severity.YELLOW
        summary = "beam search with more than 4 beams"
        triggers = ("num_beams",)

        def check(self, facts, ctx):
            for gen in facts.generations:
                yield self.finding(facts, gen.span, f"house rule: {gen.api} seen by a plugin")
''')


def _install_plugin(tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    (site / "acme_rules.py").write_text(PLUGIN)
    dist = site / "acme_rules-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-rules\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[ecolint.rules]\ntoo-many-beams = acme_rules:NoGreedyForChat\n")
    return site


def test_entry_point_rule_runs(tmp_path):
    site = _install_plugin(tmp_path)
    target = tmp_path / "gen.py"
    target.write_text("out = model.generate(**inputs, num_beams=8)\n")
    env = {"PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")])}
    listing = run_cli("rules", env=env)
    assert "ACME001" in listing.stdout and "too-many-beams" in listing.stdout
    proc = run_cli("check", str(target), "--output-format", "json", "--select", "ACME", env=env)
    assert proc.returncode == 1, proc.stderr
    data = json.loads(proc.stdout)
    assert [(f["code"], f["location"]["row"]) for f in data] == [("ACME001", 1)]
    assert "model.generate seen by a plugin" in data[0]["message"]


def test_broken_plugin_is_a_clear_error(tmp_path):
    site = _install_plugin(tmp_path)
    (site / "acme_rules-0.1.dist-info" / "entry_points.txt").write_text("[ecolint.rules]\nbad = acme_rules:DoesNotExist\n")
    env = {"PYTHONPATH": str(site)}
    proc = run_cli("check", str(tmp_path), env=env)
    assert proc.returncode == 2
    assert "cannot load rule plugin 'bad'" in proc.stderr
    assert "Traceback" not in proc.stderr
