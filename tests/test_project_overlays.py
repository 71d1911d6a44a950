"""kustomize overlays (ecolint.project.kustomize): a strategic-merge patch is judged with the manifest it patches.

Policy under test: a finding about a value the patch writes is reported in the patch file, with the base's model
and GPU as related locations; what the base writes is the base's business; nothing without the project model.
"""

from __future__ import annotations

import shutil

from conftest import FIXTURES
from helpers import cached_json, check_json, pinned

K = "fixtures/projects/kustomize/"
BASE = [(K + "base/deployment.yaml", 16, 15), (K + "base/deployment.yaml", 10, 9)]
EXPECTED = [
    (K + "overlays/int8/quantize.yaml", 12, 15, "ECO101", BASE),
    (K + "overlays/json-batch/one-request.yaml", 6, 12, "ECO202", BASE),  # JSON patches: at the op's value
    (K + "overlays/json-int8/add-quantize.yaml", 6, 5, "ECO101", BASE),
    (K + "overlays/single/one-at-a-time.yaml", 12, 15, "ECO202", BASE),
]


def test_patches_are_judged_with_the_base_model_and_gpu():
    got = check_json(K)
    assert pinned(got) == EXPECTED
    assert "Mistral-7B" in got[0]["message"] or "7B" in got[0]["message"]


def test_no_project_reads_each_patch_alone():
    assert check_json(K, "--no-project") == []


def test_partial_run_reports_only_the_patch_given():
    assert pinned(check_json(K + "overlays/int8/quantize.yaml")) == EXPECTED[:1]
    assert pinned(check_json(K + "overlays/json-int8/add-quantize.yaml")) == EXPECTED[2:3]
    assert check_json(K + "base/deployment.yaml") == []  # the base alone serves FP16: nothing to report


def test_unfollowed_directives_read_the_patch_alone(tmp_path):
    root = tmp_path / "k"
    shutil.copytree(FIXTURES / "projects" / "kustomize", root)
    patch = root / "overlays" / "int8" / "quantize.yaml"
    patch.write_text(patch.read_text(encoding="utf-8").replace("      containers:\n", "      $patch: replace\n      containers:\n"), encoding="utf-8")
    assert check_json("overlays/int8/quantize.yaml", cwd=root) == []


def test_cache_invalidation_when_the_base_changes(tmp_path):
    root = tmp_path / "k"
    shutil.copytree(FIXTURES / "projects" / "kustomize", root)
    cache_dir = tmp_path / "cache"

    def run():
        return [(f["filename"], f["code"], [r["message"] for r in f["related"]][0]) for f in cached_json("overlays/int8", cache_dir=cache_dir, cwd=root)]

    first = run()
    assert first == [("overlays/int8/quantize.yaml", "ECO101", "the model `mistralai/Mistral-7B-Instruct-v0.2`, from the base manifest")]
    assert run() == first  # from the cache
    base = root / "base" / "deployment.yaml"
    base.write_text(base.read_text(encoding="utf-8").replace("mistralai/Mistral-7B-Instruct-v0.2", "meta-llama/Llama-2-70b-hf"), encoding="utf-8")
    again = run()
    assert again == [("overlays/int8/quantize.yaml", "ECO101", "the model `meta-llama/Llama-2-70b-hf`, from the base manifest")]  # the base changed: the patch is linted again


def test_cache_invalidation_when_a_json_patch_or_its_base_changes(tmp_path):
    root = tmp_path / "k"
    shutil.copytree(FIXTURES / "projects" / "kustomize", root)
    cache_dir = tmp_path / "cache"

    def run():
        return [(f["filename"], f["code"], f["related"][0]["message"]) for f in cached_json("overlays/json-int8", cache_dir=cache_dir, cwd=root)]

    first = run()
    assert first == [("overlays/json-int8/add-quantize.yaml", "ECO101", "the model `mistralai/Mistral-7B-Instruct-v0.2`, from the base manifest")]
    assert run() == first
    base = root / "base" / "deployment.yaml"
    base.write_text(base.read_text(encoding="utf-8").replace("mistralai/Mistral-7B-Instruct-v0.2", "meta-llama/Llama-2-70b-hf"), encoding="utf-8")
    assert run() == [("overlays/json-int8/add-quantize.yaml", "ECO101", "the model `meta-llama/Llama-2-70b-hf`, from the base manifest")]
    k = root / "overlays" / "json-int8" / "kustomization.yaml"
    k.write_text(k.read_text(encoding="utf-8").replace("name: tgi", "name: other"), encoding="utf-8")
    assert run() == []  # the target selects nothing: the patch is read alone


