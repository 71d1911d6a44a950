"""The bundled fixtures: every finding pinned by file, line, column, code and severity."""

from __future__ import annotations

import json

from conftest import FIXTURES, run_cli

EXPECTED_PYTHON = [
    ("fixtures/batch_eval_pipeline.py", 13, 17, "ECO401", "yellow"),
    ("fixtures/batch_eval_pipeline.py", 15, 5, "ECO202", "yellow"),
    ("fixtures/batch_eval_pipeline.py", 18, 16, "ECO201", "yellow"),
    ("fixtures/chat_int8.py", 16, 5, "ECO101", "red"),
    ("fixtures/chat_int8.py", 42, 22, "ECO201", "yellow"),
    ("fixtures/chat_int8.py", 42, 82, "ECO301", "yellow"),
    ("fixtures/colab_t4_bf16.py", 10, 5, "ECO104", "info"),
    ("fixtures/colab_t4_bf16.py", 11, 28, "ECO402", "yellow"),
    ("fixtures/colab_t4_bf16.py", 18, 17, "ECO402", "yellow"),
    ("fixtures/conflicting_quant.py", 6, 5, "ECO101", "red"),
    ("fixtures/conflicting_quant.py", 7, 5, "ECO103", "red"),
    # issue 14 shapes in Python (also pinned in fixtures/issue14/expected_issue14.csv)
    ("fixtures/issue14/lm_eval/eval_args.py", 6, 83, "ECO101", "red"),
    ("fixtures/issue14/lm_eval/eval_args.py", 12, 55, "ECO102", "yellow"),
    ("fixtures/issue14/sagemaker/deploy_tgi.py", 6, 6, "ECO101", "red"),
    ("fixtures/issue14/sagemaker/deploy_tgi.py", 7, 6, "ECO202", "yellow"),
    ("fixtures/legacy_fp32_default.py", 8, 9, "ECO401", "yellow"),
    # A Colab "Download .py" export: analysed through its IPython-blanked text (its `!pip` line kept in place).
    # issue 18: a 4-bit config without its compute dtype (tests/test_new_rules.py)
    ("fixtures/new_rules/beam_server.py", 10, 1, "ECO304", "info"),
    ("fixtures/new_rules/beam_server.py", 17, 36, "ECO304", "info"),
    ("fixtures/new_rules/chat_server.py", 16, 5, "ECO303", "info"),
    ("fixtures/new_rules/chat_server.py", 30, 24, "ECO201", "yellow"),
    ("fixtures/new_rules/chat_server.py", 31, 9, "ECO303", "info"),
    ("fixtures/new_rules/load_per_request.py", 17, 13, "ECO204", "yellow"),
    ("fixtures/new_rules/load_per_request.py", 40, 19, "ECO204", "yellow"),
    ("fixtures/new_rules/qlora_infer.py", 5, 27, "ECO105", "info"),
    ("fixtures/notebooks/colab_export.py", 16, 35, "ECO101", "red"),
    ("fixtures/notebooks/colab_export.py", 31, 57, "ECO301", "yellow"),
    # issue 13 (tests/test_precision.py): what the code is decides the finding
    ("fixtures/precision/generate_receivers.py", 51, 13, "ECO201", "info"),
    ("fixtures/precision/generate_receivers.py", 56, 22, "ECO201", "yellow"),
    ("fixtures/precision/input_cast.py", 18, 87, "ECO402", "yellow"),
    ("fixtures/precision/quant_factory.py", 11, 35, "ECO101", "info"),
    ("fixtures/precision/quant_factory.py", 13, 35, "ECO105", "info"),
    ("fixtures/precision/shared_dtype.py", 11, 89, "ECO401", "yellow"),
    ("fixtures/precision/shared_dtype.py", 12, 92, "ECO401", "yellow"),
    ("fixtures/small_model_nf4.py", 15, 5, "ECO102", "yellow"),
    ("fixtures/suppressed.py", 7, 72, "ECO902", "info"),
    ("fixtures/traps.py", 23, 37, "ECO101", "red"),
    ("fixtures/traps.py", 29, 32, "ECO105", "info"),
    ("fixtures/traps.py", 34, 44, "ECO105", "info"),
    ("fixtures/traps.py", 64, 74, "ECO102", "yellow"),
    ("fixtures/traps.py", 64, 74, "ECO105", "info"),
    ("fixtures/vllm_offline.py", 7, 45, "ECO202", "yellow"),
    ("fixtures/vllm_offline.py", 15, 14, "ECO201", "yellow"),
]


def _json(*args):
    proc = run_cli("check", *args, "--output-format", "json")
    assert proc.stderr == ""
    return proc, json.loads(proc.stdout)


def test_python_fixture_findings_are_pinned():
    proc, findings = _json("fixtures/")
    assert proc.returncode == 1
    got = [
        (f["filename"], f["location"]["row"], f["location"]["column"], f["code"], f["severity"])
        for f in findings
        if f["filename"].endswith(".py") and not f["filename"].startswith("fixtures/projects/")  # tests/test_project.py
    ]
    assert got == EXPECTED_PYTHON


def test_every_rule_code_fires_with_evidence_where_measured():
    _, findings = _json("fixtures/")
    codes = {f["code"] for f in findings}
    assert {"ECO101", "ECO102", "ECO103", "ECO104", "ECO201", "ECO202", "ECO301", "ECO401", "ECO402"} <= codes
    for f in findings:
        if f["code"] in ("ECO101", "ECO102", "ECO201", "ECO202"):
            assert f["evidence"], f
            for ev in f["evidence"]:
                assert ev["row_id"] and ev["source"] and ev["gpu"]
        if f["code"] in ("ECO101", "ECO102"):
            assert f["next_command"].startswith("ecolint compare --model ")


def test_clean_fixtures_exit_zero():
    proc = run_cli("check", "fixtures/clean")
    assert proc.returncode == 0, proc.stdout
    assert "All checks passed!" in proc.stdout


def test_traps_only_flag_the_real_problems():
    _, findings = _json("fixtures/traps.py")
    assert [(f["location"]["row"], f["code"]) for f in findings] == [(23, "ECO101"), (29, "ECO105"), (34, "ECO105"), (64, "ECO102"), (64, "ECO105")]


def test_full_output_reads_like_a_linter():
    proc = run_cli("check", "fixtures/chat_int8.py")
    out = proc.stdout
    assert "fixtures/chat_int8.py:16:5: ECO101 [red] int8-default-threshold" in out
    assert "16 |     load_in_8bit=True," in out
    assert "= evidence: rows 67, 68, 27, 28 (see Evidence below)" in out
    assert "\n  row 27 rtx4090d Mistral-7B-Instruct-v0.3 fp16 BS=1: 5,661 J/1k tok" in out  # the rows once, at the end
    assert "= next: ecolint compare --model mistralai/Mistral-7B-Instruct-v0.3" in out
    assert "Found 3 findings in 1 file (1 red, 2 yellow; 1 checked)." in out


def test_fixture_folder_exists():
    assert (FIXTURES / "clean").is_dir()
