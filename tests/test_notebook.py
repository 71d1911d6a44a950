"""Notebooks: code cells joined into a virtual module that maps back to (cell, line), metadata GPU hints, broken
notebooks as one clear error, and fixes written back changing only the edited cells' sources."""

from __future__ import annotations

import json

import pytest
from conftest import ROOT

from ecolint.facts import Edit, Span
from ecolint.sources import SourceError
from ecolint.sources.notebook import NotebookError, cell_edits, load, write_back

NOTEBOOKS = ROOT / "fixtures" / "notebooks"


def _nb(cells, metadata=None, **dump):
    for n, cell in enumerate(cells):
        cell.setdefault("id", f"c{n}")
    doc = {"cells": cells, "metadata": metadata or {}, "nbformat": 4, "nbformat_minor": 5}
    dump.setdefault("indent", 1)
    return (json.dumps(doc, **dump) + "\n").encode("utf-8")


def _code(source, outputs=None):
    return {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": outputs or [], "source": source}


def _md(source):
    return {"cell_type": "markdown", "metadata": {}, "source": source}


def _validate(data: bytes) -> None:
    nbformat = pytest.importorskip("nbformat")
    nbformat.validate(nbformat.reads(data.decode("utf-8"), as_version=4))


@pytest.mark.parametrize("path", sorted(NOTEBOOKS.glob("*.ipynb")), ids=lambda p: p.name)
def test_fixture_notebooks_are_valid_and_load(path):
    data = path.read_bytes()
    _validate(data)
    nb = load(data)
    assert nb.is_python and nb.cells
    compile(nb.virtual.text, "<nb>", "exec", flags=0x2000 | 0x400)  # PyCF_ALLOW_TOP_LEVEL_AWAIT | ONLY_AST


def test_cells_are_numbered_among_all_cells_and_lines_map_back():
    nb = load((NOTEBOOKS / "support_bot_int8.ipynb").read_bytes())
    assert [c.index for c in nb.cells] == [2, 3, 5, 7, 8]
    assert nb.cell_count == 8
    v = nb.virtual
    lines = v.text.splitlines()
    # the config is built in cell 3 and used in cell 7: both are in the one module
    use = next(n for n, line in enumerate(lines, 1) if "quantization_config=quant_config" in line)
    assert v.locate(use, 5) == (7, 3, 5)
    built = next(n for n, line in enumerate(lines, 1) if line.startswith("quant_config ="))
    assert v.locate(built)[:2] == (3, 5)
    assert v.blanked(1) and not v.blanked(built)  # `%pip install` in cell 2


def test_every_virtual_line_is_its_cell_line():
    nb = load((NOTEBOOKS / "magics.ipynb").read_bytes())
    virtual_lines = nb.virtual.text.splitlines()
    for n, line in enumerate(virtual_lines, 1):
        cell, row, _ = nb.virtual.locate(n)
        original = nb.virtual.cell(cell).source.splitlines()[row - 1]
        assert len(line) == len(original)
        if line.strip() and not nb.virtual.blanked(n):
            assert line == original


def test_non_python_cells_and_magics_leave_no_code():
    nb = load((NOTEBOOKS / "magics.ipynb").read_bytes())
    text = nb.virtual.text
    assert "load_in_8bit" not in text and "pip install" not in text and "<b>" not in text
    assert "out = model.generate(**inputs, max_new_tokens=32, use_cache=False)" in text


def test_a_broken_cell_is_left_out_and_reported():
    nb = load((NOTEBOOKS / "broken_cell.ipynb").read_bytes())
    [err] = nb.virtual.errors
    assert (err.cell, err.line) == (1, 1) and "print" in err.message.lower() or err.message
    assert "print" not in nb.virtual.text and "load_in_8bit=True" in nb.virtual.text
    assert nb.virtual.blanked(1)


def test_markdown_and_raw_cells_are_skipped_and_empty_cells_have_no_lines():
    data = _nb([_md(["x = ("]), {"cell_type": "raw", "metadata": {}, "source": "!!"}, _code([]), _code("a = 1")])
    nb = load(data)
    assert [c.index for c in nb.cells] == [3, 4]
    assert nb.virtual.text == "a = 1\n"
    assert nb.virtual.line_map == [(4, 1)]


def test_other_kernels_are_not_python():
    nb = load(_nb([_code("x <- 1")], {"kernelspec": {"language": "R", "name": "ir"}}))
    assert not nb.is_python and nb.virtual.text == ""


@pytest.mark.parametrize(
    "metadata, expected",
    [
        ({"accelerator": "GPU", "colab": {"gpuType": "T4"}}, [("T4", "metadata.colab.gpuType", "t4"), ("GPU", "metadata.accelerator", None)]),
        ({"colab": {"gpuType": "A100", "machine_shape": "hm"}}, [("A100", "metadata.colab.gpuType", "a100")]),
        ({"kaggle": {"accelerator": "nvidiaTeslaT4", "isGpuEnabled": True}}, [("nvidiaTeslaT4", "metadata.kaggle.accelerator", "t4")]),
        ({"kaggle": {"accelerator": "nvidiaTeslaT4", "isGpuEnabled": False}}, []),
        ({"kaggle": {"isGpuEnabled": True}}, [("GPU", "metadata.kaggle.isGpuEnabled", None)]),
        ({"accelerator": "TPU", "colab": {"gpuType": ""}}, []),
        ({"kaggle": {"accelerator": "none", "isGpuEnabled": False}}, []),
        ({}, []),
    ],
)
def test_metadata_gpu_hints(metadata, expected):
    nb = load(_nb([_code("x = 1")], metadata))
    assert [(h.name, h.where, h.gpu) for h in nb.gpu_hints] == expected


BROKEN = {
    "not_json.ipynb": ("ECO900", "invalid JSON"),
    "binary.ipynb": ("ECO901", "NUL bytes"),
    "nbformat3.ipynb": ("ECO900", "format 3"),
    "wrong_schema.ipynb": ("ECO900", '"cells"'),
}


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_broken_notebooks_give_one_clear_error(name):
    code, words = BROKEN[name]
    with pytest.raises(NotebookError) as info:
        load((NOTEBOOKS / "broken" / name).read_bytes())
    assert isinstance(info.value, SourceError)
    assert info.value.code == code and words in info.value.message and info.value.message.startswith(("not a notebook", "notebook format"))


@pytest.mark.parametrize(
    "data",
    [b"", b"[]", b"null", b'{"nbformat": 4}', b'{"nbformat": "4", "cells": []}', b'{"nbformat": 5, "cells": []}',
     b'{"nbformat": 4, "cells": [1]}', b'{"nbformat": 4, "cells": [{"cell_type": "code", "source": 3}]}',
     b'{"nbformat": 4, "cells": [], "metadata": []}', b"\xff\xfe{\x00", "[" * 100000 + "]" * 100000],
)
def test_hostile_inputs_are_notebook_errors(data):
    if isinstance(data, str):
        data = data.encode()
    with pytest.raises(NotebookError):
        load(data)


def test_large_outputs_are_not_kept():
    big = "x" * 20_000_000
    data = _nb([_code("print(1)", outputs=[{"output_type": "stream", "name": "stdout", "text": [big]}]), _code("y = 2")])
    nb = load(data)
    assert nb.virtual.text == "print(1)\ny = 2\n"
    assert not hasattr(nb, "outputs")
    new = write_back(data, {2: "y = 3"})
    assert new.replace(b'"y = 3"', b'"y = 2"') == data


# -- write-back -----------------------------------------------------------------------------------------------

STYLES = {
    "nbformat": {"indent": 1, "sort_keys": True, "ensure_ascii": False},
    "indent 2 ascii": {"indent": 2, "ensure_ascii": True},
    "indent 4": {"indent": 4},
    "compact": {"indent": None},
    "tabs": {"indent": "\t", "ensure_ascii": False},
}


def _sample(style, as_list=True):
    src = ["import torch\n", "m = load(dtype=torch.float32)  # café\n", "print(m)"]
    cells = [_md(["# Title ✓\n", "text"]), _code(src if as_list else "".join(src), outputs=[{"output_type": "stream", "name": "stdout", "text": ["ok\n"]}]), _code(["z = 1"])]
    return _nb(cells, {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}}, **STYLES[style])


