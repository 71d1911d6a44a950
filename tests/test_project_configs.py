"""YAML configs a Python file loads (ecolint.project.configs): Hydra composition and literal loads.

Policy under test: the value a rule reads is the one Hydra's default run uses (no command-line overrides); the
finding is reported at the use in the Python file with the YAML line that sets the value as a related location;
whatever cannot be followed is unknown, exactly as without the project model.
"""

from __future__ import annotations

import os
from pathlib import Path

from conftest import FIXTURES
from helpers import cached_json, check_json, pinned, write_project

from ecolint.project.configs import config_files, hydra_config, loaded_config, lookup
from ecolint.project.model import forget, project_for

P = "fixtures/projects/hydra/"
HYDRA = FIXTURES / "projects" / "hydra"

# (file, line, column, code, [(related file, line, column)])
EXPECTED = [
    (P + "conf/quantization/int8.yaml", 1, 1, "ECO101", []),
    (P + "configs/quant.yaml", 4, 3, "ECO101", []),
    (P + "loaders.py", 8, 78, "ECO401", [(P + "configs/serve.yaml", 3, 10)]),
    (P + "loaders.py", 11, 61, "ECO101", [(P + "configs/quant.yaml", 4, 17)]),
    (P + "serve.py", 9, 32, "ECO101", [(P + "conf/quantization/int8.yaml", 1, 15)]),
    (P + "serve.py", 12, 54, "ECO202", [(P + "conf/dataloader/default.yaml", 1, 13)]),
]
# Without the project model the YAML files still report on themselves; the Python uses are run-time values.
EXPECTED_NO_PROJECT = [
    (P + "conf/quantization/int8.yaml", 1, 1, "ECO101", []),
    (P + "configs/quant.yaml", 4, 3, "ECO101", []),
    (P + "loaders.py", 11, 61, "ECO101", []),
    (P + "serve.py", 9, 32, "ECO101", []),
]


def test_hydra_and_literal_loads_are_pinned_with_related_locations():
    assert pinned(check_json(P)) == EXPECTED


def test_no_project_turns_config_loading_off():
    got = check_json(P, "--no-project")
    assert pinned(got) == EXPECTED_NO_PROJECT
    by_place = {(f["filename"], f["location"]["row"]): f for f in got}
    assert by_place[(P + "serve.py", 9)]["severity"] == "info"  # a run-time value: "when ... is true"


def test_values_carry_the_model_and_the_default_run_explanation():
    by_place = {(f["filename"], f["location"]["row"]): f for f in check_json(P)}
    int8 = by_place[(P + "serve.py", 9)]
    assert int8["severity"] == "red"
    assert "8B" in int8["message"]  # the model id `${model.org}/Meta-Llama-3-8B-Instruct`, interpolated
    batch = by_place[(P + "serve.py", 12)]
    what = batch["related"][0]["message"]
    # the trap: conf/experiment/big_batch.yaml sets batch 8, but only `+experiment=big_batch` selects it
    assert "default run" in what and "experiment" in what and "conf/config.yaml" in what
    assert "batch size 1" in batch["message"]
    dtype = by_place[(P + "loaders.py", 8)]
    assert dtype["fix"] is None  # the value is written in the YAML file: no edit of the Python use


def test_experiment_override_is_not_applied_to_the_default_run():
    forget()
    importer = str(HYDRA / "serve.py")
    project = project_for(importer)
    allowed = frozenset(config_files(project, importer, (HYDRA / "serve.py").read_text(encoding="utf-8")))
    assert str(HYDRA / "conf" / "experiment" / "big_batch.yaml") in allowed  # stamped, never composed
    root, files, primary = hydra_config(project, importer, allowed, "conf", "config")
    assert primary == str(HYDRA / "conf" / "config.yaml")
    assert not any("experiment" in f for f in files)
    assert lookup(root, ["dataloader", "batch_size"]).value == 1
    assert lookup(root, ["model", "model_id"]).value == "meta-llama/Meta-Llama-3-8B-Instruct"
    assert lookup(root, ["model", "model_id"]).line == 2  # where the interpolating value is written


def _compose(root: Path, script: str = "app.py", config_path: str = "conf", name: str = "config", self_first: bool = False):
    forget()
    importer = str(root / script)
    project = project_for(importer)
    text = f'@hydra.main(config_path="{config_path}", config_name="{name}")\n'
    got = hydra_config(project, importer, frozenset(config_files(project, importer, text)), config_path, name, self_first)
    return got[0] if got is not None else None


