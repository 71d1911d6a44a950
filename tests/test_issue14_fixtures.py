"""Issue 14 shapes (fixtures/issue14/): every finding pinned in fixtures/issue14/expected_issue14.csv.

The fixtures are deploy configs and launch scripts as people write them (lm-eval model_args, ms-swift export,
vLLM/TGI flags in Helm values, kubeai, KServe, Ray Serve, SkyPilot, dstack, SageMaker env dicts, DJL, shell
variables/arrays/here-documents, Dockerfile ENV + CMD, JSON, GitHub Actions) plus traps that must stay silent.
"""

from __future__ import annotations

import csv
from dataclasses import replace
from pathlib import Path

from ecolint.config import Settings
from ecolint.runner import Engine, lint_paths

ROOT = Path(__file__).resolve().parent.parent
ISSUE14 = ROOT / "fixtures" / "issue14"
SIDECAR = ISSUE14 / "expected_issue14.csv"


def expected() -> list[tuple[str, int, int, str, str]]:
    with SIDECAR.open(encoding="utf-8", newline="") as fh:
        return sorted((r["path"], int(r["line"]), int(r["col"]), r["code"], r["severity"]) for r in csv.DictReader(fh))


def findings() -> list[tuple[str, int, int, str, str]]:
    settings = replace(Settings(root=ROOT), select=("ALL",), transformers_version="4.44.0")
    run = lint_paths([ISSUE14], Engine.create(settings))
    return sorted(
        (Path(f.filename).resolve().relative_to(ISSUE14).as_posix(), f.span.line, f.span.col, f.code,
         f.severity.value)
        for f in run.findings
    )


def test_sidecar_rows_point_into_existing_fixture_lines():
    rows = expected()
    assert len(rows) >= 30
    for path, line, col, _code, _severity in rows:
        lines = (ISSUE14 / path).read_text(encoding="utf-8").splitlines()
        assert 1 <= line <= len(lines) and 1 <= col <= len(lines[line - 1]), (path, line, col)


def test_issue14_fixture_findings_match_the_sidecar():
    assert findings() == expected()


def _lint(name: str, text: str, gpu=None):
    from ecolint.runner import lint_bytes
    from ecolint.sources import kind_for

    settings = replace(Settings(root=ROOT), select=("ALL",), transformers_version="4.44.0", gpu=gpu)
    return lint_bytes(name, text.encode(), kind_for(Path(name)), Engine.create(settings), project_dir=Path("/nonexistent")).findings


def test_a_flag_set_through_a_variable_names_the_assignment_as_related():
    found = _lint("serve.sh", "#!/bin/sh\nQUANT=${QUANT:-bitsandbytes}\ntext-generation-launcher --model-id mistralai/Mistral-7B-v0.1 --quantize $QUANT\n")
    f = next(f for f in found if f.code == "ECO101")
    assert (f.span.line, f.span.col) == (3, 63)
    assert [(sp.line, what) for _, sp, what in f.related] == [(2, "`QUANT` is set here")]


def test_an_exported_server_variable_is_reported_at_its_assignment_with_the_launch_related():
    found = _lint("serve.sh", "export MAX_BATCH_SIZE=1\nexec text-generation-launcher --model-id mistralai/Mistral-7B-v0.1\n")
    f = next(f for f in found if f.code == "ECO202")
    assert (f.span.line, f.span.col) == (1, 8)
    assert [sp.line for _, sp, _ in f.related] == [2]


def test_a_tgi_container_patch_without_an_image_says_how_tgi_was_inferred():
    text = ("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: tgi-gemma\nspec:\n  template:\n    metadata:\n      labels:\n"
            "        ai.gke.io/model: gemma-2b-it\n    spec:\n      containers:\n      - name: server\n        args:\n"
            "        - --model-id=$(MODEL_ID)\n        - --quantize=bitsandbytes-nf4\n")
    f = next(f for f in _lint("patch.yaml", text) if f.code == "ECO102")
    assert f.span.line == 15
    assert "TGI inferred from its flags" in f.message and "ai.gke.io/model label" in f.message
    # without any TGI name in the file the same args are not read as TGI
    assert not [f for f in _lint("patch.yaml", text.replace("tgi-gemma", "gemma")) if f.code == "ECO102"]


def test_vllm_bf16_on_a_t4_is_a_failed_deployment():
    found = _lint("sky.yaml", "resources:\n  accelerators: T4:1\nrun: |\n  vllm serve Qwen/Qwen2.5-7B-Instruct --dtype bfloat16\n")
    f = next(f for f in found if f.code == "ECO402")
    assert "vLLM refuses bfloat16 below compute capability 8.0" in f.message


def test_vllm_bitsandbytes_is_4bit_never_8bit():
    found = _lint("serve.sh", "vllm serve Qwen/Qwen2.5-1.5B-Instruct --quantization bitsandbytes\n")
    assert {f.code for f in found} == {"ECO102"}


def test_invalid_json_is_a_syntax_finding_and_json_keys_point_inside_their_quotes():
    bad = _lint("cfg.json", '{"load_in_8bit": true,\n}\n')
    assert [f.code for f in bad] == ["ECO900"] and bad[0].span.line == 2
    good = _lint("cfg.json", '{"model_id": "mistralai/Mistral-7B-v0.1",\n\t"load_in_8bit": true}\n')
    f = next(f for f in good if f.code == "ECO101")
    assert (f.span.line, f.span.col) == (2, 3)


def test_shell_arrays_and_here_documents_are_read():
    from ecolint.sources.words import Source, split_shell

    text = "A=(\n  --model m # c\n  --max-num-seqs 1\n)\ncat > r.sh <<'E'\nvllm serve x\nE\n"
    bodies: list = []
    cmds = split_shell(Source(text), bodies=bodies)
    assert [w.text for w in cmds[0].array] == ["--model", "m", "--max-num-seqs", "1"]
    assert [(text[d.start:d.end], d.feeds, d.target) for d in bodies] == [("vllm serve x\n", ["cat"], "r.sh")]


def test_swift_training_and_lm_eval_non_hf_models_are_not_loads():
    assert not _lint("t.sh", "swift sft --model Qwen/Qwen2.5-0.5B --quant_method bnb --quant_bits 4\n")
    assert not _lint("t.sh", "lm_eval --model vllm --model_args pretrained=x,load_in_8bit=True\n")


def test_json_with_nan_and_infinity_is_read(tmp_path):
    """Python's json module accepts NaN / Infinity; the position-keeping scanner must too (an ECO903 on a real
    results file in huggingface/peft)."""
    from helpers import lint_snippet

    text = '{"base_model": "meta-llama/Llama-2-7b-hf", "drift": NaN, "hi": Infinity, "lo": -Infinity, "load_in_8bit": true, "lora_r": 8}\n'
    codes = {f.code for f in lint_snippet(text, filename="run.json")}
    assert "ECO903" not in codes


def test_json_lines_data_is_not_a_syntax_error():
    """A data set in JSON Lines with a .json name (artidoro/qlora's MMLU files) is not a config: no ECO900."""
    from helpers import lint_snippet

    rows = '{"subject": "algebra", "input": "x"}\n{"subject": "anatomy", "input": "y"}\n'
    assert lint_snippet(rows, filename="mmlu_val.json") == []
    broken = '{"load_in_8bit": true,\n'
    assert [f.code for f in lint_snippet(broken, filename="cfg.json")] == ["ECO900"]
