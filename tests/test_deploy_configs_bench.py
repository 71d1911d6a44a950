"""bench/deploy_configs.py: matching and scores on a synthetic two-file set (no snapshots needed)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("deploy_configs_bench", ROOT / "bench" / "deploy_configs.py")
bench = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = bench
_spec.loader.exec_module(bench)

SCRIPT = (
    "#!/bin/sh\n"
    "vllm serve Qwen/Qwen2.5-7B-Instruct \\\n"
    "    --max-num-seqs 1 \\\n"
    "    --port 8000\n"
)
CLEAN_YAML = "model: Qwen/Qwen2.5-7B-Instruct\nmax-num-seqs: 64\n"


def _labels(line: int) -> list:
    return [
        bench.Label("acme/demo", "serve.sh", line, "ECO202", "sure", "max-num-seqs 1"),
        bench.Label("acme/demo", "deploy/values.yaml", 0, "clean", "", "real batch"),
    ]


def test_a_finding_anywhere_in_the_logical_command_matches_a_shell_label(tmp_path):
    (tmp_path / "serve.sh").write_text(SCRIPT, encoding="utf-8")
    (tmp_path / "deploy").mkdir()
    (tmp_path / "deploy" / "values.yaml").write_text(CLEAN_YAML, encoding="utf-8")
    # labelled on the command's first line; ecolint reports the flag's line (3): same logical command
    result = bench.evaluate({"acme/demo": tmp_path}, _labels(2))
    overall = result.overall
    assert (overall.labels, overall.found, overall.findings, overall.matched) == (1, 1, 1, 1)
    assert result.by_type["shell"].recall == 1.0 and result.overall.precision == 1.0
    assert not result.misses and not result.false_positives


def test_yaml_lines_must_agree_and_scores_count_misses_and_false_positives():
    labels = [
        bench.Label("r", "a.yaml", 5, "ECO202", "sure", ""),
        bench.Label("r", "a.yaml", 9, "ECO101", "sure", ""),
        bench.Label("r", "b.sh", 2, "ECO102", "debatable", ""),
        bench.Label("r", "c.yaml", 0, "clean", "", ""),
    ]
    findings = [
        bench.Finding("r", "a.yaml", 6, "ECO202"),  # wrong line in YAML: false positive, label missed
        bench.Finding("r", "a.yaml", 9, "ECO101"),  # match
        bench.Finding("r", "b.sh", 3, "ECO102"),  # debatable label, same command: not counted
        bench.Finding("r", "c.yaml", 1, "ECO905"),  # on a clean file: false positive
    ]
    texts = {("r", "b.sh"): "swift export \\\n  --quant_bits 4 \\\n  --quant_method bnb\n"}
    result = bench.score(labels, findings, texts)
    assert (result.overall.labels, result.overall.found) == (2, 1)
    assert (result.overall.findings, result.overall.matched) == (3, 1)
    assert [m.line for m in result.misses] == [5]
    assert [(f.path, f.line) for f in result.false_positives] == [("a.yaml", 6), ("c.yaml", 1)]
    assert len(result.on_debatable) == 1
    assert bench.failed_strict(result)


def test_logical_commands_join_continuation_lines():
    assert bench.logical_commands("a \\\nb \\\nc\nd\n") == {1: 1, 2: 1, 3: 1, 4: 4}


def test_file_types():
    assert [bench.file_type(p) for p in ("x/values.yml", "run.sh", "docker/Dockerfile.tgi", "e.json", "d.py",
                                         "serving.properties")] == [
        "yaml", "shell", "dockerfile", "json", "python", "other"]


def test_the_committed_labels_cover_the_committed_list():
    repos = bench.load_repos(ROOT / "bench" / "deploy_configs.toml")
    labels = bench.load_labels(ROOT / "bench" / "deploy_configs_labels.csv")
    bench.check_coverage(repos, labels)  # raises on a file without a label or a label without a file
    assert sum(len(r.paths) for r in repos) >= 40