def test_self_position_decides_between_the_primary_and_its_defaults(tmp_path):
    group = {"conf/model/a.yaml": "model_id: from-group\nsize: 7\n"}
    implicit = tmp_path / "implicit"
    write_project(implicit, {**group, "conf/config.yaml": "defaults:\n  - model: a\nmodel:\n  model_id: from-primary\n"})
    root = _compose(implicit)
    assert lookup(root, ["model", "model_id"]).value == "from-primary"  # _self_ is implicitly last (Hydra >= 1.1)
    assert lookup(root, ["model", "size"]).value == 7  # dictionaries merge key by key
    first = tmp_path / "first"
    write_project(first, {**group, "conf/config.yaml": "defaults:\n  - _self_\n  - model: a\nmodel:\n  model_id: from-primary\n"})
    assert lookup(_compose(first), ["model", "model_id"]).value == "from-group"
    old = _compose(implicit, self_first=True)  # version_base="1.0": the primary first, its defaults over it
    assert lookup(old, ["model", "model_id"]).value == "from-group"


def test_packages_overrides_null_and_optional(tmp_path):
    write_project(tmp_path, {
        "conf/config.yaml": (
            "defaults:\n  - model: a\n  - db@backup: pg\n  - server/apache\n  - extra: null\n"
            "  - optional missing: nothing\n  - override model: b\n  - _self_\n"
        ),
        "conf/model/a.yaml": "model_id: a\n",
        "conf/model/b.yaml": "# @package _global_\ntop: from-b\n",
        "conf/db/pg.yaml": "port: 5432\n",
        "conf/server/apache.yaml": "defaults:\n  - db: pg\nname: apache\n",
        "conf/server/db/pg.yaml": "port: 5433\n",
        "conf/extra/x.yaml": "never: true\n",
    })
    root = _compose(tmp_path)
    assert lookup(root, ["top"]).value == "from-b"  # `override model: b`, placed by its `_global_` directive
    assert lookup(root, ["model"]) is None
    assert lookup(root, ["backup", "port"]).value == 5432  # `db@backup`
    assert lookup(root, ["server", "name"]).value == "apache"
    assert lookup(root, ["server", "db", "port"]).value == 5433  # a nested group is relative to its config: server/db/
    assert lookup(root, ["extra"]) is None and lookup(root, ["never"]) is None


def test_interpolation_is_followed_only_where_static(tmp_path):
    write_project(tmp_path, {
        "conf/config.yaml": (
            "org: meta-llama\nname: ${org}/Llama-2-7b-hf\nsame: ${name}\nenv: ${oc.env:MODEL}\nrel: ${.org}\n"
            "missing: ???\nloop: ${loop}\nflag: ${quant.on}\nquant:\n  on: true\n"
        ),
    })
    root = _compose(tmp_path)
    assert lookup(root, ["name"]).value == "meta-llama/Llama-2-7b-hf"
    assert lookup(root, ["same"]).value == "meta-llama/Llama-2-7b-hf"
    flag = lookup(root, ["flag"])
    assert flag.value is True and flag.line == 10  # a whole-value interpolation points at the value it names
    for key in ("env", "rel", "missing", "loop"):
        assert not lookup(root, [key]).known


def test_anything_not_followed_makes_the_composition_unknown(tmp_path):
    write_project(tmp_path, {"conf/config.yaml": "defaults:\n  - model: registered_in_python\nx: 1\n"})
    assert _compose(tmp_path) is None  # a structured config from a ConfigStore: not a file
    bad = tmp_path / "bad"
    write_project(bad, {"conf/config.yaml": "x: [1\n"})
    assert _compose(bad) is None
    outside = tmp_path / "outer"
    write_project(outside / "inner", {"app.py": ""})
    (outside / "conf").mkdir()
    (outside / "conf" / "config.yaml").write_text("x: 1\n", encoding="utf-8")
    assert _compose(outside / "inner", config_path="../conf") is None  # never read outside the project root


def test_literal_loads_next_to_the_file_then_at_the_root(tmp_path):
    write_project(tmp_path, {"configs/a.yaml": "x: ${y}\ny: 2\n", "scripts/configs/a.yaml": "x: 3\n", "scripts/run.py": ""})
    forget()
    importer = str(tmp_path / "scripts" / "run.py")
    project = project_for(importer)
    allowed = frozenset(config_files(project, importer, 'open("configs/a.yaml")'))
    root, path = loaded_config(project, importer, allowed, "configs/a.yaml", False)
    assert path == str(tmp_path / "scripts" / "configs" / "a.yaml") and lookup(root, ["x"]).value == 3
    os.remove(tmp_path / "scripts" / "configs" / "a.yaml")
    forget()
    project = project_for(importer)
    allowed = frozenset(config_files(project, importer, 'open("configs/a.yaml")'))
    assert lookup(loaded_config(project, importer, allowed, "configs/a.yaml", True)[0], ["x"]).value == 2  # OmegaConf
    assert lookup(loaded_config(project, importer, allowed, "configs/a.yaml", False)[0], ["x"]).value == "${y}"  # PyYAML
    assert loaded_config(project, importer, frozenset(), "configs/a.yaml", False) is None  # not named by the text


