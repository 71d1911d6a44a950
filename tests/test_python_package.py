"""The Python front end as a package: one job per module, no monkey patch, no attribute set from outside, loop
records with real fields, resolved options that hold a Value instead of posing as one."""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
from pathlib import Path

import ecolint.sources.python as package
from ecolint.dtypes import dtype_name
from ecolint.facts import Value
from ecolint.sources.python import extract
from ecolint.sources.python.edits import Edits
from ecolint.sources.python.passes import _Loop
from ecolint.sources.python.recognise import Analyzer, dtype_of
from ecolint.sources.python.resolve import Item

PACKAGE = Path(package.__file__).parent


def facts(code: str):
    return extract("t.py", textwrap.dedent(code))


def test_no_module_assigns_attributes_at_module_level():
    """``SomeClass.method = function`` (a monkey patch) nowhere in the package."""
    for path in sorted(PACKAGE.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:
            if isinstance(node, (ast.Assign, ast.AnnAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                assert not any(isinstance(t, ast.Attribute) for t in targets), f"{path.name}:{node.lineno}"


def test_edit_builders_are_methods_of_their_class():
    for name in ("set_option_edit", "set_option_edit_call", "remove_items_edit", "replace_dtype_edit", "guarded", "offer"):
        assert name in Edits.__dict__, name


def test_the_analyzer_is_given_its_text():
    import libcst as cst

    from ecolint.sources.cst_positions import Positions

    text = "x = 1\n"
    module = cst.parse_module(text)
    a = Analyzer(module, Positions(module, text), "t.py", text)
    assert a.edits.text is text
    assert a.edits.source.text == text


def test_item_holds_a_value_and_is_not_one():
    assert not issubclass(Item, Value)
    for attr in ("certainty", "span", "known", "source"):
        assert not hasattr(Item, attr), attr
    f = facts("""
        from transformers import BitsAndBytesConfig
        cfg = BitsAndBytesConfig(load_in_8bit=True)
    """)
    assert f.quant_specs[0].options["load_in_8bit"].value is True  # options are Values, not items


def test_loop_records_name_their_dataloader():
    assert "dataloader" in _Loop.__slots__
    f = facts("""
        from torch.utils.data import DataLoader
        from transformers import AutoModelForCausalLM
        model = AutoModelForCausalLM.from_pretrained("gpt2")
        loader = DataLoader(prompts, batch_size=1)
        for batch in loader:
            model.generate(**batch)
    """)
    assert [(b.where, b.feeds_generation) for b in f.batch_settings] == [("dataloader", True)]


def test_loop_detail_keeps_a_double_colon_slice():
    """``for p in prompts[::2]`` was cut at the ``::`` when the display text doubled as a marker."""
    f = facts("""
        from transformers import AutoModelForCausalLM
        model = AutoModelForCausalLM.from_pretrained("gpt2")
        for p in prompts[::2]:
            model.generate(p)
    """)
    assert [g.loop_detail for g in f.generations] == ["for p in prompts[::2]"]


def test_one_table_of_dtype_spellings():
    assert dtype_name("torch.bfloat16") == "bf16" and dtype_name("half") == "fp16" and dtype_name("int8") == "other"
    assert dtype_of("float16") == "fp16" and dtype_of(3) is None
    sources = "".join(p.read_text(encoding="utf-8") for p in PACKAGE.glob("*.py"))
    assert '"bfloat16": "bf16"' not in sources  # the table lives in ecolint.dtypes


def _imports(statement: str) -> set[str]:
    code = f"import sys; {statement}; print(' '.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    return set(out.stdout.split())


def test_the_prefilter_reads_the_vocabulary_without_loading_a_parser():
    loaded = _imports("import ecolint.prefilter")
    assert "ecolint.sources.python.vocab" in loaded
    assert "libcst" not in loaded and "ecolint.sources.python.passes" not in loaded


def test_the_front_end_does_not_import_the_prefilter():
    loaded = _imports("import ecolint.sources.python.passes")
    assert "ecolint.prefilter" not in loaded and "ecolint.runner" not in loaded


def test_every_package_is_shipped():
    """The wheel lists its packages one by one: a new subpackage missing there installs as an import error."""
    try:
        import tomllib
    except ImportError:  # Python 3.10
        import tomli as tomllib

    root = Path(__file__).resolve().parents[1]  # the checkout (the installed package may live in site-packages)
    listed = set(tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]["packages"])
    on_disk = {".".join(p.parent.relative_to(root).parts) for p in (root / "ecolint").rglob("__init__.py")}
    assert on_disk <= listed
