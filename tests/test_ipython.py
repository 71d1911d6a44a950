"""IPython syntax is blanked or swapped for a same-width placeholder: the result parses, keeps the line count
and the length of every line, and every Python token left sits where it stood in the original."""

from __future__ import annotations

import ast
import io
import tokenize

import libcst
import pytest

from ecolint.sources.ipython import transform


def _parses(text: str) -> None:
    compile(text, "<cell>", "exec", flags=ast.PyCF_ONLY_AST | ast.PyCF_ALLOW_TOP_LEVEL_AWAIT, dont_inherit=True)
    assert libcst.parse_module(text).code == text


def _tokens(text: str):
    skip = {tokenize.NEWLINE, tokenize.NL, tokenize.INDENT, tokenize.DEDENT, tokenize.ENDMARKER, tokenize.ENCODING}
    return [t for t in tokenize.generate_tokens(io.StringIO(text).readline) if t.type not in skip]


def _check_positions(source: str, result) -> None:
    """Same lines, same widths; every token of the result outside a placeholder is the original's text at the
    same line and column."""
    src_lines = source.splitlines(True)
    out_lines = result.text.splitlines(True)
    assert len(out_lines) == len(src_lines)
    for a, b in zip(src_lines, out_lines):
        assert len(a) == len(b)
        assert a[len(a.rstrip("\r\n")) :] == b[len(b.rstrip("\r\n")) :]  # line endings kept
    for tok in _tokens(result.text):
        (row, col), (end_row, end_col) = tok.start, tok.end
        if row in result.blanked and tok.string in ("...", "0", ";"):
            continue
        original = "".join(src_lines[row - 1 : end_row])
        start = col
        stop = len(original) - len(src_lines[end_row - 1]) + end_col
        assert original[start:stop] == tok.string, (tok, row)