@pytest.mark.parametrize("as_list", [True, False])
@pytest.mark.parametrize("style", sorted(STYLES))
def test_write_back_changes_only_the_edited_source(style, as_list):
    data = _sample(style, as_list)
    new_source = "import torch\nm = load(dtype=torch.float16)  # café\nprint(m)"
    out = write_back(data, {2: new_source})
    assert out != data
    doc, before = json.loads(out), json.loads(data)
    assert "".join(doc["cells"][1]["source"]) == new_source
    assert isinstance(doc["cells"][1]["source"], list) == as_list
    doc["cells"][1]["source"] = before["cells"][1]["source"]
    assert doc == before
    # byte-identical outside the span: undoing the edit restores the original bytes
    assert write_back(out, {2: "".join(before["cells"][1]["source"])}) == data
    assert write_back(out, {2: new_source}) == out  # idempotent
    _validate(out)


@pytest.mark.parametrize("style", sorted(STYLES))
def test_write_back_matches_the_writer_style(style):
    """A list source re-serialised in place is what the same json.dumps settings would write."""
    data = _sample(style)
    new_source = "import torch\nm = load(dtype=torch.float16)  # café\nprint(m)"
    expected_doc = json.loads(data)
    expected_doc["cells"][1]["source"] = new_source.splitlines(True)
    expected = (json.dumps(expected_doc, **STYLES[style]) + "\n").encode("utf-8")
    assert write_back(data, {2: new_source}) == expected