LOAD = "from transformers import AutoModelForCausalLM\n"


def test_python_side_recognises_only_configs_it_can_follow(tmp_path):
    write_project(tmp_path, {
        "conf/config.yaml": "model:\n  id: mistralai/Mistral-7B-v0.1\n  eight: true\n",
        "cfg.yaml": "model:\n  id: mistralai/Mistral-7B-v0.1\n  eight: true\n",
        "hydra_app.py": (
            "import hydra\n" + LOAD + "\n@hydra.main(version_base=None, config_path='conf', config_name='config')\n"
            "def main(cfg):\n    AutoModelForCausalLM.from_pretrained(cfg.model.id, load_in_8bit=cfg.model.eight)\n\n"
            "def helper(cfg):  # not the decorated function: cfg is a parameter like any other\n"
            "    AutoModelForCausalLM.from_pretrained(cfg.model.id, load_in_8bit=cfg.model.eight)\n"
        ),
        "compose_app.py": (
            "from hydra import compose, initialize\n" + LOAD +
            "with initialize(version_base=None, config_path='conf'):\n    cfg = compose(config_name='config')\n"
            "AutoModelForCausalLM.from_pretrained(cfg['model']['id'], load_in_8bit=cfg.model.get('eight'))\n"
        ),
        "plain.py": (
            "import yaml\n" + LOAD + "cfg = yaml.safe_load(open('cfg.yaml'))\n"
            "AutoModelForCausalLM.from_pretrained(cfg['model']['id'], load_in_8bit=cfg['model']['eight'])\n"
            "AutoModelForCausalLM.from_pretrained(cfg['model']['id'], load_in_8bit=cfg.model.eight)  # a dict has no attributes\n"
        ),
        "changed.py": (
            "import yaml\n" + LOAD + "cfg = yaml.safe_load(open('cfg.yaml'))\ncfg['model'] = {}\n"
            "AutoModelForCausalLM.from_pretrained(cfg['model']['id'], load_in_8bit=cfg['model']['eight'])\n"
        ),
    })
    got = [(f["filename"], f["location"]["row"], f["code"], f["severity"]) for f in check_json(".", "--select", "ECO101", cwd=tmp_path)]
    assert got == [
        ("changed.py", 5, "ECO101", "info"),  # the dict is changed after loading: a run-time value (an opt-in at most)
        ("compose_app.py", 5, "ECO101", "red"),
        ("hydra_app.py", 6, "ECO101", "red"),
        ("hydra_app.py", 9, "ECO101", "info"),  # a helper's parameter: its caller's choice
        ("plain.py", 4, "ECO101", "red"),
        ("plain.py", 5, "ECO101", "info"),  # attribute access on a plain dict: not followed (unknown: an opt-in at most)
    ]


def test_unparsable_config_is_unknown(tmp_path):
    write_project(tmp_path, {
        "conf/config.yaml": "model: [unclosed\n",
        "app.py": (
            "import hydra\n" + LOAD + "\n@hydra.main(version_base=None, config_path='conf', config_name='config')\n"
            "def main(cfg):\n    AutoModelForCausalLM.from_pretrained(cfg.model.id, load_in_8bit=cfg.model.eight)\n"
        ),
    })
    got = check_json("app.py", cwd=tmp_path)
    assert got == check_json("app.py", "--no-project", cwd=tmp_path)  # its users are linted as if it were unknown


def test_cache_invalidation_when_a_loaded_yaml_changes(tmp_path):
    root = tmp_path / "proj"
    write_project(root, {
        "conf/config.yaml": "defaults:\n  - quant: int8\n",
        "conf/quant/int8.yaml": "load_in_8bit: true\n",
        "app.py": (
            "import hydra\n" + LOAD + "\n@hydra.main(version_base=None, config_path='conf', config_name='config')\n"
            "def main(cfg):\n    AutoModelForCausalLM.from_pretrained('mistralai/Mistral-7B-v0.1', load_in_8bit=cfg.quant.load_in_8bit)\n"
        ),
    })
    cache_dir = tmp_path / "cache"

    def run():
        return [(f["filename"], f["code"], f["severity"]) for f in cached_json("app.py", cache_dir=cache_dir, cwd=root)]

    assert run() == [("app.py", "ECO101", "red")]
    assert run() == [("app.py", "ECO101", "red")]  # from the cache
    (root / "conf" / "quant" / "int8.yaml").write_text("load_in_8bit: false\n", encoding="utf-8")
    # a composed file changed: the user is linted again (off by default; the command line may still switch it on)
    assert run() == [("app.py", "ECO101", "info")]
    (root / "conf" / "quant" / "int8.yaml").write_text("load_in_8bit: true\n", encoding="utf-8")
    assert run() == [("app.py", "ECO101", "red")]
