"""SARIF output: valid against the OASIS 2.1.0 schema (vendored in tests/data, see its README) and carrying
what GitHub code scanning reads."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from ecolint import __version__, cli
from ecolint.registry import all_rules
from ecolint.report.sarif import artifact_location

jsonschema = pytest.importorskip("jsonschema")

DATA = Path(__file__).parent / "data"
SCHEMA = json.loads((DATA / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))


@pytest.fixture
def repo(tmp_path, monkeypatch):
    root = tmp_path / "repo"
    shutil.copytree(DATA / "formats", root)
    (root / ".git").mkdir()
    sub = root / "my scripts#1"
    sub.mkdir()
    # a non-ASCII comment before the finding: columns count code points, not bytes or UTF-16 units
    (sub / "bätch.py").write_text(
        "import torch\nfrom transformers import AutoModelForCausalLM\n"
        'm = AutoModelForCausalLM.from_pretrained("Qwen/Qwen2.5-7B-Instruct", device_map="cuda"); x = "\U0001f600é"; m.generate(use_cache=False)\n',
        encoding="utf-8",
    )
    monkeypatch.chdir(root)
    return root


def sarif(capsys, *paths: str) -> dict:
    cli.main(["check", *paths, "--output-format", "sarif"])
    return json.loads(capsys.readouterr().out)


def errors(log: dict) -> list[str]:
    validator = jsonschema.Draft4Validator(SCHEMA)
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(log)]


def test_schema_is_the_oasis_draft4_schema():
    assert SCHEMA["$schema"] == "http://json-schema.org/draft-04/schema#"
    assert SCHEMA["id"].endswith("/sarif-schema-2.1.0.json")
    assert jsonschema.validators.validator_for(SCHEMA) is jsonschema.Draft4Validator


def test_valid_against_schema(repo, capsys):
    log = sarif(capsys, ".")
    assert errors(log) == []
    assert len(log["runs"][0]["results"]) >= 5


def test_valid_without_findings(repo, capsys):
    log = sarif(capsys, "clean.py")
    assert errors(log) == []
    assert log["runs"][0]["results"] == []
    assert log["runs"][0]["tool"]["driver"]["rules"], "code scanning needs the rules even without results"


def test_schema_catches_broken_logs(repo, capsys):
    log = sarif(capsys, ".")
    log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"] = 0
    assert errors(log), "the validator must reject a 0-based line"


def test_driver_and_rules(repo, capsys):
    log = sarif(capsys, ".")
    assert log["version"] == "2.1.0"
    run = log["runs"][0]
    driver = run["tool"]["driver"]
    assert driver["name"] == "ecolint" and driver["version"] == __version__
    assert "informationUri" not in driver, "no project URL is configured: no guessed address"
    rules = driver["rules"]
    assert [r["id"] for r in rules] == [r.code for r in all_rules()]
    levels = {"red": "error", "yellow": "warning", "info": "note"}
    for desc, rule in zip(rules, all_rules()):
        assert desc["name"] == rule.name
        assert desc["shortDescription"]["text"] == rule.summary
        assert 0 < len(desc["fullDescription"]["text"]) <= 1024
        assert desc["help"]["text"] and desc["help"]["markdown"] == rule.documentation()
        assert "## Why is this bad?" in desc["help"]["markdown"]
        assert "helpUri" not in desc, "no documentation URL is configured: never a dead link"
        assert desc["defaultConfiguration"]["level"] == levels[rule.severity.value]
        props = desc["properties"]
        assert props["precision"] in ("very-high", "high", "medium", "low")
        assert props["problem.severity"] in ("error", "warning", "recommendation")
        assert 0 < len(props["tags"]) <= 20
        assert "security-severity" not in props  # energy rules are not security rules
    assert run["columnKind"] == "unicodeCodePoints"
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == repo.as_uri() + "/"


def test_results(repo, capsys):
    log = sarif(capsys, ".")
    run = log["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    by_rule = {}
    for res in run["results"]:
        assert rules[res["ruleIndex"]]["id"] == res["ruleId"]
        assert res["level"] in ("error", "warning", "note")
        assert res["message"]["text"]
        assert set(res["partialFingerprints"]) == {"ecolint/v1"} and "fingerprints" not in res
        loc = res["locations"][0]["physicalLocation"]
        assert loc["artifactLocation"]["uriBaseId"] == "%SRCROOT%"
        region = loc["region"]
        assert region["startLine"] >= 1 and region["startColumn"] >= 1
        assert (region["endLine"], region["endColumn"]) >= (region["startLine"], region["startColumn"])
        by_rule[res["ruleId"]] = res
    eco101 = by_rule["ECO101"]
    assert eco101["level"] == "error"
    assert eco101["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "chat_int8.py"
    assert eco101["locations"][0]["physicalLocation"]["region"] == {"startLine": 6, "startColumn": 26, "endLine": 6, "endColumn": 43}
    # evidence rows travel in the result's property bag
    rows = eco101["properties"]["evidence"]
    assert rows and {"row_id", "gpu", "model", "quant", "energy_j_per_1k_tok", "source"} <= set(rows[0])
    assert by_rule["ECO104"]["level"] == "note"


def test_fixes_for_editors(repo, capsys):
    log = sarif(capsys, "chat_int8.py")
    results = {r["ruleId"]: r for r in log["runs"][0]["results"]}
    fix = results["ECO104"]["fixes"][0]
    change = fix["artifactChanges"][0]
    assert change["artifactLocation"] == {"uri": "chat_int8.py", "uriBaseId": "%SRCROOT%"}
    rep = change["replacements"][0]
    assert rep["deletedRegion"]["startLine"] == 6
    assert rep["insertedContent"]["text"] == ""  # the fix deletes the option (and its separator), nothing else
    assert fix["properties"]["applicability"] == "safe"
    assert "fixes" not in results["ECO201"]  # display-only: advice, no edits
    # applying the SARIF replacement reproduces what --fix writes
    line = (repo / "chat_int8.py").read_text(encoding="utf-8").splitlines()[5]
    region = rep["deletedRegion"]
    fixed = line[: region["startColumn"] - 1] + rep["insertedContent"]["text"] + line[region["endColumn"] - 1 :]
    assert fixed == "bnb = BitsAndBytesConfig(load_in_8bit=True)"


def test_uri_is_percent_encoded_and_columns_are_code_points(repo, capsys):
    log = sarif(capsys, ".")
    assert errors(log) == []
    res = [r for r in log["runs"][0]["results"] if "bätch" in json.dumps(r, ensure_ascii=False) or "b%C3%A4tch" in json.dumps(r)]
    assert res
    loc = res[0]["locations"][0]["physicalLocation"]
    assert loc["artifactLocation"]["uri"] == "my%20scripts%231/b%C3%A4tch.py"
    use_cache = [r for r in res if r["ruleId"] == "ECO301"][0]
    line = (repo / "my scripts#1" / "bätch.py").read_text(encoding="utf-8").splitlines()[2]
    region = use_cache["locations"][0]["physicalLocation"]["region"]
    assert line[region["startColumn"] - 1 : region["endColumn"] - 1] == "use_cache=False"


def test_paths_outside_the_root_are_absolute_file_uris(tmp_path):
    other = tmp_path / "elsewhere" / "x.py"
    loc = artifact_location(str(other), tmp_path / "repo")
    assert loc == {"uri": other.as_uri()}


def test_bundled_fixtures_give_valid_sarif(tmp_path, monkeypatch, capsys):
    src = Path(__file__).resolve().parent.parent / "fixtures"
    if not src.is_dir():
        pytest.skip("no bundled fixtures")
    shutil.copytree(src, tmp_path / "fixtures")
    (tmp_path / ".git").mkdir()
    monkeypatch.chdir(tmp_path)
    log = sarif(capsys, "fixtures")
    assert errors(log) == []
    kinds = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].rsplit(".", 1)[-1] for r in log["runs"][0]["results"]}
    assert {"py", "yaml"} <= kinds


def _by_rule_and_file(log: dict) -> dict:
    return {(r["ruleId"], r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]): r for r in log["runs"][0]["results"]}


def test_partial_fingerprints_survive_line_moves(repo, capsys):
    before = _by_rule_and_file(sarif(capsys, "."))
    src = repo / "chat_int8.py"
    src.write_text("# a header\n\n\n" + src.read_text(encoding="utf-8").replace("    out = ", "    out  =  "), encoding="utf-8")
    after = _by_rule_and_file(sarif(capsys, "."))
    assert set(after) == set(before)
    eco101 = ("ECO101", "chat_int8.py")
    assert after[eco101]["locations"][0]["physicalLocation"]["region"]["startLine"] == 9
    for key in before:  # lines moved, whitespace inside the flagged line changed: the same alerts
        assert after[key]["partialFingerprints"] == before[key]["partialFingerprints"], key
    prints = [r["partialFingerprints"]["ecolint/v1"] for r in after.values()]
    assert len(prints) == len(set(prints))
    src.write_text(src.read_text(encoding="utf-8").replace("MODEL, quantization_config=bnb", "MODEL,quantization_config=bnb").replace("load_in_8bit=True,", "load_in_8bit=True, llm_int8_skip_modules=None,"), encoding="utf-8")  # noqa: E501
    assert _by_rule_and_file(sarif(capsys, "."))[eco101]["partialFingerprints"] != before[eco101]["partialFingerprints"], "editing the flagged code is a new alert"


def test_identical_lines_get_distinct_fingerprints():
    from ecolint.facts import Span
    from ecolint.report.fingerprint import fingerprint, fingerprints
    from ecolint.rule import Finding, Severity

    text = "m.generate(use_cache=False)\nm.generate(use_cache=False)\n"
    a = Finding("ECO301", "kv", Severity.YELLOW, "m", "a.py", Span(1, 12, 1, 27))
    b = Finding("ECO301", "kv", Severity.YELLOW, "m", "a.py", Span(2, 12, 2, 27))
    fa, fb = fingerprints([b, a], {"a.py": text})[::-1]
    assert fa != fb and fa.endswith(":0") and fb.endswith(":1")
    assert fingerprint(a, text) == fa


def test_related_locations_are_valid(repo):
    from ecolint.facts import Span
    from ecolint.report import ReportContext
    from ecolint.report.sarif import sarif_log
    from ecolint.rule import Finding, Severity

    f = Finding("ECO103", "x", Severity.INFO, "m", "chat_int8.py", Span(2, 1, 2, 5), related=[("fp32_eval.py", Span(3, 1, 3, 4), "the GPU is set here")])
    log = sarif_log([f], ReportContext())
    assert errors(log) == []
    rel = log["runs"][0]["results"][0]["relatedLocations"]
    assert rel == [{"id": 0, "physicalLocation": {"artifactLocation": {"uri": "fp32_eval.py", "uriBaseId": "%SRCROOT%"}, "region": {"startLine": 3, "startColumn": 1, "endLine": 3, "endColumn": 4}}, "message": {"text": "the GPU is set here"}}]  # noqa: E501


def test_help_uri_points_at_the_generated_rule_page(monkeypatch):
    from ecolint.report import sarif as sarif_mod

    monkeypatch.setattr(sarif_mod, "_URLS", {"documentation": "https://example.org/project/docs"})
    rule = all_rules()[0]
    uri = sarif_mod.rule_descriptor(rule)["helpUri"]
    assert uri == f"https://example.org/project/docs/rules/{rule.code}.md"
    page = Path(__file__).parent.parent / "docs" / "rules" / f"{rule.code}.md"
    assert page.is_file(), "helpUri names a file that exists in the repository"


def test_rule_docs_match_the_rules(tmp_path):
    """docs/rules is generated by ``python -m ecolint.docs``; this fails when a rule's docstring changes and
    the docs are not regenerated."""
    from ecolint import docs

    assert docs.drift(Path(__file__).parent.parent / "docs") == []
    assert docs.main(["--check", str(tmp_path)]) == 1
    docs.write(tmp_path)
    assert docs.main(["--check", str(tmp_path)]) == 0
    (tmp_path / "rules" / "ECO101.md").write_text("old", encoding="utf-8")
    assert docs.drift(tmp_path) == ["ECO101.md"]
    page = (tmp_path / "rules" / "ECO102.md").read_text(encoding="utf-8")
    rule = next(r for r in all_rules() if r.code == "ECO102")
    assert page.startswith(f"# ECO102 {rule.name}\n") and rule.documentation() in page
