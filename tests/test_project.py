"""Project-aware analysis (ecolint.project): values and generating helpers from other modules of a project.

Policy under test: a finding is reported in the linted file at the use site, with the place the value is
written as a related location; no automatic fix edits a value written in another file.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import replace

import pytest
from conftest import FIXTURES, ROOT, run_cli
from helpers import cached_json, write_project

from ecolint.config import ConfigError, Settings, settings_from_mapping
from ecolint.runner import Engine, lint_paths

PROJECT = FIXTURES / "projects" / "imports"
P = "fixtures/projects/imports/"

# (file, line, column, code, [(related file, line, column)])
EXPECTED = [
    (P + "fp32.py", 4, 77, "ECO401", [(P + "settings.py", 5, 9)]),
    (P + "loop.py", 7, 20, "ECO201", [(P + "pkg/helpers.py", 3, 12)]),
    (P + "pkg/models/quant.py", 5, 31, "ECO101", []),
    (P + "pkg/serve.py", 7, 76, "ECO101", [(P + "pkg/models/quant.py", 5, 12), (P + "pkg/models/quant.py", 5, 44)]),
    (P + "pkg/serve.py", 9, 61, "ECO101", [(P + "settings.py", 6, 11), (P + "settings.py", 6, 29)]),
]
# Without the project model only the helper's own finding and a wrong "no dtype" finding (the quantization config
# built by the imported helper is invisible, so the load looks like an unquantized float32 load) remain.
EXPECTED_NO_PROJECT = [
    (P + "pkg/models/quant.py", 5, 31, "ECO101", []),
    (P + "pkg/serve.py", 7, 9, "ECO401", []),
]


def _pins(findings):
    return [
        (f["filename"], f["location"]["row"], f["location"]["column"], f["code"], [(r["filename"], r["location"]["row"], r["location"]["column"]) for r in f["related"]])
        for f in findings
    ]


def _check(*args, cwd=None):
    proc = run_cli("check", "--no-cache", *args, "--output-format", "json", cwd=cwd)
    assert proc.stderr == ""
    return json.loads(proc.stdout)


def test_project_findings_are_pinned_with_related_locations():
    assert _pins(_check(P)) == EXPECTED


def test_fixes_never_edit_a_value_written_in_another_file():
    by_place = {(f["filename"], f["location"]["row"]): f for f in _check(P)}
    serve = by_place[(P + "pkg/serve.py", 7)]
    assert serve["fix"]["applicability"] == "display-only"
    assert "written in" in serve["fix"]["message"] and "quant.py" in serve["fix"]["message"]
    assert by_place[(P + "fp32.py", 4)]["fix"] is None  # `settings.DTYPE` is not rewritten into `settings.float16`
    assert by_place[(P + "pkg/models/quant.py", 5)]["fix"]["applicability"] == "unsafe"  # its own file: fixable


def test_no_project_flag_lints_each_file_alone():
    assert _pins(_check(P, "--no-project")) == EXPECTED_NO_PROJECT


def test_project_false_in_config(tmp_path):
    root = tmp_path / "proj"
    shutil.copytree(PROJECT, root)
    (root / ".ecolint.toml").write_text("project = false\n", encoding="utf-8")
    got = [(f["filename"], f["code"]) for f in _check(".", cwd=root)]
    assert got == [("pkg/models/quant.py", "ECO101"), ("pkg/serve.py", "ECO401")]


def test_project_key_is_type_checked(tmp_path):
    assert settings_from_mapping({"project": False}, tmp_path, "x").project is False
    with pytest.raises(ConfigError, match="project must be true or false"):
        settings_from_mapping({"project": "no"}, tmp_path, "x")


def test_partial_run_reports_only_the_files_passed():
    """pre-commit passes only the changed files: their dependencies are read, never reported on."""
    got = _pins(_check(P + "pkg/serve.py", P + "loop.py"))
    assert got == [e for e in EXPECTED if e[0] in (P + "pkg/serve.py", P + "loop.py")]


def test_prefilter_keeps_callers_of_generating_helpers():
    """loop.py names no generation API in its text: the prefilter keeps it because a module it imports generates
    once per call; prefiltered and unfiltered runs agree on every project fixture."""
    assert "generate" not in (PROJECT / "loop.py").read_text(encoding="utf-8")
    fast = Engine.create(Settings(root=ROOT))
    slow = replace(fast, prefilter=False)
    a = [f.to_dict() for f in lint_paths([FIXTURES / "projects"], fast).findings]
    b = [f.to_dict() for f in lint_paths([FIXTURES / "projects"], slow).findings]
    assert a == b
    assert any(f["code"] == "ECO201" and f["filename"].endswith("loop.py") for f in a)


SCRIPT = (
    "from transformers import AutoModelForCausalLM\nfrom config import QUANT\n\n"
    "model = AutoModelForCausalLM.from_pretrained('mistralai/Mistral-7B-v0.1', device_map='auto', **QUANT)\n"
)


def test_cache_invalidation_across_files(tmp_path):
    root = tmp_path / "proj"
    write_project(root, {"config.py": "QUANT = {'load_in_8bit': True}\n", "main.py": SCRIPT})
    cache_dir = tmp_path / "cache"

    def run():
        return [(f["filename"], f["code"]) for f in cached_json(".", cache_dir=cache_dir, cwd=root)]

    assert run() == [("main.py", "ECO101")]
    assert run() == [("main.py", "ECO101")]  # served from the cache
    (root / "config.py").write_text("QUANT = {'load_in_8bit': True, 'llm_int8_threshold': 0.0}\n", encoding="utf-8")
    assert run() == []  # the helper changed: its user is linted again, not served stale findings
    (root / "config.py").write_text("QUANT = {'load_in_8bit': True}\n", encoding="utf-8")
    assert run() == [("main.py", "ECO101")]


def test_import_cycles_are_broken(tmp_path):
    root = tmp_path / "proj"
    write_project(root, {
        "a.py": "from b import B, helper\nA = B\n\ndef ask(m, p):\n    return helper(m, p)\n",
        "b.py": "from a import A, ask\nB = A\n\ndef helper(m, p):\n    return ask(m, p)\n",
        "main.py": (
            "from transformers import AutoModelForCausalLM\nfrom a import A, ask\n\n"
            "model = AutoModelForCausalLM.from_pretrained('mistralai/Mistral-7B-v0.1', load_in_8bit=A)\n"
            "for p in prompts:\n    ask(model, p)\n"
        ),
    })
    got = _check(".", cwd=root)
    # A is unknown (a cycle), as it is without the project model; `ask` never reaches a generate call
    assert got == _check(".", "--no-project", cwd=root)
    assert [f["code"] for f in got] == []


def test_unparsable_module_is_unknown(tmp_path):
    root = tmp_path / "proj"
    write_project(root, {"config.py": "QUANT = {'load_in_8bit': True\n", "main.py": SCRIPT})
    got = _check("main.py", cwd=root)
    assert got == _check("main.py", "--no-project", cwd=root)  # linted as if QUANT were unknown
    assert [f["code"] for f in got] == []


def test_src_layout_and_package_reexport(tmp_path):
    root = tmp_path / "proj"
    write_project(root, {
        "src/app/__init__.py": "from .settings import MODEL_ID, QUANT\n",
        "src/app/settings.py": "MODEL_ID = 'mistralai/Mistral-7B-v0.1'\nQUANT = dict(load_in_8bit=True)\n",
        "scripts/run.py": (
            "import app\nfrom transformers import AutoModelForCausalLM\n\n"
            "model = AutoModelForCausalLM.from_pretrained(app.MODEL_ID, device_map='auto', **app.QUANT)\n"
        ),
    })
    got = _check("scripts/run.py", cwd=root)
    assert [(f["filename"], f["location"]["row"], f["location"]["column"], f["code"]) for f in got] == [("scripts/run.py", 4, 81, "ECO101")]
    assert [r["filename"] for r in got[0]["related"]] == ["src/app/settings.py", "src/app/settings.py"]
    assert "Mistral-7B" in got[0]["message"] or "7B" in got[0]["message"]


LOOP = "from helpers import answer\n\nfor p in prompts:\n    answer(model, p)\n"


def test_cache_invalidation_follows_what_the_analysis_consulted(tmp_path):
    """The cache keeps what the project model was asked for a file (module lookups, modules read): a changed
    generating helper, or a new module that an import now finds first, re-lints the file."""
    root = tmp_path / "proj"
    write_project(root, {
        "helpers.py": "def answer(model, p):\n    return model.generate(p)\n",
        "main.py": LOOP,
    })
    cache_dir = tmp_path / "cache"

    def run():
        proc = run_cli("check", ".", "--cache-dir", str(cache_dir), "--output-format", "json", cwd=root)
        assert proc.stderr == ""
        return [(f["filename"], f["code"]) for f in json.loads(proc.stdout)]

    assert run() == [("main.py", "ECO201")]
    assert run() == [("main.py", "ECO201")]  # served from the cache
    (root / "helpers.py").write_text("def answer(model, p):\n    return p\n", encoding="utf-8")
    assert run() == []
    (root / "pkg").mkdir()
    (root / "pkg" / "__init__.py").write_text("", encoding="utf-8")
    (root / "pkg" / "main.py").write_text(LOOP, encoding="utf-8")
    assert run() == []  # pkg/main.py finds helpers.py at the root: no generation there
    (root / "pkg" / "helpers.py").write_text("def answer(model, p):\n    return model.generate(p)\n", encoding="utf-8")
    assert run() == [("pkg/main.py", "ECO201")]  # the import now finds pkg/helpers.py first


def test_functions_parsed_alone_equal_those_of_the_whole_module():
    """A summary parses a top-level function again from its own lines when asked (ModuleSummary.functions): the
    same tree, positions included, as the module's parse gives it -- over this project's own modules, and over
    texts with CRLF or CR line ends, non-ASCII text, decorators and a backslash line before a def."""
    import ast

    from ecolint.project.summaries import _without_annotations, summarise

    texts = [p.read_bytes() for p in sorted((ROOT / "ecolint").rglob("*.py"))]
    tricky = (
        "import x\n\n@deco(1,\n  2)\n@other\ndef f(a: int, *b: str, c=\"é\", **d) -> int:\n    '''ü'''\n    return g(a)  # ✓\n\n"
        "def g(p):\n    x = 'ä'; return p\n\\\ndef h(q):\n    return q\nasync def k(r):\n    await r\n"
    )
    texts += [tricky.encode(), tricky.replace("\n", "\r\n").encode(), tricky.replace("\n", "\r").encode()]
    for data in texts:
        s = summarise("m.py", data)
        assert s is not None and s.reparsable
        whole = {n.name: n for n in ast.parse(data).body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
        assert set(s.functions) == set(whole)
        for name, node in whole.items():
            assert ast.dump(s.functions[name], include_attributes=True) == ast.dump(_without_annotations(node), include_attributes=True), name
    latin = "# -*- coding: latin-1 -*-\ndef f(x='\xe9'):\n    return x\n".encode("latin-1")
    s = summarise("m.py", latin)
    assert s is not None and not s.reparsable and s.functions["f"].lineno == 2  # kept from the module's own parse


def test_module_files_found_from_listings_equal_the_stat_answers(tmp_path):
    """The project model finds module files from one listing per directory (Project._find): the same files as
    asking the file system about each candidate, for absolute and relative names, packages, plain directories,
    a symlinked package, names that are not there and relative names that climb above the project."""
    import itertools
    import os

    from ecolint.project.model import Project

    root = tmp_path / "proj"
    for rel in ["pyproject.toml", "a.py", "pkg/__init__.py", "pkg/b.py", "pkg/sub/__init__.py", "pkg/sub/c.py",
                "plain/d.py", "src/lib/__init__.py", "src/lib/e.py", "tools/run.py", "pkg/sub/deep/f.py", "x.py/y.py"]:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text("", encoding="utf-8")
    (root / "linked").symlink_to(root / "pkg", target_is_directory=True)
    (root / "afile").write_text("", encoding="utf-8")
    importers = [root / "tools" / "run.py", root / "pkg" / "sub" / "c.py", root / "a.py", root / "pkg" / "sub" / "deep" / "f.py"]
    names = ["a", "pkg", "pkg.b", "pkg.sub", "pkg.sub.c", "plain.d", "plain", "lib.e", "lib", "linked.b", "linked.sub.c",
             "nothere", "nothere.x", "afile", "afile.x", "x.y", "x", "pkg.sub.deep.f"]
    names += ["." + n for n in names[:6]] + [".." + n for n in names[:6]] + ["...", "..", ".", "....proj.a", ".....tmp"]
    project = Project(str(root))

    def reference(importer: str, module: str) -> tuple[str, ...]:
        level = len(module) - len(module.lstrip("."))
        parts = [p for p in module[level:].split(".") if p]
        out = []
        for base in project._bases(importer, level):
            stem = os.path.join(base, *parts) if parts else base
            for cand in (stem + ".py", os.path.join(stem, "__init__.py")):
                if project.inside(cand) and os.path.isfile(cand):
                    out.append(cand)
        return tuple(out)

    for importer, name in itertools.product(importers, names):
        assert project._find(str(importer), name) == reference(str(importer), name), (importer, name)
