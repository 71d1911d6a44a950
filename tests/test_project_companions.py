"""Companion files (ecolint.project.companions): a file that names no GPU takes the one the sibling files of its
deployment agree on -- a provisioning script, a ``.env`` beside a compose file, a Helm chart's values -- and every
finding that used it says where it came from, with the place as a related location.

Traps: two different GPUs name none, a companion in another directory is not one, a file's own GPU wins, and
so does the configured one; nothing without the project model.
"""

from __future__ import annotations

import shutil

from conftest import FIXTURES
from helpers import cached_json, check_json, pinned

from ecolint.sources.shell_frontend import extract_script

C = "fixtures/projects/companions/"
EXPECTED = [
    (C + "chart/templates/deployment.yaml", 12, 68, "ECO402", [(C + "chart/values.yaml", 3, 3)]),
    (C + "compose/docker-compose.yml", 4, 68, "ECO402", [(C + "compose/.env", 3, 1)]),
    (C + "gke/deployment.yaml", 12, 68, "ECO402", [(C + "gke/provision.sh", 6, 3)]),
    (C + "gke/serve.py", 8, 65, "ECO402", [(C + "gke/provision.sh", 6, 3)]),
]


def test_companions_name_the_gpu_of_a_file_that_names_none():
    got = check_json(C)
    assert pinned(got) == EXPECTED  # two-gpus/, own-gpu/ and split/ are traps: nothing there
    messages = [f["message"] for f in got]
    assert "NVIDIA Tesla T4 (turing, from the chart's values file values.yaml)" in messages[0]
    assert "(volta, from the companion file .env in the same directory)" in messages[1]
    assert "(turing, from the companion file provision.sh in the same directory)" in messages[2]
    assert got[2]["related"][0]["message"] == "the GPU (NVIDIA Tesla T4) is named here (`gcloud --accelerator`), for the whole deployment"


def test_no_project_and_a_configured_gpu_turn_companions_off():
    assert check_json(C, "--no-project") == []
    assert check_json(C, "--gpu", "a100") == []  # the configured GPU wins over a companion's
    t4 = check_json(C + "own-gpu", "--gpu", "t4")  # and over the file's own (the L4 of its node selector)
    assert [(f["code"], f["related"]) for f in t4] == [("ECO402", [])]


def test_partial_run_reads_companions_and_reports_only_the_files_given():
    assert pinned(check_json(C + "gke/deployment.yaml")) == EXPECTED[2:3]
    assert pinned(check_json("--select", "ECO402", C + "gke/serve.py")) == EXPECTED[3:]  # kept by the prefilter too
    assert check_json(C + "gke/provision.sh") == []


def test_traps():
    assert check_json(C + "two-gpus") == []  # t4 and a100 pools: no single GPU
    assert check_json(C + "split") == []  # the script is in infra/, the manifest in k8s/
    assert check_json(C + "own-gpu") == []  # its own L4 node selector wins over the companion's T4


def test_yaml_companions_serve_only_yaml_files(tmp_path):
    root = tmp_path / "p"
    root.mkdir()
    (root / "pyproject.toml").write_text("[project]\nname = 'x'\n", encoding="utf-8")
    shutil.copy(FIXTURES / "projects" / "companions" / "gke" / "serve.py", root / "serve.py")
    shutil.copy(FIXTURES / "projects" / "companions" / "gke" / "deployment.yaml", root / "deployment.yaml")
    (root / "values.yaml").write_text("nodeSelector:\n  cloud.google.com/gke-accelerator: nvidia-tesla-t4\n", encoding="utf-8")
    got = check_json(".", cwd=root)
    assert [(f["filename"], f["code"]) for f in got] == [("deployment.yaml", "ECO402")]  # not serve.py


def test_disagreeing_companions_name_none(tmp_path):
    root = tmp_path / "p"
    shutil.copytree(FIXTURES / "projects" / "companions" / "gke", root)
    (root / "pyproject.toml").write_text("[project]\nname = 'x'\n", encoding="utf-8")
    assert len(check_json("deployment.yaml", cwd=root)) == 1
    (root / ".env").write_text("GPU_TYPE=nvidia-l4\n", encoding="utf-8")
    assert check_json("deployment.yaml", cwd=root) == []


def test_cache_invalidation_when_a_companion_changes(tmp_path):
    root = tmp_path / "p"
    shutil.copytree(FIXTURES / "projects" / "companions", root)
    cache_dir = tmp_path / "cache"

    def run():
        return [(f["filename"], f["code"]) for f in cached_json("gke", cache_dir=cache_dir, cwd=root)]

    first = run()
    assert first == [("gke/deployment.yaml", "ECO402"), ("gke/serve.py", "ECO402")]
    assert run() == first  # from the cache
    script = root / "gke" / "provision.sh"
    script.write_text(script.read_text(encoding="utf-8").replace("nvidia-tesla-t4", "nvidia-l4"), encoding="utf-8")
    assert run() == []  # an L4 runs bfloat16: both files were linted again
    script.unlink()
    (root / "gke" / ".env").write_text("ACCELERATOR=Tesla-V100\n", encoding="utf-8")
    assert run() == first  # a companion that appears counts too