VLLM_BASE = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: chat
spec:
  template:
    spec:
      nodeSelector:
        cloud.google.com/gke-accelerator: nvidia-tesla-t4
      containers:
        - name: vllm
          image: vllm/vllm-openai:v0.6.3
          args: ["--model", "mistralai/Mistral-7B-Instruct-v0.2", "--max-num-seqs", "64"]
"""


def _vllm_overlay(tmp_path, ops: str, target: str = "kind: Deployment\n      name: chat"):
    root = tmp_path / "v"
    (root / "base").mkdir(parents=True)
    (root / "overlay").mkdir()
    (root / "pyproject.toml").write_text("[project]\nname = 'v'\n", encoding="utf-8")
    (root / "base" / "deployment.yaml").write_text(VLLM_BASE, encoding="utf-8")
    (root / "base" / "kustomization.yaml").write_text("resources:\n  - deployment.yaml\n", encoding="utf-8")
    (root / "overlay" / "kustomization.yaml").write_text(
        f"resources:\n  - ../base\npatches:\n  - path: ops.yaml\n    target:\n      {target}\n", encoding="utf-8")
    (root / "overlay" / "ops.yaml").write_text(ops, encoding="utf-8")
    return [(f["filename"], f["location"]["row"], f["location"]["column"], f["code"]) for f in check_json("overlay", cwd=root)]


ARGS = "/spec/template/spec/containers/0/args"


def test_json_patch_operations_on_a_vllm_base(tmp_path):
    # add at the end of a list, judged with the base's model and GPU (a T4: bf16 refused)
    assert _vllm_overlay(tmp_path / "a", f"- op: add\n  path: {ARGS}/-\n  value: --dtype=bfloat16\n") == [("overlay/ops.yaml", 3, 10, "ECO402")]
    # replace one item (the value of --max-num-seqs) and remove another
    assert _vllm_overlay(tmp_path / "b", f"- op: replace\n  path: {ARGS}/3\n  value: '1'\n") == [("overlay/ops.yaml", 3, 11, "ECO202")]
    got = _vllm_overlay(tmp_path / "c", f"- op: replace\n  path: {ARGS}\n  value: [--model, mistralai/Mistral-7B-Instruct-v0.2, --max-num-seqs=1]\n")
    assert got == [("overlay/ops.yaml", 3, 56, "ECO202")]
    # the escaped pointer of a label key, then an add that replaces nothing
    assert _vllm_overlay(tmp_path / "d", "- op: replace\n  path: /spec/template/spec/nodeSelector/cloud.google.com~1gke-accelerator\n  value: nvidia-l4\n"
                         f"- op: add\n  path: {ARGS}/-\n  value: --dtype=bfloat16\n") == []  # an L4 runs bf16


def test_json_patches_not_followed_are_read_alone(tmp_path):
    ops = f"- op: add\n  path: {ARGS}/-\n  value: --dtype=bfloat16\n"
    assert _vllm_overlay(tmp_path / "a", "- op: move\n  from: /a\n  path: /b\n" + ops) == []  # move: not followed
    assert _vllm_overlay(tmp_path / "b", ops.replace("/0/", "/3/")) == []  # no such container
    assert _vllm_overlay(tmp_path / "c", ops, target="kind: Deployment\n      labelSelector: app=chat") == []
    assert _vllm_overlay(tmp_path / "d", ops, target="kind: StatefulSet") == []
    assert _vllm_overlay(tmp_path / "e", ops, target="name: ch.*") == [("overlay/ops.yaml", 3, 10, "ECO402")]  # an anchored regex
