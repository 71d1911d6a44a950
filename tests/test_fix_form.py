"""The form of a fix: it edits only the option it names (indentation, tabs, comments, line endings and formatter
regions around it are kept), and a file CPython refuses is never analysed or fixed. Also the prefilter's
parenthesised-callee case."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from ecolint import cli
from ecolint.facts import Edit


@pytest.fixture
def project(tmp_path, monkeypatch):
    (tmp_path / "pyproject.toml").write_text('[tool.ecolint]\ntransformers-version = "4.44.0"\n', encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(cli, "_width", lambda: 100)
    return tmp_path


def fixed(project: Path, source: str, *options: str, name: str = "snippet.py") -> str:
    """Write ``source`` (bytes kept as given), run ``check --fix --unsafe-fixes`` on it, return the new text."""
    path = project / name
    path.write_bytes(source.encode("utf-8"))
    cli.main(["check", "--no-cache", "--fix", "--unsafe-fixes", "--output-format", "concise", *options, name])
    return path.read_bytes().decode("utf-8")


def check(capsys, *args: str) -> tuple[int, str]:
    code = cli.main(["check", "--no-cache", "--output-format", "concise", *args])
    return code, capsys.readouterr().out


def src(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


# -- C1: the enclosing indentation is kept --------------------------------------------------------------------

def test_added_option_keeps_the_indentation_of_a_call_in_a_function(project):  # b2.py
    before = src(
        """
        from transformers import BitsAndBytesConfig
        def f():
            bnb = BitsAndBytesConfig(
                load_in_8bit=True,
            )
            return bnb
        """
    )
    assert fixed(project, before) == before.replace("        load_in_8bit=True,\n", "        load_in_8bit=True,\n        llm_int8_threshold=0.0,\n")


def test_removed_options_in_a_method_keep_the_indentation(project):  # b3.py
    before = src(
        """
        from transformers import BitsAndBytesConfig


        class Loader:
            def config(self):
                bnb = BitsAndBytesConfig(
                    load_in_8bit=True,
                    bnb_4bit_quant_type="nf4",
                    bnb_4bit_use_double_quant=True,
                )
                return bnb
        """
    )
    after = src(
        """
        from transformers import BitsAndBytesConfig


        class Loader:
            def config(self):
                bnb = BitsAndBytesConfig(
                    load_in_8bit=True,
                    llm_int8_threshold=0.0,
                )
                return bnb
        """
    )
    assert fixed(project, before) == after


def test_dtype_insertion_and_use_cache_removal_keep_indentation_and_comments(project):  # c1.py (C1 + C2)
    before = src(
        """
        import torch
        from transformers import AutoModelForCausalLM


        def main(prompts):
            model = AutoModelForCausalLM.from_pretrained(
                "mistralai/Mistral-7B-v0.1",
                device_map="cuda",
            )
            for p in prompts:
                out = model.generate(
                    p,
                    max_new_tokens=64,
                    use_cache=False,  # debugging
                )
            return out
        """
    )
    after = src(
        """
        import torch
        from transformers import AutoModelForCausalLM


        def main(prompts):
            model = AutoModelForCausalLM.from_pretrained(
                "mistralai/Mistral-7B-v0.1",
                device_map="cuda",
                torch_dtype="auto",
            )
            for p in prompts:
                out = model.generate(
                    p,
                    max_new_tokens=64,
                )
            return out
        """
    )
    assert fixed(project, before) == after


def test_dict_literal_in_a_function_keeps_its_indentation(project):  # b4.py
    before = src(
        """
        from transformers import AutoModelForCausalLM


        def load():
            cfg = {
                'load_in_8bit': True,
            }
            return AutoModelForCausalLM.from_pretrained("m", quantization_config=cfg)
        """
    )
    # (the new key is quoted like the keys already there)
    assert fixed(project, before) == before.replace("        'load_in_8bit': True,\n", "        'load_in_8bit': True,\n        'llm_int8_threshold': 0.0,\n")


def test_tabs_are_kept(project):  # a5.py
    before = "from transformers import BitsAndBytesConfig\ndef f():\n\tbnb = BitsAndBytesConfig(\n\t\tload_in_8bit=True,\n\t)\n\treturn bnb\n"
    after = "from transformers import BitsAndBytesConfig\ndef f():\n\tbnb = BitsAndBytesConfig(\n\t\tload_in_8bit=True,\n\t\tllm_int8_threshold=0.0,\n\t)\n\treturn bnb\n"
    assert fixed(project, before) == after


def test_last_item_without_trailing_comma_gets_one_and_the_new_item_none(project):
    before = "from transformers import BitsAndBytesConfig\ndef f():\n    return BitsAndBytesConfig(\n        load_in_8bit=True\n    )\n"
    after = "from transformers import BitsAndBytesConfig\ndef f():\n    return BitsAndBytesConfig(\n        load_in_8bit=True,\n        llm_int8_threshold=0.0\n    )\n"
    assert fixed(project, before) == after


@pytest.mark.parametrize(
    "call, expected",
    [
        ('BitsAndBytesConfig(load_in_8bit=True, bnb_4bit_quant_type="nf4")', "BitsAndBytesConfig(load_in_8bit=True)"),
        ('BitsAndBytesConfig(load_in_8bit=True, bnb_4bit_quant_type="nf4",)', "BitsAndBytesConfig(load_in_8bit=True,)"),
        ('BitsAndBytesConfig(bnb_4bit_quant_type="nf4", load_in_8bit=True)', "BitsAndBytesConfig(load_in_8bit=True)"),
        ('BitsAndBytesConfig(bnb_4bit_quant_type="nf4",load_in_8bit=True)', "BitsAndBytesConfig(load_in_8bit=True)"),
        (
            'BitsAndBytesConfig(bnb_4bit_use_double_quant=True, load_in_8bit=True, bnb_4bit_quant_type="nf4")',
            "BitsAndBytesConfig(load_in_8bit=True)",
        ),
        (
            'BitsAndBytesConfig(\n    load_in_8bit=True, bnb_4bit_quant_type="nf4",\n)',
            "BitsAndBytesConfig(\n    load_in_8bit=True,\n)",
        ),
        (
            'BitsAndBytesConfig(\n    load_in_8bit=True,\n    bnb_4bit_quant_type="nf4")',
            "BitsAndBytesConfig(\n    load_in_8bit=True)",
        ),
        (
            'BitsAndBytesConfig(\n    bnb_4bit_quant_type="nf4",\n    # the one that matters\n    load_in_8bit=True,\n)',
            "BitsAndBytesConfig(\n    # the one that matters\n    load_in_8bit=True,\n)",
        ),
    ],
)
def test_safe_removal_in_every_layout(project, call, expected):
    head = "from transformers import BitsAndBytesConfig\n"
    assert fixed(project, head + f"bnb = {call}\n", "--select", "ECO104") == head + f"bnb = {expected}\n"


# -- C2: comments stay on their own argument; formatter regions are left alone --------------------------------

def test_added_option_goes_below_the_comment_of_the_last_one(project):  # a1.py
    before = src(
        """
        from transformers import BitsAndBytesConfig
        def f():
            bnb = BitsAndBytesConfig(
                load_in_8bit=True,  # keep 8-bit
            )
            return bnb
        """
    )
    after = before.replace("  # keep 8-bit\n", "  # keep 8-bit\n        llm_int8_threshold=0.0,\n")
    assert fixed(project, before) == after


def test_removed_option_takes_only_its_own_comment(project):
    before = src(
        """
        from transformers import BitsAndBytesConfig
        bnb = BitsAndBytesConfig(
            load_in_8bit=True,  # 8-bit on purpose
            bnb_4bit_quant_type="nf4",  # left over
        )
        """
    )
    after = src(
        """
        from transformers import BitsAndBytesConfig
        bnb = BitsAndBytesConfig(
            load_in_8bit=True,  # 8-bit on purpose
        )
        """
    )
    # the removal deletes a comment, so it is not a safe fix any more: --unsafe-fixes applies it
    assert fixed(project, before, "--select", "ECO104") == after


def test_fmt_off_region_gets_no_fix(project, capsys):  # a6.py
    before = "from transformers import BitsAndBytesConfig\n# fmt: off\nbnb = BitsAndBytesConfig( load_in_8bit = True,)\n# fmt: on\n"
    assert fixed(project, before) == before
    code, out = check(capsys, "snippet.py")
    assert "ECO101" in out and "fixable" not in out  # still reported, as advice


def test_fmt_skip_line_gets_no_fix(project):
    before = "from transformers import BitsAndBytesConfig\nbnb = BitsAndBytesConfig(\n    load_in_8bit=True,\n)  # fmt: skip\n"
    assert fixed(project, before) == before


def test_format_off_lines():
    from ecolint.sources.python.brackets import format_off_lines

    text = "a = 1\n# fmt: off\nb = [\n  1]\n# fmt: on\nc = f(\n  2)  # fmt: skip\nd = '# fmt: off'\n"
    assert format_off_lines(text) == [(2, 5), (6, 7)]
    assert format_off_lines("x = 1  # fmt: off\ny = 2\n") == [(1, 3)]
    assert format_off_lines("x = 1\n") == []


# -- C3: untouched lines keep their line endings ---------------------------------------------------------------

def test_mixed_line_endings_are_kept(project):
    before = 'from transformers import BitsAndBytesConfig\nf = 1\nx = BitsAndBytesConfig(\n    load_in_8bit=True,\r\n    bnb_4bit_quant_type="nf4",\r\n)\n'
    after = "from transformers import BitsAndBytesConfig\nf = 1\nx = BitsAndBytesConfig(\n    load_in_8bit=True,\r\n    llm_int8_threshold=0.0,\r\n)\n"
    assert fixed(project, before) == after


def test_crlf_file_stays_crlf(project):
    before = "from transformers import BitsAndBytesConfig\r\ndef f():\r\n    return BitsAndBytesConfig(\r\n        load_in_8bit=True,\r\n    )\r\n"
    after = before.replace("True,\r\n", "True,\r\n        llm_int8_threshold=0.0,\r\n")
    assert fixed(project, before) == after


# -- C4 + D0: CPython's verdict is final -------------------------------------------------------------------

def test_keyword_repeated_is_eco900_and_never_fixed(project, capsys):
    before = "from transformers import BitsAndBytesConfig\nb = BitsAndBytesConfig(load_in_8bit=True, llm_int8_threshold=6.0, llm_int8_threshold=5.0)\n"
    assert fixed(project, before) == before
    code, out = check(capsys, "snippet.py")
    assert "ECO900" in out and "keyword argument repeated" in out and "ECO101" not in out
    assert "snippet.py:2:67:" in out  # CPython's position


@pytest.mark.parametrize(
    "code, refused",
    [
        ("return 1\n", True),
        ("def f(a, a):\n    pass\n", True),
        ("from __future__ import nope\n", True),
        ("x = 1\nawait x\n", False),  # top-level await, as exported from a notebook
    ],
)
def test_compile_time_errors_count(project, capsys, code, refused):
    (project / "m.py").write_text("from transformers import BitsAndBytesConfig\n" + code + "b = BitsAndBytesConfig(load_in_8bit=True)\n", encoding="utf-8")
    _, out = check(capsys, "m.py")
    assert ("ECO900" in out) is refused
    assert ("ECO101" in out) is not refused


def test_fixed_text_that_cpython_refuses_is_not_written(project, capsys, monkeypatch):
    """libcst accepts a repeated keyword; the fixed text is checked with CPython too (also with ECO900 off)."""
    from ecolint.registry import rule_by_code

    rule = rule_by_code("ECO101")
    original_check = rule.check

    def broken_check(self, facts, ctx):
        for finding in original_check(self, facts, ctx):
            if finding.fix:
                finding.fix.edits = [Edit(e.span, e.content.replace("llm_int8_threshold=0.0", "load_in_8bit=False")) for e in finding.fix.edits]
            yield finding

    monkeypatch.setattr(rule, "check", broken_check)
    before = "from transformers import BitsAndBytesConfig\nb = BitsAndBytesConfig(load_in_8bit=True)\n"
    (project / "m.py").write_text(before, encoding="utf-8")
    cli.main(["check", "--no-cache", "--fix", "--unsafe-fixes", "--ignore", "ECO900", "m.py"])
    out, err = capsys.readouterr()
    assert (project / "m.py").read_text(encoding="utf-8") == before
    assert "keyword argument repeated" in out + err


def test_subscript_chain_with_a_syntax_error_ends_quickly(tmp_path):
    """D0: libcst's parser backtracked for minutes on this; CPython rejects it, so libcst never sees it."""
    path = tmp_path / "hang.py"
    path.write_text("from transformers import BitsAndBytesConfig\nb = BitsAndBytesConfig(load_in_8bit=True)\nx = " + "[0]" * 3000 + "1\n", encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "ecolint", "check", "--no-cache", "--fix", "--unsafe-fixes", "--output-format", "concise", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert "ECO900" in proc.stdout and "ECO101" not in proc.stdout


# -- E5: the prefilter keeps a parenthesised callee ---------------------------------------------------------------

def test_prefilter_keeps_a_parenthesised_callee():
    from dataclasses import replace

    from ecolint.config import Settings
    from ecolint.prefilter import wants_parse
    from ecolint.runner import Engine, lint_text

    code = (
        "import torch\n"
        "from transformers import AutoModelForCausalLM\n"
        'm = (AutoModelForCausalLM.from_pretrained)("mistralai/Mistral-7B-v0.1", torch_dtype=torch.float32, device_map="cuda")\n'
    )
    engine = Engine.create(replace(Settings(root=Path.cwd()), transformers_version="4.44.0"))
    assert wants_parse(code, "python", engine)
    assert wants_parse(code.replace("from_pretrained)(", "from_pretrained  # the loader\n)  (", 1), "python", engine)
    found = [(f.code, f.span.line, f.span.col) for f in lint_text("e5.py", code, "python", engine).findings]
    assert ("ECO401", 3, 85) in found


def test_an_insertion_next_to_another_fix_waits_for_the_next_pass(project):
    """ECO101 adds `, x=0` after the last argument while ECO104 removes that argument: applied in one pass the two
    made `,\n        , llm_int8_threshold=0.0)` (a syntax error, reverted as a bug)."""
    before = 'from transformers import BitsAndBytesConfig\ndef f():\n    cfg = BitsAndBytesConfig( load_in_8bit=True,  # c0\n        bnb_4bit_quant_type="nf4")\n'
    after = "from transformers import BitsAndBytesConfig\ndef f():\n    cfg = BitsAndBytesConfig( load_in_8bit=True, llm_int8_threshold=0.0,  # c0\n        )\n"
    assert fixed(project, before) == after


def test_overlaps_counts_an_insertion_at_either_end_of_a_range():
    from ecolint.fix import _overlaps

    assert _overlaps([(5, 5, "x")], [(2, 5, "")]) and _overlaps([(2, 2, "x")], [(2, 5, "")])
    assert _overlaps([(2, 5, "")], [(5, 5, "x")])
    assert not _overlaps([(6, 6, "x")], [(2, 5, "")]) and not _overlaps([(2, 5, "")], [(5, 8, "")])


def test_comment_after_the_opening_bracket_in_an_indented_crlf_block(project):
    """The opening bracket is found from positions, not from re-rendered white space (which lacks the block's
    indentation): removing every argument left `'(' was never closed` before."""
    before = (
        "from transformers import GenerationConfig\n"
        "def f():\n"
        "    g = GenerationConfig(  # gen\r\n"
        "        use_cache=False,\r\n"
        "    )\r\n"
        "    h = GenerationConfig(  # gen\r\n"
        "        use_cache=False, max_new_tokens=3,\r\n"
        "    )\r\n"
    )
    after = (
        "from transformers import GenerationConfig\n"
        "def f():\n"
        "    g = GenerationConfig(  # gen\r\n"
        "    )\r\n"
        "    h = GenerationConfig(  # gen\r\n"
        "        max_new_tokens=3,\r\n"
        "    )\r\n"
    )
    assert fixed(project, before) == after