def test_provisioning_commands_and_variables_name_a_gpu():
    def gpus(text):
        return [(h.gpu, h.span.line, h.source) for h in extract_script("x.sh", text, {}).gpu_hints]

    assert gpus("sky launch --gpus A100:8 task.yaml\n") == [("a100", 1, "sky --gpus")]
    assert gpus("eksctl create nodegroup --cluster c --node-type g5.xlarge\n") == [("a10g", 1, "eksctl --node-type")]
    assert gpus("aws ec2 run-instances --image-id ami-1 --instance-type g4dn.xlarge\n") == [("t4", 1, "aws --instance-type")]
    assert gpus("az vm create -n vm --size Standard_NC4as_T4_v3\n") == [("t4", 1, "az --size")]
    assert gpus("gcloud compute instances create vm --accelerator=type=nvidia-l4,count=1\n") == [("l4", 1, "gcloud --accelerator")]
    assert gpus("TYPE=g5.xlarge\neksctl create nodegroup --node-type $TYPE\n") == [("a10g", 2, "eksctl --node-type")]
    assert gpus("eksctl create nodegroup --instance-types g5.xlarge,g5.2xlarge\n") == [("a10g", 1, "eksctl --instance-types")]
    assert gpus("eksctl create nodegroup --instance-types g5.xlarge,g4dn.xlarge\n") == []  # two GPUs: none
    assert gpus("export GPU_TYPE=nvidia-tesla-v100\n") == [("v100-16gb", 1, "GPU_TYPE")]
    assert gpus("GPU=0\nGPUS=2\nkubectl apply -f deployment.yaml --instance-type g5.xlarge\n") == []  # no GPU name, no provisioner


def test_only_findings_that_used_the_gpu_name_the_companion(tmp_path):
    root = tmp_path / "p"
    root.mkdir()
    (root / "pyproject.toml").write_text("[project]\nname = 'x'\n", encoding="utf-8")
    (root / "provision.sh").write_text("gcloud container node-pools create p --accelerator type=nvidia-tesla-t4,count=1\n", encoding="utf-8")
    manifest = (FIXTURES / "projects" / "companions" / "gke" / "deployment.yaml").read_text(encoding="utf-8")
    manifest = manifest.replace('"--dtype", "bfloat16"', '"--max-num-seqs", "1", "--dtype", "float32"')
    (root / "deployment.yaml").write_text(manifest, encoding="utf-8")
    got = {f["code"]: f for f in check_json(".", cwd=root)}
    assert sorted(got) == ["ECO202", "ECO401"]
    # ECO202 chose its next command for the companion's GPU; ECO401 (fp32) never asked for one
    assert "--gpu t4" in got["ECO202"]["next_command"]
    assert got["ECO202"]["message"].endswith("(GPU NVIDIA Tesla T4 from the companion file provision.sh in the same directory, not from this file)")
    assert [(r["filename"], r["location"]["row"], r["location"]["column"]) for r in got["ECO202"]["related"]] == [("provision.sh", 1, 38)]
    assert "companion" not in got["ECO401"]["message"] and got["ECO401"]["related"] == []


def test_a_companion_that_appears_relints_a_file_that_had_none(tmp_path):
    """serve.py names no GPU: with no companion beside it the prefilter drops it (no rule can use a GPU), and the
    cache must still notice a provisioning script added later."""
    root = tmp_path / "p"
    root.mkdir()
    (root / "pyproject.toml").write_text("[project]\nname = 'x'\n", encoding="utf-8")
    shutil.copy(FIXTURES / "projects" / "companions" / "gke" / "serve.py", root / "serve.py")
    cache_dir = tmp_path / "cache"

    def run():
        return [(f["filename"], f["code"]) for f in cached_json(".", cache_dir=cache_dir, cwd=root)]

    assert run() == []
    assert run() == []  # from the cache
    shutil.copy(FIXTURES / "projects" / "companions" / "gke" / "provision.sh", root / "provision.sh")
    assert run() == [("serve.py", "ECO402")]


def test_directory_listings_are_remembered_only_while_the_directory_is_unchanged(tmp_path):
    import os

    from ecolint.project import model

    d = tmp_path / "d"
    d.mkdir()
    (d / "a.sh").write_text("", encoding="utf-8")
    key = f"{d}\x00.sh,.env"
    old = 1_000_000_000  # long settled: remembered
    os.utime(d, ns=(old, old))
    first = model.listing_hash(key)
    assert model._LISTINGS[key] == (old, first)
    (d / "b.sh").write_text("", encoding="utf-8")  # the directory's time moves on
    second = model.listing_hash(key)
    assert second != first
    assert model._LISTINGS[key] == (old, first)  # a time less than two seconds old is not remembered
    assert model.listing_hash(key) == second
