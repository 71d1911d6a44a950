"""Notebooks linted as a front end: positions per cell in every output, noqa per cell line, fixes written back
into the cells only, broken notebooks as one finding, and `.py` exports with IPython syntax analysed."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest
from conftest import ROOT, run_cli

from ecolint.config import Settings
from ecolint.facts import Edit, Span
from ecolint.runner import Engine, lint_bytes, place_findings
from ecolint.sources import front_end, kind_for

NOTEBOOKS = ROOT / "fixtures" / "notebooks"
INT8 = 'from transformers import AutoModelForCausalLM, BitsAndBytesConfig\n'
LOAD = 'cfg = BitsAndBytesConfig(load_in_8bit=True)\nmodel = AutoModelForCausalLM.from_pretrained("mistralai/Mistral-7B-v0.1", quantization_config=cfg)\n'
GEN = 'out = model.generate(ids, max_new_tokens=64, use_cache=False)'


def _nb(sources, metadata=None, outputs=None, **dump) -> bytes:
    cells = [{"cell_type": "markdown", "id": "m0", "metadata": {}, "source": ["# A recipe\n"]}]
    for n, source in enumerate(sources):
        cells.append({"cell_type": "code", "execution_count": n + 1, "id": f"c{n}", "metadata": {}, "outputs": outputs or [],
                      "source": source.splitlines(True)})
    doc = {"cells": cells, "metadata": metadata if metadata is not None else {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}},
           "nbformat": 4, "nbformat_minor": 5}
    dump.setdefault("indent", 1)
    return (json.dumps(doc, **dump) + "\n").encode("utf-8")


def _engine(**settings) -> Engine:
    from dataclasses import replace

    return Engine.create(replace(Settings(root=ROOT), transformers_version="4.44.0", **settings))


def _lint(data: bytes, name: str = "nb.ipynb", **settings):
    return lint_bytes(name, data, kind_for(Path(name)), _engine(**settings), project_dir=Path("/nonexistent")).findings


def _json(*args, cwd=None, input=None):
    proc = run_cli("check", "--no-cache", "--output-format", "json", *args, cwd=cwd, input=input)
    return json.loads(proc.stdout)


def _validate(data: bytes) -> None:
    nbformat = pytest.importorskip("nbformat")
    nbformat.validate(nbformat.reads(data.decode("utf-8"), as_version=4))


# -- linted by default ----------------------------------------------------------------------------------------


def test_notebooks_are_a_front_end():
    assert kind_for(Path("recipe.ipynb")) == "notebook" and kind_for(Path("R.IPYNB")) == "notebook"
    fe = front_end("notebook")
    assert fe.tokens() == front_end("python").tokens()


def test_expected_csv_through_the_cli():
    """fixtures/notebooks/expected.csv, cell by cell, from one CLI run over the notebooks (discovery) and the
    Colab export (whose `!pip` line no longer hides its findings)."""
    expected = sorted((r["path"], r["cell"], int(r["row"]), int(r["col"]), r["code"]) for r in csv.DictReader((NOTEBOOKS / "expected.csv").open()))
    got = sorted(
        (f["filename"], str(f["cell"]) if f["cell"] is not None else "", f["location"]["row"], f["location"]["column"], f["code"])
        for f in _json("fixtures/notebooks")
    )
    assert got == expected


def test_explicit_path_and_stdin_filename(tmp_path):
    data = _nb([INT8 + LOAD])
    (tmp_path / "r.ipynb").write_bytes(data)
    proc = run_cli("check", "--no-cache", "--output-format", "concise", "r.ipynb", cwd=tmp_path)
    assert "r.ipynb:cell 2:2:26: ECO101" in proc.stdout and "1 checked" in proc.stdout
    got = _json("--stdin-filename", "x.ipynb", cwd=tmp_path, input=data.decode())
    assert [(f["code"], f["cell"], f["location"]["row"]) for f in got] == [("ECO101", 2, 2)]


def test_non_python_kernel_is_skipped_quietly():
    meta = {"kernelspec": {"language": "R", "name": "ir"}, "language_info": {"name": "R"}}
    assert _lint(_nb([INT8 + LOAD], meta)) == []


def test_cross_cell_resolution_and_magics():
    data = _nb(["!pip install -q bitsandbytes\n%pip install accelerate", INT8, "%%time\n" + LOAD, "%%bash\necho hi", "x = !ls\n%time " + GEN])
    got = [(f.code, f.span.cell, f.span.line, f.span.col) for f in _lint(data)]
    assert ("ECO101", 4, 2, 26) in got and ("ECO301", 6, 2, 52) in got, got


def test_outputs_are_never_parsed_and_large_outputs_are_fine():
    outputs = [{"output_type": "stream", "name": "stdout", "text": [LOAD * 20000]}]
    data = _nb(["print('hello')"], outputs=outputs)
    assert len(data) > 2_000_000
    assert _lint(data, max_file_size=50_000_000) == []


@pytest.mark.parametrize("path", sorted((NOTEBOOKS / "broken").iterdir()), ids=lambda p: p.name)
def test_broken_notebook_is_one_finding_and_the_run_goes_on(path, tmp_path):
    shutil.copy(path, tmp_path / path.name)
    (tmp_path / "ok.ipynb").write_bytes(_nb([INT8 + LOAD]))
    got = _json(".", cwd=tmp_path)
    assert sorted(f["code"] for f in got if f["filename"] == path.name) in (["ECO900"], ["ECO901"])
    assert [f["code"] for f in got if f["filename"] == "ok.ipynb"] == ["ECO101"]


def test_one_eco900_per_broken_cell_others_analysed():
    got = [(f.code, f.span.cell, f.span.line) for f in _lint(_nb(["def f(:\n", INT8, "x = )", LOAD]))]
    assert ("ECO900", 2, 1) in got and ("ECO900", 4, 1) in got and ("ECO101", 5, 1) in got, got


def test_metadata_gpu_feeds_facts_and_eco402():
    fe = front_end("notebook")
    meta = {"colab": {"gpuType": "T4"}, "accelerator": "GPU", "kernelspec": {"language": "python"}}
    source = "import torch\nfrom transformers import AutoModelForCausalLM\n" 'm = AutoModelForCausalLM.from_pretrained("Qwen/Qwen2.5-0.5B", torch_dtype=torch.bfloat16)'
    data = _nb([source], meta)
    facts = fe.extract("nb.ipynb", fe.decode(data), Settings(root=ROOT))
    assert [(h.gpu, h.span, h.source) for h in facts.gpu_hints] == [("t4", None, "notebook metadata")]
    assert "ECO402" in {f.code for f in _lint(data)}
    assert "ECO402" not in {f.code for f in _lint(data.replace(b'"T4"', b'"None"').replace(b'"GPU"', b'"None"'))}


# -- output ---------------------------------------------------------------------------------------------------


def test_outputs_name_the_cell(tmp_path):
    (tmp_path / "nb.ipynb").write_bytes(_nb([INT8, LOAD]))
    full = run_cli("check", "--no-cache", "nb.ipynb", cwd=tmp_path).stdout
    assert "nb.ipynb:cell 3:1:26: ECO101" in full and "1 | cfg = BitsAndBytesConfig(load_in_8bit=True)" in full
    [f] = _json("nb.ipynb", cwd=tmp_path)
    assert (f["cell"], f["location"], f["fix"]["edits"][0]["cell"]) == (3, {"row": 1, "column": 26}, 3)
    jsonschema = pytest.importorskip("jsonschema")
    from ecolint.report.json_format import SCHEMA

    jsonschema.validate(_json("nb.ipynb", cwd=tmp_path) + _json(str(ROOT / "fixtures" / "chat_int8.py")), json.loads(SCHEMA.read_text()))
    sarif = json.loads(run_cli("check", "--no-cache", "--output-format", "sarif", "nb.ipynb", cwd=tmp_path).stdout)
    [res] = sarif["runs"][0]["results"]
    assert res["message"]["text"].startswith("cell 3, line 1: ")
    assert res["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].endswith("nb.ipynb")
    assert "region" not in res["locations"][0]["physicalLocation"]
    github = run_cli("check", "--no-cache", "--output-format", "github", "nb.ipynb", cwd=tmp_path).stdout
    assert github.startswith("::error file=nb.ipynb,title=ECO101") and "::cell 3, line 1: " in github


def test_noqa_per_cell_line_and_unused_noqa_in_its_cell():
    data = _nb([INT8, LOAD.replace("load_in_8bit=True)", "load_in_8bit=True)  # noqa: ECO101"), "x = 1  # noqa: ECO301"])
    got = [(f.code, f.span.cell, f.span.line, f.span.col) for f in _lint(data)]
    assert got == [("ECO902", 4, 1, 8)], got


def test_fingerprints_do_not_depend_on_cells_above(tmp_path):
    from ecolint.report.fingerprint import fingerprints

    a, b = _nb([INT8, LOAD]).decode(), _nb(["import os\n", "x = 1\n\n\n", INT8, LOAD]).decode()
    fa, fb = _lint(a.encode()), _lint(b.encode())
    assert [f.span.cell for f in fa] != [f.span.cell for f in fb]
    assert fingerprints(fa, {"nb.ipynb": a}) == fingerprints(fb, {"nb.ipynb": b})


# -- fixes ----------------------------------------------------------------------------------------------------


def _cells(data: bytes) -> list:
    return json.loads(data)["cells"]


@pytest.mark.parametrize("dump", [{"indent": 1}, {"indent": 2, "ensure_ascii": False}, {}], ids=["indent1", "indent2", "compact"])
def test_fix_writes_back_only_the_changed_cell(tmp_path, dump):
    before = _nb(["# café\n" + INT8, "%time " + LOAD, "import torch\n" + GEN, "print('done')"], outputs=[{"output_type": "stream", "name": "stdout", "text": ["ok\n"]}], **dump)
    path = tmp_path / "nb.ipynb"
    path.write_bytes(before)
    proc = run_cli("check", "--no-cache", "--fix", "--unsafe-fixes", "nb.ipynb", cwd=tmp_path)
    after = path.read_bytes()
    assert after != before, proc.stdout + proc.stderr
    _validate(after)
    old, new = _cells(before), _cells(after)
    changed = [n for n, (o, c) in enumerate(zip(old, new)) if o != c]
    assert changed == [2, 3] and all(o["source"] != c["source"] and {**o, "source": 0} == {**c, "source": 0} for o, c in zip(old, new) if o != c)
    assert "llm_int8_threshold=0.0" in "".join(new[2]["source"]) and "use_cache" not in "".join(new[3]["source"])
    assert "".join(new[2]["source"]).startswith("%time cfg = ")
    # byte-identical outside the changed sources: only the lines of those sources differ
    assert before.splitlines()[:5] == after.splitlines()[:5] and before.endswith(b"}\n") and after.endswith(b"}\n")
    again = run_cli("check", "--no-cache", "--fix", "--unsafe-fixes", "nb.ipynb", cwd=tmp_path)
    assert path.read_bytes() == after, again.stdout  # idempotent


def test_diff_is_per_cell(tmp_path):
    path = tmp_path / "nb.ipynb"
    before = _nb([INT8, LOAD])
    path.write_bytes(before)
    diff = run_cli("check", "--no-cache", "--diff", "--unsafe-fixes", "nb.ipynb", cwd=tmp_path).stdout
    assert diff.startswith("--- a/nb.ipynb:cell 3\n+++ b/nb.ipynb:cell 3\n@@ -1,2 +1,2 @@\n-cfg = BitsAndBytesConfig(load_in_8bit=True)\n"), diff
    assert path.read_bytes() == before


def test_fix_on_ipython_columns_is_advice_only():
    fe = front_end("notebook")
    text = fe.decode(_nb(["%time x = f(a=1)"]))
    facts = fe.extract("nb.ipynb", text, Settings(root=ROOT))
    from ecolint.rule import Applicability, Finding, Fix, Severity

    def finding(edit_span):
        return Finding("ECO301", "x", Severity.YELLOW, "m", "nb.ipynb", Span(1, 7, 1, 8), Fix(Applicability.SAFE, "fix", [Edit(edit_span, "y")]))

    on_magic, on_python = place_findings(fe, [finding(Span(1, 1, 1, 6)), finding(Span(1, 7, 1, 8))], facts)
    assert on_magic.fix.applicability == Applicability.DISPLAY_ONLY and "not applied automatically" in on_magic.fix.message
    assert on_python.fix.applicability == Applicability.SAFE and on_python.fix.edits[0].span == Span(1, 7, 1, 8, 2)
    assert on_python.span == Span(1, 7, 1, 8, 2)


# -- .py files with IPython syntax ----------------------------------------------------------------------------


def test_colab_export_is_analysed_and_a_real_syntax_error_stays(tmp_path):
    got = [(f["code"], f["location"]["row"], f["location"]["column"]) for f in _json(str(NOTEBOOKS / "colab_export.py"))]
    assert got == [("ECO101", 16, 35), ("ECO301", 31, 57)]
    bad = tmp_path / "bad.py"
    bad.write_text("!pip install x\n" + INT8 + LOAD + "def f(:\n")
    assert [(f["code"], f["location"]["row"]) for f in _json(str(bad))] == [("ECO900", 5)]


def test_script_fix_touching_ipython_is_advice_only():
    from ecolint.rule import Applicability, Finding, Fix, Severity

    fe = front_end("python")
    facts = fe.extract("s.py", "!pip install x\nx = f(a=1)\n", Settings(root=ROOT))
    fixes = [Finding("E", "x", Severity.YELLOW, "m", "s.py", Span(2, 1, 2, 2), Fix(Applicability.SAFE, "f", [Edit(s, "")])) for s in (Span(1, 1, 1, 3), Span(2, 7, 2, 10))]
    assert [f.fix.applicability for f in place_findings(fe, fixes, facts)] == [Applicability.DISPLAY_ONLY, Applicability.SAFE]
    assert fe.analysed_text("!pip install x\nx = f(a=1)\n", facts).startswith("              \n")


def test_colab_export_fix_keeps_the_pip_line(tmp_path):
    path = tmp_path / "colab_export.py"
    shutil.copy(NOTEBOOKS / "colab_export.py", path)
    before = path.read_text()
    run_cli("check", "--no-cache", "--fix", "--unsafe-fixes", str(path), cwd=tmp_path)
    after = path.read_text()
    assert after != before
    assert [line for line in before.splitlines() if line.startswith("!")] == [line for line in after.splitlines() if line.startswith("!")]
    assert [line.split()[0] for line in before.splitlines() if line.startswith("%")] == [line.split()[0] for line in after.splitlines() if line.startswith("%")]


def test_future_import_at_a_cell_start_is_not_an_error_and_line_notes_name_the_cell():
    loop = "for p in prompts:\n    out = model.generate(p, max_new_tokens=64)\n"
    got = _lint(_nb(["import os", "from __future__ import annotations\nimport torch", INT8 + LOAD, loop]))
    assert "ECO900" not in {f.code for f in got}, got
    [seq] = [f for f in got if f.code == "ECO201"]
    assert seq.span.cell == 5 and "(cell 5, line 1)" in seq.message, seq.message