CASES = {
    "pip": ("%pip install -q transformers bitsandbytes\nimport torch\n", {1: "line-magic"}),
    "conda and env": ("%conda install x\n%env CUDA_VISIBLE_DEVICES=0\n%matplotlib inline\nx = 1\n", {1: "line-magic", 2: "line-magic", 3: "line-magic"}),
    "time keeps statement": ("%time y = model.generate(**inputs)\nprint(y)\n", {1: "line-magic"}),
    "timeit options": ("%timeit -n 10 -r 3 f(x)\n%timeit -o -q g()\n", {1: "line-magic", 2: "line-magic"}),
    "prun option with value": ("%prun -s cumtime -l 5 run()\n", {1: "line-magic"}),
    "time compound": ("%time for i in x: f(i)\n", {1: "line-magic"}),
    "time in block": ("for i in range(3):\n    %time f(i)\n", {2: "line-magic"}),
    "magic only statement of block": ("if gpu:\n    %pip install flash-attn\n", {2: "line-magic"}),
    "shell only statement of block": ("if gpu:\n    !nvidia-smi\nelse:\n    !a\n", {2: "shell", 4: "shell"}),
    "shell": ("!pip install -q accelerate\n!!ls\nimport os\n", {1: "shell", 2: "shell"}),
    "shell assign": ("files = !ls -la\na, b = !echo 1 2\nprint(files)\n", {1: "shell", 2: "shell"}),
    "magic assign": ("out = %sx ls\nt = %timeit -o f()\n", {1: "line-magic", 2: "line-magic"}),
    "help": ("model?\n??model\nmodel.generate??\n%timeit?\nx = 1\n", {1: "help", 2: "help", 3: "help", 4: "help"}),
    "help then comment": ("model?  # what is it\n", {1: "help"}),
    "automagic pip": ("pip install -q peft\nconda install -y x\npip = 1\npip.install(x)\n", {1: "line-magic", 2: "line-magic"}),
    "autocall": ("/print x\n,f a b\n", {1: "autocall", 2: "autocall"}),
    "continuation": ("%pip install a \\\n    b \\\n    c\n!apt-get install \\\n  git\nx = 1\n", {1: "line-magic", 2: "magic-body", 3: "magic-body", 4: "shell", 5: "magic-body"}),
    "python cell magic": ("%%time\nx = f()\n", {1: "cell-magic"}),
    "capture with name": ("\n%%capture out --no-stderr\n!pip install x\nimport y\n", {2: "cell-magic", 3: "shell"}),
    "crlf": ("%pip install x\r\nimport torch\r\n!ls\r\n", {1: "line-magic", 3: "shell"}),
    "tabs": ("if a:\n\t%time f()\n\t!ls\n", {2: "line-magic", 3: "shell"}),
    "cell magic mid cell": ("x = 1\n%%time\ny = 2\n", {2: "line-magic"}),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_ipython_syntax_is_blanked_keeping_positions(name):
    source, expected = CASES[name]
    result = transform(source)
    assert {b.line: b.kind for b in result.blanks} == expected
    assert result.python
    _parses(result.text)
    _check_positions(source, result)


def test_time_keeps_the_statement_at_its_column():
    result = transform("%time x = f()\n")
    assert result.text == "0;    x = f()\n"
    assert ast.parse(result.text).body[1].targets[0].col_offset == 6


def test_shell_assignment_keeps_the_name():
    result = transform("files = !ls\n")
    assert result.text == "files = ...\n"
    assert transform("x = !a\n").text == "x = 0 \n"


@pytest.mark.parametrize("magic", ["writefile app.py", "bash", "sh", "html", "javascript", "markdown", "script python3", "latex", "cython", "python", "unknownmagic"])
def test_non_python_cell_magics_blank_the_whole_cell(magic):
    source = f"%%{magic}\nimport torch\nprint 'not python (\n  fi\n"
    result = transform(source)
    assert not result.python
    assert result.text.strip() == ""
    assert result.blanked == {1, 2, 3, 4}
    _check_positions(source, result)


def test_ipython_characters_inside_python_are_left_alone():
    source = (
        's = """\n%pip install x\n!ls\nobj?\n"""\n'
        "x = (1,\n     2 %\n     3)\n"
        "y = 10 \\\n% 3\n"
        "z = a != b  # really?\n"
        "w = 'why?'\n"
        "q = {\n!a: 1}\n"  # a real syntax error inside brackets: kept
    )
    result = transform(source)
    assert result.blanks == ()
    assert result.text == source


def test_real_syntax_errors_stay_syntax_errors():
    for source in ("print 'hello'\n", "def f(:\n", "x = (1,\n!ls)\n", "%pip install x\nexec 'code'\n"):
        with pytest.raises(SyntaxError):
            compile(transform(source).text, "<cell>", "exec", flags=ast.PyCF_ONLY_AST)


def test_top_level_await_needs_no_change():
    source = "import asyncio\nawait asyncio.sleep(0)\nresult = await client.generate(p)\nasync with lock:\n    pass\n"
    assert transform(source).text == source
    _parses(source)


def test_plain_python_is_returned_as_is():
    source = "x = 5 % 3\nprint(f'{x!r}')\n"
    result = transform(source)
    assert result.text is source and not result.changed


def test_script_mode_handles_cell_magics_anywhere():
    source = (
        "# In[1]:\n\n\nimport torch\n\n\n"
        "# In[2]:\n\n\n%%bash\necho hi\nls -la\n\n\n"
        "# In[3]:\n\n\n%%time\nx = torch.ones(1)\n"
    )
    result = transform(source, cell=False)
    kinds = {b.line: b.kind for b in result.blanks}
    assert kinds == {10: "cell-magic", 11: "magic-body", 12: "magic-body", 18: "cell-magic"}
    _parses(result.text)
    _check_positions(source, result)


def test_colab_export_parses_after_transform():
    from conftest import ROOT

    source = (ROOT / "fixtures" / "notebooks" / "colab_export.py").read_text()
    with pytest.raises(SyntaxError):
        ast.parse(source)
    result = transform(source, cell=False)
    _parses(result.text)
    _check_positions(source, result)
    assert {b.kind for b in result.blanks} >= {"shell", "line-magic"}


def test_partly_blanked_lines_say_which_columns_are_ipython():
    result = transform("x = 1\n%time y = f(x)\nfiles = !ls\n")
    assert result.touches(2, 0, 3) and not result.touches(2, 6, 14)
    assert result.touches(3, 8) and not result.touches(3, 0, 5)
    assert not result.touches(1)
