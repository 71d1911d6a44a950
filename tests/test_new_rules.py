"""The rules of issue 18 on their fixtures (fixtures/new_rules/): pinned findings, and silence on the traps."""

from __future__ import annotations

from pathlib import Path

from helpers import lint_snippet

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "new_rules"
NEW_CODES = ("ECO105",)


def pinned(name: str, filename: str = "", **kw) -> list[tuple[str, int, int]]:
    text = (FIXTURES / name).read_text(encoding="utf-8")
    found = lint_snippet(text, filename=filename or name, select=NEW_CODES, **kw)
    return sorted((f.code, f.span.line, f.span.col) for f in found)


def test_bnb_4bit_without_compute_dtype_is_flagged_once_in_the_fixture():
    assert pinned("qlora_infer.py") == [("ECO105", 5, 27)]


def test_bnb_4bit_fix_uses_float16_on_a_pre_ampere_gpu():
    found = lint_snippet("from transformers import BitsAndBytesConfig\nb = BitsAndBytesConfig(load_in_4bit=True)\n",
                         select=("ECO105",), gpu="t4")
    assert [f.code for f in found] == ["ECO105"]
    assert "float16" in found[0].fix.message and "bfloat16" not in found[0].fix.message


def test_bnb_4bit_is_silent_when_transformers_loads_the_checkpoint_dtype():
    code = "from transformers import BitsAndBytesConfig\nb = BitsAndBytesConfig(load_in_4bit=True)\n"
    assert lint_snippet(code, select=("ECO105",), transformers_version="5.0.0") == []
