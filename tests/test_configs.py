"""Deploy and training configs: YAML, TOML, shell scripts and Dockerfiles through the same rules.

Everything here runs in-process (no subprocess), so the module stays fast.
"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path, PurePath

import pytest
from helpers import lint_snippet

from ecolint.config import Settings
from ecolint.fix import apply_edits
from ecolint.runner import Engine, lint_paths
from ecolint.sources import kind_for

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "fixtures" / "deploy"

# (file below fixtures/deploy, line, column, code, severity) of every finding, in report order.
EXPECTED = [
    ("axolotl/llama2-lora-8bit.yml", 5, 1, "ECO101", "yellow"),
    ("axolotl/llama2-lora-8bit.yml", 7, 1, "ECO104", "info"),
    ("compose/docker-compose.yml", 20, 9, "ECO101", "red"),
    ("compose/docker-compose.yml", 33, 7, "ECO202", "yellow"),
    ("docker/Dockerfile", 12, 7, "ECO202", "yellow"),
    ("docker/Dockerfile.tgi", 6, 5, "ECO101", "red"),
    ("fly/fly.toml", 13, 3, "ECO101", "red"),
    ("fly/fly.toml", 14, 3, "ECO202", "yellow"),
    ("helm/templates/deployment.yaml", 4, 9, "ECO905", "info"),
    ("k8s/tgi-mistral.yaml", 41, 15, "ECO101", "red"),
    ("k8s/tgi-mistral.yaml", 43, 15, "ECO202", "yellow"),
    ("k8s/tgi-mistral.yaml", 44, 15, "ECO402", "yellow"),
    ("k8s/vllm-qwen.yaml", 30, 16, "ECO401", "yellow"),
    ("k8s/vllm-qwen.yaml", 31, 16, "ECO202", "yellow"),
    ("k8s/vllm-qwen.yaml", 56, 17, "ECO102", "yellow"),
    ("llamafactory/llama3_lora_sft_int8.yaml", 3, 1, "ECO101", "yellow"),
    ("llamafactory/mistral_predict.yaml", 21, 1, "ECO202", "yellow"),
    ("llamafactory/mistral_predict.yaml", 23, 1, "ECO401", "yellow"),
    ("llamafactory/qwen2_5_1_5b_chat.yaml", 5, 1, "ECO102", "yellow"),
    ("sagemaker/endpoint.yaml", 17, 11, "ECO101", "red"),
    ("sagemaker/endpoint.yaml", 21, 11, "ECO202", "yellow"),
    ("scripts/run_tgi_docker.sh", 8, 6, "ECO102", "yellow"),
    ("scripts/run_tgi_docker.sh", 11, 3, "ECO202", "yellow"),
    ("scripts/serve_vllm.sh", 18, 5, "ECO401", "yellow"),
    ("scripts/serve_vllm.sh", 20, 5, "ECO202", "yellow"),
    ("toml/model.toml", 9, 1, "ECO101", "red"),
    ("toml/quant-4bit-leftovers.toml", 3, 1, "ECO104", "info"),
    ("traps/broken-values.yaml", 3, 13, "ECO900", "yellow"),
    ("vllm/serve-config.yaml", 4, 1, "ECO401", "yellow"),
]


def _engine(**kw) -> Engine:
    s = replace(Settings(root=ROOT), select=("ALL",), transformers_version="4.44.0", **kw)
    return Engine.create(s)


@pytest.fixture(scope="module")
def deploy_run():
    return lint_paths([DEPLOY], _engine())


def _rel(filename: str) -> str:
    return Path(filename).resolve().relative_to(DEPLOY).as_posix()


def test_every_config_finding_is_pinned(deploy_run):
    got = [(_rel(f.filename), f.span.line, f.span.col, f.code, f.severity.value) for f in deploy_run.findings]
    assert got == EXPECTED


def test_lock_files_and_tool_toml_are_not_discovered(deploy_run):
    checked = {_rel(p) for p in deploy_run.texts}
    assert "traps/pyproject.toml" not in checked and "traps/poetry.lock" not in checked
    assert deploy_run.files_checked == 27


def test_traps_are_silent(deploy_run):
    for name in ("traps/runbook-configmap.yaml", "traps/release.yml", "traps/anchors.yaml", "traps/bnb-8bit-thresholded.yaml",
                 "compose/compose.prod.yaml", "fly/fly.staging.toml", "axolotl/qlora-tinyllama.yml", "scripts/eval_api_server.sh"):
        assert not [f for f in deploy_run.findings if _rel(f.filename) == name], name


def test_findings_carry_evidence_and_honest_fixes(deploy_run):
    by = {(_rel(f.filename), f.span.line, f.code): f for f in deploy_run.findings}
    tgi = by[("k8s/tgi-mistral.yaml", 41, "ECO101")]
    assert tgi.fix is None  # TGI cannot set llm_int8_threshold
    assert tgi.evidence and "no fp16 vs int8_default pair was measured on t4" in tgi.message
    assert tgi.span.end_line == 42  # `--quantize` through its value on the next line
    assert by[("k8s/tgi-mistral.yaml", 44, "ECO402")].fix.applicability.value == "unsafe"
    assert by[("axolotl/llama2-lora-8bit.yml", 7, "ECO104")].fix.applicability.value == "safe"
    assert "training context" in by[("axolotl/llama2-lora-8bit.yml", 5, "ECO101")].message
    assert by[("toml/model.toml", 9, "ECO101")].fix.applicability.value == "unsafe"


@pytest.mark.parametrize(
    "name,line,code,old,new",
    [
        ("axolotl/llama2-lora-8bit.yml", 7, "ECO104", "bnb_4bit_quant_type: nf4\nbnb_4bit_use_double_quant: true\n", ""),
        ("k8s/tgi-mistral.yaml", 44, "ECO402", "            - bfloat16\n", "            - float16\n"),
        ("k8s/vllm-qwen.yaml", 30, "ECO401", '"--dtype=float32"   # TODO', '"--dtype=float16"   # TODO'),
        ("scripts/serve_vllm.sh", 18, "ECO401", "--dtype float32 \\\n", "--dtype float16 \\\n"),
        ("toml/model.toml", 9, "ECO101", "load_in_8bit = true\n", "load_in_8bit = true\nllm_int8_threshold = 0.0\n"),
        ("toml/quant-4bit-leftovers.toml", 3, "ECO104", 'bnb_4bit_compute_dtype = "float16"\nbnb_4bit_quant_type = "nf4"\n', ""),
        ("vllm/serve-config.yaml", 4, "ECO401", "dtype: float32\n", "dtype: float16\n"),
        ("llamafactory/mistral_predict.yaml", 23, "ECO401", "infer_dtype: float32", "infer_dtype: float16"),
    ],
)
def test_config_fixes_are_span_exact(deploy_run, name, line, code, old, new):
    f = next(f for f in deploy_run.findings if _rel(f.filename) == name and f.span.line == line and f.code == code)
    text = (DEPLOY / name).read_text()
    fixed = apply_edits(text, f.fix.edits)
    assert old in text
    assert fixed == text.replace(old, new, 1)


# -- front-end behaviour ---------------------------------------------------------------------------------

def _codes(code: str, filename: str, **kw):
    return [(f.span.line, f.span.col, f.code) for f in lint_snippet(code, filename, **kw)]


def test_kind_for_configs_and_skips():
    assert kind_for(PurePath("deploy/k8s.yml")) == "yaml"
    assert kind_for(PurePath("fly.toml")) == "toml"
    assert kind_for(PurePath("serve.sh")) == "shell"
    assert kind_for(PurePath("Dockerfile")) == "dockerfile"
    assert kind_for(PurePath("docker/Dockerfile.gpu")) == "dockerfile"
    assert kind_for(PurePath("api.dockerfile")) == "dockerfile"
    for skipped in ("pyproject.toml", "Cargo.toml", "ruff.toml", ".ruff.toml", "ecolint.toml", "poetry.lock", "uv.lock",
                    "pnpm-lock.yaml", "setup.cfg", "Cargo.lock"):
        assert kind_for(PurePath(skipped)) is None, skipped


def test_mentions_are_not_launches():
    assert _codes("echo 'vllm serve m/x-7b --max-num-seqs 1'\n# text-generation-launcher --quantize bitsandbytes\n", "a.sh") == []
    assert _codes("cat <<EOF\nvllm serve m/x-7b --max-num-seqs 1\nEOF\n", "a.sh") == []
    assert _codes("env:\n  - name: NOTES\n    value: --quantize bitsandbytes --max-batch-size 1\n", "a.yaml") == []
    assert _codes("FROM ubuntu\nRUN vllm serve m/x-7b --max-num-seqs 1\n", "Dockerfile") == []


def test_shell_variables_defaults_and_unknowns():
    assert _codes("Q=bitsandbytes\ntext-generation-launcher --model-id m/x-7b --quantize $Q\n", "a.sh") == [(2, 44, "ECO101")]
    assert _codes('text-generation-launcher --model-id m/x-7b --quantize "$QUANT"\n', "a.sh") == []
    assert _codes("vllm serve m/x-7b --max-num-seqs ${SEQS:-1}\n", "a.sh") == [(1, 19, "ECO202")]
    assert _codes("nohup env CUDA_VISIBLE_DEVICES=0 vllm serve m/x-7b --max-num-seqs=1 > log 2>&1 &\n", "a.sh") == [(1, 52, "ECO202")]
    assert _codes("uv run python -m vllm.entrypoints.openai.api_server --model m/x-7b --max_num_seqs 1\n", "a.sh") == [(1, 68, "ECO202")]


def test_dockerfile_forms():
    exec_form = 'FROM ghcr.io/huggingface/text-generation-inference:2.0\nCMD ["--model-id", "m/x-7b", "--quantize", "bitsandbytes"]\n'
    assert _codes(exec_form, "Dockerfile") == [(2, 31, "ECO101")]
    env_only = "FROM ghcr.io/huggingface/text-generation-inference:2.0\nENV MODEL_ID=m/x-7b MAX_BATCH_SIZE=1\n"
    assert _codes(env_only, "Dockerfile") == [(2, 21, "ECO202")]
    shell_c = 'FROM python:3.11\nCMD ["/bin/sh", "-c", "pip install vllm && vllm serve m/x-7b --max-num-seqs 1"]\n'
    assert _codes(shell_c, "Dockerfile") == [(2, 62, "ECO202")]
    legacy_env = "FROM ghcr.io/huggingface/text-generation-inference\nENV QUANTIZE bitsandbytes\n"
    assert _codes(legacy_env, "Dockerfile") == [(2, 5, "ECO101")]


def test_kubernetes_env_reference_and_compose_environment_forms():
    k8s = ("containers:\n- image: ghcr.io/huggingface/text-generation-inference\n  env:\n  - {name: Q, value: bitsandbytes}\n"
           "  args: ['--model-id', 'm/x-7b', '--quantize', '$(Q)']\n")
    assert _codes(k8s, "pod.yaml") == [(5, 35, "ECO101")]
    compose_map = "services:\n  tgi:\n    image: ghcr.io/huggingface/text-generation-inference\n    environment:\n      QUANTIZE: bitsandbytes\n"
    assert _codes(compose_map, "compose.yaml") == [(5, 7, "ECO101")]
    compose_string = "services:\n  tgi:\n    image: ghcr.io/huggingface/text-generation-inference\n    command: --model-id m/x-7b --quantize bitsandbytes\n"
    assert _codes(compose_string, "compose.yaml") == [(4, 32, "ECO101")]


def test_gpu_hints_from_configs():
    sel = "spec:\n  nodeSelector:\n    nvidia.com/gpu.product: Tesla-V100-SXM2-16GB\n  containers:\n  - image: vllm/vllm-openai\n    args: [--model, m/x-7b, --dtype, bfloat16]\n"
    assert _codes(sel, "pod.yaml") == [(6, 29, "ECO402")]
    a100 = sel.replace("Tesla-V100-SXM2-16GB", "NVIDIA-A100-SXM4-80GB")
    assert _codes(a100, "pod.yaml") == []
    fly = 'app = "x"\n[build]\n  image = "vllm/vllm-openai"\n[experimental]\n  cmd = ["--model", "m/x-7b", "--dtype", "bfloat16"]\n[[vm]]\n  size = "a10"\n'
    assert _codes(fly, "fly.toml") == []
    sm = "Environment:\n  HF_MODEL_ID: m/x-7b\n  DTYPE: bfloat16\nInstanceType: ml.g4dn.xlarge\n"
    assert _codes(sm, "endpoint.yaml") == [(3, 3, "ECO402")]


def test_training_configs_are_not_inference_findings():
    axolotl = "base_model: Qwen/Qwen2.5-0.5B\nload_in_4bit: true\nadapter: qlora\nmicro_batch_size: 1\n"
    assert _codes(axolotl, "qlora.yml") == []
    lf_train = "model_name_or_path: Qwen/Qwen2.5-0.5B\nstage: sft\nquantization_bit: 4\nper_device_eval_batch_size: 1\ntemplate: qwen\n"
    assert _codes(lf_train, "sft.yaml") == []
    lf_predict = lf_train.replace("stage: sft\n", "stage: sft\ndo_predict: true\n")
    assert _codes(lf_predict, "predict.yaml") == [(4, 1, "ECO102"), (5, 1, "ECO202")]


def test_templates_invalid_files_and_bombs_do_not_crash():
    helm = "metadata:\n  name: {{ .Release.Name }}\nargs: [--quantize, bitsandbytes]\n"
    assert _codes(helm, "t.yaml") == [(2, 9, "ECO905")]
    gha = "env:\n  M: ${{ vars.MODEL }}\nrun: echo --quantize bitsandbytes\n"
    assert _codes(gha, "ci.yml") == []
    assert _codes('[env]\nQUANTIZE = "bitsandbytes\n', "fly.toml") == [(2, 25, "ECO900")]  # tomllib reports the end of the line
    assert _codes("a: [--quantize\n", "x.yaml")[0][2] == "ECO900"
    bomb = 'a: &a ["--quantize", "bitsandbytes"]\n' + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [" + ", ".join([f"*{chr(97 + i)}"] * 10) + "]\n" for i in range(9)
    ) + "containers:\n  - image: ghcr.io/huggingface/text-generation-inference\n    args: *j\nloop: &l {self: *l, load_in_8bit: true}\n"
    start = time.perf_counter()
    findings = _codes(bomb, "bomb.yaml")
    assert time.perf_counter() - start < 1.0
    assert findings == [(14, 21, "ECO101")]  # the recursive mapping still holds a real 8-bit setting
    assert _codes("x: !!python/object/apply:os.system ['vllm serve m/x-7b --max-num-seqs 1']\n", "x.yaml") == []


def test_noqa_and_duplicate_keys_in_yaml():
    cfg = "model: m/x-7b\nmax-num-seqs: 1  # noqa: ECO202\ntensor-parallel-size: 2\n"
    assert _codes(cfg, "vllm.yaml") == []
    assert _codes("model: m/x-7b\nmax-num-seqs: 1\nmax-num-seqs: 32\n", "vllm.yaml") == []  # the last key wins
    assert _codes("model: m/x-7b\nmax-num-seqs: 32\nmax-num-seqs: 1\n", "vllm.yaml") == [(3, 1, "ECO202")]


def test_crlf_and_comment_preserving_removal():
    text = "base_model: m/x-7b\r\nload_in_8bit: true\r\nbnb_4bit_quant_type: nf4  # old\r\nadapter: lora\r\n"
    f = next(f for f in lint_snippet(text, "lora.yml") if f.code == "ECO104")
    assert (f.span.line, f.span.col) == (3, 1)
    assert f.fix.applicability.value == "unsafe"  # the removed line carries a comment
    assert apply_edits(text, f.fix.edits) == "base_model: m/x-7b\r\nload_in_8bit: true\r\nadapter: lora\r\n"


def test_shell_words_keep_positions():
    from ecolint.sources.words import Source, split_shell

    src = Source("A=1 vllm serve 'm/x 7b' \\\n  --dtype=\"bfloat16\" && echo done # c\n")
    cmds = split_shell(src)
    assert [[w.text for w in c.words] for c in cmds] == [["A=1", "vllm", "serve", "m/x 7b", "--dtype=bfloat16"], ["echo", "done"]]
    dtype = cmds[0].words[4]
    assert dtype.sub_span(8, 16) == type(dtype.span)(2, 12, 2, 20)
    assert dtype.replace(8, 16, "float16").span == type(dtype.span)(2, 12, 2, 20)


@pytest.mark.parametrize(
    "line",
    [
        "vllm serve 'Qwen/Qwen2.5-7B-Instruct' --dtype \"bfloat16\" --max-num-seqs 8",
        "text-generation-launcher --model-id \"$MODEL\" --quantize bitsandbytes-nf4 \\\n  --max-batch-size 1",
        "python -m vllm.entrypoints.openai.api_server --model a\\ b --served-model-name 'x y' --chat-template \"{{ a }}\"",
        "docker run -e QUANTIZE=bitsandbytes ghcr.io/huggingface/text-generation-inference:2.0 --model-id m/x-7b",
    ],
)
def test_word_splitting_agrees_with_shlex(line):
    import shlex

    from ecolint.sources.words import Source, split_shell

    words = [w.text for c in split_shell(Source(line)) for w in c.words]
    # shlex keeps a backslash-newline as a "\n" word; a POSIX shell removes it (line continuation)
    assert words == shlex.split(line.replace("\\\n", ""), posix=True)