def test_write_back_keeps_crlf_and_bom():
    data = b"\xef\xbb\xbf" + _sample("nbformat").replace(b"\n", b"\r\n")
    out = write_back(data, {3: "z = 2\nw = 3\n"})
    assert out.startswith(b"\xef\xbb\xbf") and b"\r\n" in out and b"\n" not in out.replace(b"\r\n", b"")
    assert json.loads(out[3:])["cells"][2]["source"] == ["z = 2\n", "w = 3\n"]


def test_round_trip_without_changes_is_identical():
    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        data = path.read_bytes()
        nb = load(data)
        assert write_back(data, {c.index: c.source for c in nb.cells}) == data
        assert write_back(data, {}) == data


def test_empty_source_list_gets_a_value():
    data = _nb([_code([]), _code("a = 1")], indent=1)
    out = write_back(data, {1: "b = 2\n"})
    assert json.loads(out)["cells"][0]["source"] == ["b = 2\n"]
    assert write_back(out, {1: ""}) == data


def test_cell_edits_apply_to_the_source_as_written():
    data = (NOTEBOOKS / "magics.ipynb").read_bytes()
    nb = load(data)
    v = nb.virtual
    n = next(i for i, line in enumerate(v.text.splitlines(), 1) if "use_cache=False" in line)
    line = v.text.splitlines()[n - 1]
    col = line.index(", use_cache=False") + 1
    edit = Edit(Span(n, col, n, col + len(", use_cache=False")), "")
    sources = cell_edits(v, [edit])
    [(cell, source)] = sources.items()
    assert cell == 6
    assert "%time out = model.generate(**inputs, max_new_tokens=32)\n" in source
    out = write_back(data, sources)
    _validate(out)
    after = load(out)
    assert [c.source for c in after.cells if c.index != 6] == [c.source for c in nb.cells if c.index != 6]


def test_cell_edits_refuse_ipython_lines_and_cross_cell_spans():
    nb = load((NOTEBOOKS / "magics.ipynb").read_bytes())
    v = nb.virtual
    with pytest.raises(ValueError, match="not Python"):
        cell_edits(v, [Edit(Span(1, 1, 1, 3), "")])
    last_of_first = max(n for n, (cell, _) in enumerate(v.line_map, 1) if cell == v.cells[0].index)
    with pytest.raises(ValueError):
        cell_edits(v, [Edit(Span(last_of_first, 1, last_of_first + 1, 1), "")])
    n = next(i for i, line in enumerate(v.text.splitlines(), 1) if "use_cache=False" in line)
    with pytest.raises(ValueError, match="not Python"):
        cell_edits(v, [Edit(Span(n, 1, n, 4), "")])  # the `%time` prefix


def test_expected_csv_is_what_the_virtual_modules_give(tmp_path):
    """fixtures/notebooks/expected.csv pins each finding by cell, row and column: until notebooks are linted
    directly, check it by linting each virtual module (and the transformed Colab export) as a .py file and
    mapping the positions back. A GPU named by the metadata is passed as --gpu."""
    import csv

    from conftest import run_cli

    from ecolint.sources.ipython import transform

    # A notebook's own `pip install transformers...` is a fact of the notebook, which the virtual module as a .py
    # file does not carry (its install lines are blanked): those notebooks are checked only through the CLI.
    installs = {p.relative_to(ROOT).as_posix() for p in NOTEBOOKS.glob("install_*.ipynb")}
    expected = [(r["path"], r["cell"], int(r["row"]), int(r["col"]), r["code"]) for r in csv.DictReader((NOTEBOOKS / "expected.csv").open())
                if r["path"] not in installs]

    def lint(text, gpu):
        f = tmp_path / "virtual.py"
        f.write_text(text)
        proc = run_cli("check", "--no-cache", "--output-format", "json", str(f), *(["--gpu", gpu] if gpu else []))
        return json.loads(proc.stdout)

    got = []
    for path in sorted(NOTEBOOKS.rglob("*.ipynb")):
        rel = path.relative_to(ROOT).as_posix()
        if rel in installs:
            continue
        try:
            nb = load(path.read_bytes())
        except NotebookError as err:
            got.append((rel, "", err.line, err.col, err.code))
            continue
        got.extend((rel, str(e.cell), e.line, e.col, "ECO900") for e in nb.virtual.errors)
        gpu = next((h.gpu for h in nb.gpu_hints if h.gpu), None)
        for f in lint(nb.virtual.text, gpu):
            cell, row, col = nb.virtual.locate(f["location"]["row"], f["location"]["column"])
            got.append((rel, str(cell), row, col, f["code"]))
    export = NOTEBOOKS / "colab_export.py"
    for f in lint(transform(export.read_text(), cell=False).text, None):
        got.append((export.relative_to(ROOT).as_posix(), "", f["location"]["row"], f["location"]["column"], f["code"]))
    assert got == expected
    assert {"ECO101", "ECO102", "ECO103", "ECO104", "ECO201", "ECO202", "ECO301", "ECO401", "ECO402", "ECO900", "ECO901"} <= {e[4] for e in expected}
