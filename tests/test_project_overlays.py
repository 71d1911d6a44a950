"""kustomize overlays (ecolint.project.kustomize): a strategic-merge patch is judged with the manifest it patches.

Policy under test: a finding about a value the patch writes is reported in the patch file, with the base's model
and GPU as related locations; what the base writes is the base's business; nothing without the project model.
"""

from __future__ import annotations

import json
import shutil

from conftest import FIXTURES, run_cli

K = "fixtures/projects/kustomize/"
BASE = [(K + "base/deployment.yaml", 16, 15), (K + "base/deployment.yaml", 10, 9)]
EXPECTED = [
    (K + "overlays/int8/quantize.yaml", 12, 15, "ECO101", BASE),
    (K + "overlays/single/one-at-a-time.yaml", 12, 15, "ECO202", BASE),
]


def _check(*args, cwd=None):
    proc = run_cli("check", "--no-cache", *args, "--output-format", "json", cwd=cwd)
    assert proc.stderr == ""
    return json.loads(proc.stdout)


def _pins(findings):
    return [
        (f["filename"], f["location"]["row"], f["location"]["column"], f["code"], [(r["filename"], r["location"]["row"], r["location"]["column"]) for r in f["related"]])
        for f in findings
    ]


def test_patches_are_judged_with_the_base_model_and_gpu():
    got = _check(K)
    assert _pins(got) == EXPECTED
    assert "Mistral-7B" in got[0]["message"] or "7B" in got[0]["message"]


def test_no_project_reads_each_patch_alone():
    assert _check(K, "--no-project") == []


def test_partial_run_reports_only_the_patch_given():
    assert _pins(_check(K + "overlays/int8/quantize.yaml")) == EXPECTED[:1]
    assert _check(K + "base/deployment.yaml") == []  # the base alone serves FP16: nothing to report


def test_unfollowed_directives_read_the_patch_alone(tmp_path):
    root = tmp_path / "k"
    shutil.copytree(FIXTURES / "projects" / "kustomize", root)
    patch = root / "overlays" / "int8" / "quantize.yaml"
    patch.write_text(patch.read_text(encoding="utf-8").replace("      containers:\n", "      $patch: replace\n      containers:\n"), encoding="utf-8")
    assert _check("overlays/int8/quantize.yaml", cwd=root) == []


def test_cache_invalidation_when_the_base_changes(tmp_path):
    root = tmp_path / "k"
    shutil.copytree(FIXTURES / "projects" / "kustomize", root)
    cache_dir = tmp_path / "cache"

    def run():
        proc = run_cli("check", "overlays/int8", "--cache-dir", str(cache_dir), "--output-format", "json", cwd=root)
        return [(f["filename"], f["code"], [r["message"] for r in f["related"]][0]) for f in json.loads(proc.stdout)]

    first = run()
    assert first == [("overlays/int8/quantize.yaml", "ECO101", "the model `mistralai/Mistral-7B-Instruct-v0.2`, from the base manifest")]
    assert run() == first  # from the cache
    base = root / "base" / "deployment.yaml"
    base.write_text(base.read_text(encoding="utf-8").replace("mistralai/Mistral-7B-Instruct-v0.2", "meta-llama/Llama-2-70b-hf"), encoding="utf-8")
    again = run()
    assert again == [("overlays/int8/quantize.yaml", "ECO101", "the model `meta-llama/Llama-2-70b-hf`, from the base manifest")]  # the base changed: the patch is linted again
