"""The command line as a user meets it: exit codes, selection, config, suppression, rule docs."""

from __future__ import annotations

import json
import textwrap

from conftest import run_cli

BAD = "from transformers import BitsAndBytesConfig\nbnb = BitsAndBytesConfig(load_in_8bit=True)\n"
GOOD = "import torch\nx = torch.zeros(3)\n"


def test_plain_path_means_check(tmp_path):
    (tmp_path / "bad.py").write_text(BAD)
    a = run_cli("check", str(tmp_path), "--output-format", "concise")
    b = run_cli(str(tmp_path), "--output-format", "concise")
    assert a.returncode == b.returncode == 1
    assert a.stdout == b.stdout


def test_clean_file_exits_zero(tmp_path):
    (tmp_path / "ok.py").write_text(GOOD)
    proc = run_cli("check", str(tmp_path / "ok.py"))
    assert proc.returncode == 0
    assert "All checks passed! (1 file checked)" in proc.stdout


def test_bad_option_and_missing_path_exit_two(tmp_path):
    assert run_cli("check", "--no-such-option").returncode == 2
    proc = run_cli("check", str(tmp_path / "missing.py"))
    assert proc.returncode == 2
    assert "path does not exist" in proc.stderr


def test_unknown_selector_and_gpu_suggest(tmp_path):
    proc = run_cli("check", str(tmp_path), "--select", "ECO10X")
    assert proc.returncode == 2 and "unknown rule selector" in proc.stderr
    proc = run_cli("check", str(tmp_path), "--gpu", "rtx409")
    assert proc.returncode == 2 and "did you mean" in proc.stderr and "rtx4090" in proc.stderr


def test_select_ignore_fail_on_exit_zero(tmp_path):
    f = tmp_path / "bad.py"
    f.write_text(BAD)
    assert run_cli("check", str(f), "--ignore", "ECO1").returncode == 0
    assert run_cli("check", str(f), "--select", "ECO2").returncode == 0
    assert run_cli("check", str(f), "--select", "ECO101").returncode == 1
    assert run_cli("check", str(f), "--select", "ECO101", "--ignore", "ECO1").returncode == 1  # more specific wins
    assert run_cli("check", str(f), "--exit-zero").returncode == 0
    info_only = tmp_path / "info.py"
    info_only.write_text('from transformers import BitsAndBytesConfig\nb = BitsAndBytesConfig(load_in_8bit=True, llm_int8_threshold=0.0, bnb_4bit_quant_type="nf4")\n')
    assert run_cli("check", str(info_only)).returncode == 0  # info is below the default fail level
    assert run_cli("check", str(info_only), "--fail-on", "info").returncode == 1


def test_output_file(tmp_path):
    f = tmp_path / "bad.py"
    f.write_text(BAD)
    out = tmp_path / "report.json"
    proc = run_cli("check", str(f), "--output-format", "json", "-o", str(out))
    assert proc.returncode == 1 and proc.stdout == ""
    data = json.loads(out.read_text())
    assert data[0]["code"] == "ECO101"
    assert set(data[0]) >= {"code", "name", "severity", "message", "filename", "location", "end_location", "fix", "evidence", "next_command"}
    assert data[0]["location"] == {"row": 2, "column": 26}
    assert data[0]["end_location"] == {"row": 2, "column": 43}
    assert data[0]["fix"]["applicability"] == "unsafe"


def test_noqa_line_and_file_level(tmp_path):
    f = tmp_path / "bad.py"
    f.write_text(BAD.replace("True)\n", "True)  # noqa: ECO101\n"))
    assert run_cli("check", str(f)).returncode == 0
    f.write_text(BAD.replace("True)\n", "True)  # noqa\n"))
    assert run_cli("check", str(f)).returncode == 0
    f.write_text("# ecolint: noqa\n" + BAD)
    assert run_cli("check", str(f)).returncode == 0
    f.write_text("# ecolint: noqa: ECO102\n" + BAD)
    assert run_cli("check", str(f)).returncode == 1
    f.write_text(GOOD.replace("(3)\n", "(3)  # noqa: ECO101, E501\n"))
    proc = run_cli("check", str(f), "--output-format", "concise", "--fail-on", "info")
    assert "ECO902" in proc.stdout and "E501" not in proc.stdout.split("ECO902", 1)[1].splitlines()[0]


def test_config_in_pyproject(tmp_path):
    (tmp_path / "pyproject.toml").write_text(textwrap.dedent("""
        [project]
        name = "demo"

        [tool.ecolint]
        ignore = ["ECO101"]
        gpu = "T4"
        per-file-ignores = { "legacy/*.py" = ["ECO402"] }
    """))
    (tmp_path / "bad.py").write_text(BAD)
    (tmp_path / "legacy").mkdir()
    bf16 = "import torch\nfrom transformers import AutoModelForCausalLM\nm = AutoModelForCausalLM.from_pretrained('gpt2', torch_dtype=torch.bfloat16)\n"
    (tmp_path / "legacy" / "old.py").write_text(bf16)
    (tmp_path / "new.py").write_text(bf16)
    proc = run_cli("check", ".", "--output-format", "concise", cwd=tmp_path)
    lines = [line for line in proc.stdout.splitlines() if ": ECO" in line]
    assert lines and all(line.startswith("new.py:3:") and "ECO402" in line for line in lines), proc.stdout


def test_config_unknown_key_did_you_mean(tmp_path):
    (tmp_path / "ecolint.toml").write_text('selcet = ["ECO1"]\n')
    (tmp_path / "a.py").write_text(GOOD)
    proc = run_cli("check", ".", cwd=tmp_path)
    assert proc.returncode == 2
    assert "unknown key 'selcet'" in proc.stderr and "did you mean 'select'" in proc.stderr


def test_rule_docs_and_live_evidence():
    proc = run_cli("rule", "ECO101")
    assert proc.returncode == 0
    assert "## Why is this bad?" in proc.stdout and "## Fix safety" in proc.stdout
    assert "rtx4090d Mistral-7B-Instruct-v0.3: +30.7 % (rows 27->28)" in proc.stdout
    by_name = run_cli("rule", "int8-default-threshold")
    assert by_name.stdout == proc.stdout
    missing = run_cli("rule", "ECO109")
    assert missing.returncode == 2 and "unknown rule" in missing.stderr


def test_rules_list():
    proc = run_cli("rules")
    assert proc.returncode == 0
    for code in ("ECO101", "ECO102", "ECO103", "ECO104", "ECO201", "ECO202", "ECO301", "ECO401", "ECO402", "ECO900"):
        assert code in proc.stdout


def test_syntax_error_is_reported_and_run_goes_on(tmp_path):
    (tmp_path / "broken.py").write_text("def f(:\n    return model.generate(ids)\n")  # has trigger tokens, so it is parsed
    (tmp_path / "bad.py").write_text(BAD)
    proc = run_cli("check", str(tmp_path), "--output-format", "concise")
    assert proc.returncode == 1
    assert "broken.py:1:" in proc.stdout and "ECO900" in proc.stdout
    assert "bad.py:2:26: ECO101" in proc.stdout
    assert "Traceback" not in proc.stdout + proc.stderr
