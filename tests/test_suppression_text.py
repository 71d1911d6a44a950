"""Suppression comments are read only from real comments of each syntax, and every line number in the
program follows one rule: ``\\n``, ``\\r\\n`` and ``\\r`` end a line, nothing else does."""

from __future__ import annotations

import pytest
from helpers import lint_snippet

from ecolint.noqa import _comments, parse_suppressions
from ecolint.text import line_starts, split_lines

LS = "\u2028"  # LINE SEPARATOR: str.splitlines breaks here, a TOML/Python string may hold it


def _codes(text: str, filename: str) -> list[tuple[int, str]]:
    return sorted((f.span.line, f.code) for f in lint_snippet(text, filename))


# -- one line-splitting rule -------------------------------------------------------------------------


@pytest.mark.parametrize("sep", ["\u2028", "\u2029", "\x85", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e"])
def test_split_lines_breaks_only_at_cr_and_lf(sep):
    text = f"a{sep}b\nc\r\nd\re"
    assert split_lines(text) == [f"a{sep}b", "c", "d", "e"]
    assert split_lines(text, keepends=True) == [f"a{sep}b\n", "c\r\n", "d\r", "e"]
    assert line_starts(text) == [0, 4, 7, 9]


def test_split_lines_matches_str_splitlines_on_plain_text():
    for text in ["", "\n", "a", "a\n", "a\n\nb", "a\r\n\r\n", "\r\r\n\n", "x\ry"]:
        assert split_lines(text) == text.splitlines()
        assert split_lines(text, keepends=True) == text.splitlines(True)
        assert "".join(split_lines(text, keepends=True)) == text


def _scanned_line_starts(text: str) -> list[int]:
    """The character-by-character scan the fixer used before ``ecolint.text`` existed."""
    starts, i = [0], 0
    while i < len(text):
        if text[i] == "\r":
            if i + 1 < len(text) and text[i + 1] == "\n":
                i += 1
            starts.append(i + 1)
        elif text[i] == "\n":
            starts.append(i + 1)
        i += 1
    return starts


@pytest.mark.parametrize("text", ["", "a", "a\n", "a\r\nb", "a\rb\r", "\r\n\r\n", "\n\r", "x\u2028y\x0cz\r\n\x85", "a\r\r\nb\n\n"])
def test_line_starts_is_the_one_offset_table(text):
    # The fixer, the shell/config word scanner and the line splitter share one table of line starts.
    from ecolint.sources.words import Source

    assert line_starts(text) == _scanned_line_starts(text) == Source(text).starts
    assert [text[a:b] for a, b in zip(line_starts(text), line_starts(text)[1:] + [len(text)])][: len(split_lines(text))] == split_lines(text, keepends=True)
    assert not hasattr(__import__("ecolint.fix", fromlist=["x"]), "_offsets")


# -- E2: noqa only in real comments -----------------------------------------------------------------

N7 = """model_id: mistralai/Mistral-7B-v0.1
quantization_config:
  load_in_8bit: true
notes: |
  To silence ecolint, add   # ecolint: noqa
"""

N3 = """model_id: mistralai/Mistral-7B-v0.1
description: "see # ecolint: noqa in docs"
quantization_config:
  load_in_8bit: true
"""

N4 = """model_id: mistralai/Mistral-7B-v0.1
quantization_config:
  load_in_8bit: "true # noqa: ECO101"
"""

N5 = """model_id = "mistralai/Mistral-7B-v0.1"
notes = "see # ecolint: noqa"
[quantization_config]
load_in_8bit = true
"""

N6 = """echo "# ecolint: noqa"
vllm serve mistralai/Mistral-7B-Instruct-v0.3 --dtype float32
"""


def test_noqa_in_a_yaml_block_scalar_is_text():
    assert _codes(N7, "n7.yaml") == [(3, "ECO101")]


def test_noqa_in_a_quoted_yaml_string_is_text():
    assert _codes(N3, "n3.yaml") == [(4, "ECO101")]


def test_noqa_inside_a_yaml_value_is_not_an_unused_directive():
    assert "ECO902" not in [c for _, c in _codes(N4, "n4.yaml")]


def test_noqa_in_a_toml_string_is_text():
    assert _codes(N5, "n5.toml") == [(4, "ECO101")]


def test_noqa_in_a_shell_string_is_text():
    assert _codes(N6, "n6.sh") == [(2, "ECO401")]


def test_real_comments_still_suppress():
    assert _codes(N7.replace("load_in_8bit: true", "load_in_8bit: true  # noqa: ECO101"), "n7.yaml") == []
    assert _codes(N7 + "# ecolint: noqa\n", "n7.yaml") == []
    assert _codes("notes: |  # ecolint: noqa\n  text\n" + N3.replace('"see # ecolint: noqa in docs"', "x"), "h.yaml") == []
    assert _codes(N5.replace("load_in_8bit = true", "load_in_8bit = true  # noqa: ECO101"), "n5.toml") == []
    assert _codes(N6.replace("float32\n", "float32  # noqa: ECO401\n"), "n6.sh") == []
    assert _codes(N6 + "# ecolint: noqa\n", "n6.sh") == []


@pytest.mark.parametrize(
    "kind, text, expected",
    [
        ("yaml", 'a: "x # no"  # yes\nb: |\n  # no\n  c # no\n# yes\nd: e#no\n', [(1, 13), (5, 0)]),
        ("yaml", "a: 'it''s # no' # yes\nb: [x, y] # yes\n", [(1, 16), (2, 10)]),
        ("yaml", "a: >- # yes\n  # no\n", [(1, 6)]),
        ("toml", 'a = "x # no" # yes\nb = \'c # no\'\nc = """\n# no\n""" # yes\nd = \'\'\'\n# no\n\'\'\'\n# yes\n', [(1, 13), (5, 4), (9, 0)]),
        ("toml", 'a = "q\\" # no" # yes\n', [(1, 15)]),
        ("shell", "echo a#b 'c # no' \"d # no\" # yes\ncat <<EOF\n# no\nEOF\n  # yes\n", [(1, 27), (5, 2)]),
        ("shell", "echo $# ${#x} # yes\n", [(1, 14)]),
        ("dockerfile", "# yes\nFROM x\nRUN echo '# no' a#b # yes\nENV A=\"# no\"\nRUN a \\\n  # yes\n  b\n", [(1, 0), (3, 20), (6, 2)]),
        ("dockerfile", 'CMD ["a", "# no"]\n', []),
        ("python", 'x = "# no"  # yes\ny = """\n# no\n"""\n', [(1, 12)]),
    ],
)
def test_comment_positions(kind, text, expected):
    assert [(line, col) for line, col, _ in _comments(text, kind)] == expected


def test_python_fallback_respects_strings():
    text = 'x = "# no"  # yes\ndef f(:\n'  # the tokenizer rejects the text
    assert [(line, col) for line, col, _ in _comments(text, "python")] == [(1, 12)]


# -- E3: U+2028 and friends do not move lines --------------------------------------------------------

TOML_LS = f'model_id = "mistralai/Mistral-7B-v0.1"\nnotes = "a{LS}b"\n[quantization_config]\n# noqa: ECO101\nload_in_8bit = true\n'


def test_toml_line_separator_does_not_move_a_standalone_noqa():
    # the comment stands on line 4 and names line 4: it suppresses nothing, and line 5 is reported
    assert _codes(TOML_LS, "ls.toml") == [(4, "ECO902"), (5, "ECO101")]


def test_toml_line_separator_does_not_move_a_trailing_noqa():
    text = f'model_id = "mistralai/Mistral-7B-v0.1"\nnotes = "a{LS}b"\n[quantization_config]\nload_in_8bit = true  # noqa: ECO101\n'
    assert _codes(text, "ls.toml") == []


def test_python_noqa_positions_with_line_separators_and_lone_cr():
    text = f'x = "a{LS}b"\ry = 1  # noqa: ECO101\n'
    sup = parse_suppressions(text, "python")
    assert list(sup.lines) == [2]


def test_template_mark_line_follows_the_rule():
    from ecolint.sources.tree import template_mark

    assert template_mark(f"a: 'x{LS}y'\nb: {{{{ .Values.x }}}}\n") == (2, 4)


PY_LS = f"""import torch
from transformers import BitsAndBytesConfig
x = "a{LS}more{LS} and"
bnb = BitsAndBytesConfig(load_in_8bit=True)
"""


def test_python_code_frame_and_markdown_diff_with_line_separators(tmp_path, cli):
    f = tmp_path / "fr.py"
    f.write_text(PY_LS, encoding="utf-8")
    full = cli("check", "--no-cache", "--output-format", "full", str(f), cwd=tmp_path).stdout
    assert "4 | bnb = BitsAndBytesConfig(load_in_8bit=True)" in full
    assert "3 | x = " in full and "3 | more" not in full and "| more" not in full
    md = cli("check", "--no-cache", "--output-format", "markdown", str(f), cwd=tmp_path).stdout
    diff = md.split("```diff\n", 1)[1].split("```", 1)[0]
    # a unified diff with context lines (issue 19); the line separators inside the string stay in one line
    assert diff == (
        f'@@ -2,3 +2,3 @@\n from transformers import BitsAndBytesConfig\n x = "a{LS}more{LS} and"\n'
        "-bnb = BitsAndBytesConfig(load_in_8bit=True)\n+bnb = BitsAndBytesConfig(load_in_8bit=True, llm_int8_threshold=0.0)\n"
    )
