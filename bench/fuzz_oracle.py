"""The checks ``bench/fuzz.py`` runs on one input, inside a worker process.

:func:`check_input` lints the input (prefilter on and off), asks the CLI for its findings as JSON, then runs
``check --fix`` and ``check --fix --unsafe-fixes`` on a copy in a fresh project directory and compares the
result with the original. It returns ``(kind, message)`` pairs; the kinds are listed in ``bench/fuzz.py``.
"""

from __future__ import annotations

import ast
import bisect
import contextlib
import difflib
import io
import json
import os
import re
import shutil
import stat
import time
import tokenize
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Callable, Optional

try:
    import tomllib
except ImportError:  # pragma: no cover - Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

Fail = Callable[[str, str], None]
CONFIG = '[tool.ecolint]\ntransformers-version = "4.44.0"\n'
CACHE_DIR = ".ecolint_cache"
DTYPE_WORDS = {"float16", "bfloat16", "float32", "float", "half", "auto", "fp16", "bf16", "fp32"}
SIDE_EFFECTS = (ast.Call, ast.NamedExpr, ast.Await, ast.Yield, ast.YieldFrom)
_IDENT = re.compile(r"[A-Za-z_]\w*")
_STRING = re.compile(r"""(['"]).*?\1""")

_ENGINES: dict = {}


def engines() -> dict:
    """The library-level engines (prefilter on and off), built once per worker."""
    if not _ENGINES:
        from ecolint.config import Settings
        from ecolint.runner import Engine

        base = Engine.create(replace(Settings(root=Path("/nonexistent")), transformers_version="4.44.0"))
        _ENGINES.update(prefilter=base, full=replace(base, prefilter=False))
    return _ENGINES


def run_cli(argv: list[str], cwd: Path) -> tuple[int, str, str]:
    """``ecolint <argv>`` in-process, in ``cwd``: (exit status, stdout, stderr)."""
    from ecolint.cli import main

    out, err = io.StringIO(), io.StringIO()
    old = os.getcwd()
    os.chdir(cwd)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            rc = main(argv)
    finally:
        os.chdir(old)
    return rc, out.getvalue(), err.getvalue()


def check_input(name: str, data: bytes, meta: dict, workdir: Path, semantic: bool = True) -> list[tuple[str, str]]:
    """Every check for one input, in a fresh ``workdir`` (removed afterwards). With ``semantic=False`` only
    the robustness checks run (crashes, broken or unstable fixes, files touched that were not asked for)."""
    failures: list[tuple[str, str]] = []

    def fail(kind: str, message: str) -> None:
        failures.append((kind, message))

    if meta.get("sleep"):
        time.sleep(float(meta["sleep"]))
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        if "fs" in meta:
            check_fs(meta["fs"], workdir, fail)
        else:
            check_file(name, data, meta, workdir, fail, semantic)
    finally:
        _rmtree(workdir)
    return failures


# -- one file -----------------------------------------------------------------------------------------------

def check_file(name: str, data: bytes, meta: dict, workdir: Path, fail: Fail, semantic: bool = True) -> None:
    from ecolint.runner import decode, lint_bytes
    from ecolint.sources import kind_for

    kind = kind_for(Path(name))
    if kind is None:
        return
    seen = {}
    for label, engine in engines().items():
        result = lint_bytes(name, data, kind, engine, project_dir=Path("/nonexistent"))
        broken = [f for f in result.findings if f.code == "ECO903"]
        if broken:
            fail("eco903", f"[{label}] {broken[0].message}\n{broken[0].detail}")
            return
        # ECO9xx are about the file itself (a syntax error, its size...): a file the prefilter skips is not parsed.
        seen[label] = {(f.code, f.span.line, f.span.col) for f in result.findings if not f.code.startswith("ECO9")}
    missed = seen["full"] - seen["prefilter"]
    if missed and semantic:
        fail("prefilter-missed", f"found with the prefilter off only: {sorted(missed)}")

    src = workdir / "src"
    src.mkdir()
    (workdir / "pyproject.toml").write_text(CONFIG)
    target = src / name
    bystander = src / (("bystander_" + name) if Path(name).suffix else name + ".bystander")
    target.write_bytes(data)
    bystander.write_bytes(data)
    rel = os.path.join("src", name)

    rc, out, err = run_cli(["check", "--no-cache", "--output-format", "json", "--exit-zero", "-j", "1", "-q", rel], workdir)
    if _internal(err, fail, "check"):
        return
    try:
        findings = [f for f in json.loads(out) if f["filename"].replace(os.sep, "/") == "src/" + name] if rc != 2 else None
    except ValueError:
        fail("bad-json", f"--output-format json printed something that is not JSON: {out[:300]!r}")
        return
    if findings is None:  # a configuration error (e.g. the input is itself a broken pyproject.toml)
        return
    for f in findings:
        if f["code"] == "ECO903":
            fail("eco903", f"[cli] {f['message']}")
            return
    reported = {(f["code"], f["location"]["row"]) for f in findings}
    for code, line in meta.get("expect", ()):
        if (code, line) not in reported:
            fail("missed-finding", f"expected {code} on line {line}, got {sorted(reported)}")
    for code in meta.get("expect_not", ()):
        if any(c == code for c, _ in reported):
            fail("wrong-finding", f"{code} must not be reported here, got {sorted(reported)}")

    try:
        original_text = decode(data, kind)
    except Exception:  # noqa: BLE001 - undecodable: nothing can be fixed, the file must stay as it is
        original_text = None
    for mode in ("safe", "unsafe"):
        kinds = ("safe", "unsafe") if mode == "unsafe" else ("safe",)
        applied = [f for f in findings if f.get("fix") and f["fix"]["edits"] and f["fix"]["applicability"] in kinds]
        target.write_bytes(data)
        before = snapshot(workdir)
        argv = ["check", "--fix", "--output-format", "json", "--exit-zero", "-j", "1", "-q"]
        if mode == "unsafe":
            argv[2:2] = ["--unsafe-fixes", "--no-cache"]
        rc, out, err = run_cli(argv + [rel], workdir)
        if _internal(err, fail, f"--fix ({mode})"):
            return
        after = snapshot(workdir)
        compare_tree(before, after, "src/" + name, allow_cache=(mode == "safe"), fail=fail, mode=mode)
        new = target.read_bytes()
        if new == data:
            continue
        if not applied:
            fail("fix-unexpected", f"[{mode}] the file changed although no {mode} fix was reported")
        if original_text is None:
            fail("fix-undecodable", f"[{mode}] an undecodable file was rewritten")
            continue
        try:
            fixed_text = decode(new, kind)
        except Exception as exc:  # noqa: BLE001
            fail("fix-broke", f"[{mode}] the fixed file no longer decodes: {exc}")
            continue
        if not semantic:
            pass
        elif mode == "safe":
            for option in meta.get("live", ()):
                pattern = re.compile(r"\b%s\b" % re.escape(option))
                if len(pattern.findall(fixed_text)) < len(pattern.findall(original_text)):
                    fail("live-option-removed", f"a safe fix removed `{option}`, which is live (a run-time flag or a later mutation)")
        if semantic:
            semantic_oracles(kind, original_text, fixed_text, applied, mode, fail)
        if mode == "unsafe":
            rc, out, err = run_cli(argv + [rel], workdir)
            if target.read_bytes() != new:
                fail("fix-unstable", "fixing the fixed file changed it again")


def _internal(err: str, fail: Fail, what: str) -> bool:
    if "internal error" in err:
        fail("crash", f"{what}: {err.strip()[-400:]}")
        return True
    if "This is a bug in ecolint" in err or "does not parse" in err:
        fail("fix-broke", f"{what}: {err.strip()[-400:]}")
    return False


def snapshot(root: Path) -> dict[str, tuple]:
    """Every entry under ``root``: its type, mode and (for regular files) bytes."""
    out: dict[str, tuple] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for n in dirnames + filenames:
            p = Path(dirpath) / n
            rel = p.relative_to(root).as_posix()
            st = os.lstat(p)
            if stat.S_ISREG(st.st_mode):
                out[rel] = ("file", stat.S_IMODE(st.st_mode), p.read_bytes())
            elif stat.S_ISLNK(st.st_mode):
                out[rel] = ("link", os.readlink(p))
            else:
                out[rel] = (stat.S_IFMT(st.st_mode), stat.S_IMODE(st.st_mode))
    return out


def compare_tree(before: dict, after: dict, target: str, allow_cache: bool, fail: Fail, mode: str) -> None:
    """Files not asked for are byte-identical; nothing new appears except the cache directory."""
    for rel, entry in before.items():
        if rel == target:
            if rel not in after:
                fail("fix-touched", f"[{mode}] the fixed file disappeared")
            elif after[rel][1] != entry[1]:
                fail("fix-touched", f"[{mode}] the fixed file's mode changed {entry[1]:o} -> {after[rel][1]:o}")
            continue
        if rel == CACHE_DIR or rel.startswith(CACHE_DIR + "/"):
            continue
        if after.get(rel) != entry:
            fail("fix-touched", f"[{mode}] {rel}, which was not asked for, changed")
    for rel in after:
        if rel not in before and not (allow_cache and (rel == CACHE_DIR or rel.startswith(CACHE_DIR + "/"))):
            fail("stray-file", f"[{mode}] {rel} appeared")


# -- semantic oracles ---------------------------------------------------------------------------------------

def semantic_oracles(kind: str, original: str, fixed: str, applied: list[dict], mode: str, fail: Fail) -> None:
    if kind == "python":
        python_oracles(original, fixed, applied, mode, fail)
    elif kind == "yaml":
        yaml_oracle(original, fixed, applied, mode, fail)
    elif kind == "toml":
        toml_oracle(original, fixed, applied, mode, fail)


def fix_names(applied: list[dict], original: str) -> set[str]:
    """Names a fix may change: the identifiers its message names, the keywords / keys its edits add or take
    away, and the dtype spellings when it changes a dtype."""
    names: set[str] = set()
    written = lambda code: set(re.findall(r"([A-Za-z_]\w*)\s*[=:]", code)) | set(re.findall(r"""['"]([A-Za-z_]\w*)['"]\s*:""", code))  # noqa: E731
    for f in applied:
        names.update(_IDENT.findall(f["fix"]["message"]))
    for (start, end), content in zip(_edit_offsets(original, applied), (e["content"] for f in applied for e in f["fix"]["edits"])):
        names |= written(original[start:end]) ^ written(content)
    if names & DTYPE_WORDS or "dtype" in " ".join(names):
        names |= DTYPE_WORDS
    return names


def lines_of(text: str) -> list[str]:
    """Lines with their ends, split at \\n, \\r\\n and \\r only (what CPython and ecolint count)."""
    return re.findall(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$", text)


def cpython_tree(text: str) -> Optional[ast.Module]:
    try:
        return compile(text, "<fuzz>", "exec", ast.PyCF_ONLY_AST, dont_inherit=True)
    except (SyntaxError, ValueError, RecursionError, MemoryError, OverflowError):
        return None


class _Mask(ast.NodeTransformer):
    """Drop every keyword and dict entry named in ``names``; replace dtype spellings when they are named."""

    def __init__(self, names: set[str]) -> None:
        self.names = names
        self.dropped: list[ast.AST] = []  # the values of the keywords and entries taken out

    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        self.dropped.extend(k.value for k in node.keywords if k.arg in self.names)
        node.keywords = [k for k in node.keywords if k.arg not in self.names]
        return node

    def visit_Dict(self, node: ast.Dict) -> ast.AST:
        self.generic_visit(node)
        named = lambda k: isinstance(k, ast.Constant) and k.value in self.names  # noqa: E731
        self.dropped.extend(v for k, v in zip(node.keys, node.values) if named(k))
        keep = [(k, v) for k, v in zip(node.keys, node.values) if not named(k)]
        node.keys = [k for k, _ in keep]
        node.values = [v for _, v in keep]
        return node

    def visit_Attribute(self, node: ast.Attribute) -> ast.AST:
        self.generic_visit(node)
        if node.attr in DTYPE_WORDS and node.attr in self.names:
            return ast.Constant("<dtype>")
        return node

    def visit_Constant(self, node: ast.Constant) -> ast.AST:
        if isinstance(node.value, str) and node.value in DTYPE_WORDS and node.value in self.names:
            return ast.Constant("<dtype>")
        return node


def python_oracles(original: str, fixed: str, applied: list[dict], mode: str, fail: Fail) -> None:
    before = cpython_tree(original)
    if before is None:
        fail("fixed-invalid-source", f"[{mode}] a file CPython rejects was rewritten by --fix")
        return
    after = cpython_tree(fixed)
    if after is None:
        fail("fix-broke", f"[{mode}] the fixed file does not parse with CPython")
        return
    names = fix_names(applied, original)
    mask_a, mask_b = _Mask(names), _Mask(names)
    a = ast.dump(mask_a.visit(cpython_tree(original)))
    b = ast.dump(mask_b.visit(cpython_tree(fixed)))
    if a != b:
        diff = list(difflib.unified_diff(_pretty(a), _pretty(b), lineterm="", n=1))[2:14]
        fail("ast-changed", f"[{mode}] the program changed outside the options the fix names ({sorted(names)[:8]}):\n" + "\n".join(diff))
    if mode == "safe":
        removed = Counter(ast.dump(v) for v in mask_a.dropped) - Counter(ast.dump(v) for v in mask_b.dropped)
        for value in mask_a.dropped:
            if removed[ast.dump(value)] > 0 and any(isinstance(n, SIDE_EFFECTS) for n in ast.walk(value)):
                fail("safe-fix-side-effect", f"a safe fix deleted an expression with side effects: {ast.unparse(value)[:200]}")
                break
    _container_oracle(original, before, applied, mode, fail)
    _layout_oracle(original, fixed, before, applied, mode, fail)
    _comment_oracle(original, fixed, names, mode, fail)


def _pretty(dump: str) -> list[str]:
    return re.sub(r"(\w+\()", r"\n\1", dump).split("\n")


def _edit_offsets(text: str, applied: list[dict]) -> list[tuple[int, int]]:
    starts = [0]
    for ln in lines_of(text):
        starts.append(starts[-1] + len(ln))
    out = []
    for f in applied:
        for e in f["fix"]["edits"]:
            try:
                out.append((starts[e["location"]["row"] - 1] + e["location"]["column"] - 1, starts[e["end_location"]["row"] - 1] + e["end_location"]["column"] - 1))
            except IndexError:
                out.append((0, 0))
    return out


def _node_offsets(text: str) -> Callable[[ast.AST], tuple[int, int]]:
    """Character offsets of a node (CPython columns are UTF-8 byte offsets)."""
    lines = lines_of(text)
    starts = [0]
    for ln in lines:
        starts.append(starts[-1] + len(ln))

    def char_col(line: int, byte_col: int) -> int:
        if line - 1 >= len(lines):
            return 0
        return len(lines[line - 1].encode("utf-8", "surrogatepass")[:byte_col].decode("utf-8", "replace"))

    def offsets(node: ast.AST) -> tuple[int, int]:
        return (starts[node.lineno - 1] + char_col(node.lineno, node.col_offset), starts[node.end_lineno - 1] + char_col(node.end_lineno, node.end_col_offset))

    return offsets


def _container_oracle(original: str, tree: ast.Module, applied: list[dict], mode: str, fail: Fail) -> None:
    """A fix must not edit a container (dict, ``dict()``, config object) that reaches another call site or is
    mutated later."""
    offsets = _node_offsets(original)
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    containers = [n for n in ast.walk(tree) if isinstance(n, (ast.Dict, ast.Call))]
    for start, end in _edit_offsets(original, applied):
        around = [n for n in containers if offsets(n)[0] <= start and end <= offsets(n)[1]]
        if not around:
            continue
        node = min(around, key=lambda n: offsets(n)[1] - offsets(n)[0])
        parent = parents.get(node)
        if not (isinstance(parent, ast.Assign) and len(parent.targets) == 1 and isinstance(parent.targets[0], ast.Name)):
            continue
        var = parent.targets[0].id
        is_dict = isinstance(node, ast.Dict) or (isinstance(node.func, ast.Name) and node.func.id == "dict")
        uses = _uses_of(var, parent, parents, tree)
        loads = [n for n in uses if isinstance(n, ast.Name) and n.id == var and isinstance(n.ctx, ast.Load)]
        mutations = [
            n for n in uses
            if (isinstance(n, (ast.Subscript, ast.Attribute)) and isinstance(n.ctx, (ast.Store, ast.Del)) and isinstance(n.value, ast.Name) and n.value.id == var)
            or (isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and isinstance(n.func.value, ast.Name) and n.func.value.id == var
                and n.func.attr in ("update", "setdefault", "pop", "popitem", "clear", "__setitem__"))
            or (isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "setattr" and n.args and isinstance(n.args[0], ast.Name) and n.args[0].id == var)
        ]
        if mutations:
            fail("mutated-container", f"[{mode}] the fix edited `{var}` (line {parent.lineno}), which is changed later (line {mutations[0].lineno})")
        elif is_dict and len(loads) > 1:
            fail("shared-container", f"[{mode}] the fix edited the dict `{var}` (line {parent.lineno}), which reaches {len(loads)} uses")


def _uses_of(var: str, assign: ast.Assign, parents: dict, tree: ast.Module) -> list[ast.AST]:
    """Nodes of the assignment's scope (its function, or the module) from the assignment up to the next
    assignment of the same name: what the assigned value can reach."""
    scope = assign
    while scope in parents and not isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
        scope = parents[scope]
    if scope is assign or scope not in parents and not isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
        scope = tree
    nodes = [n for n in ast.walk(scope) if hasattr(n, "lineno")]
    rebinds = [n.lineno for n in nodes if isinstance(n, ast.Name) and n.id == var and isinstance(n.ctx, ast.Store) and n.lineno > assign.end_lineno]
    until = min(rebinds, default=float("inf"))
    return [n for n in nodes if assign.end_lineno < n.lineno < until or (n.lineno == assign.end_lineno and n.col_offset > assign.end_col_offset)]


def _statement_lines(tree: ast.Module, applied: list[dict]) -> set[int]:
    stmts = [n for n in ast.walk(tree) if isinstance(n, ast.stmt)]
    allowed: set[int] = set()
    for f in applied:
        line, end = f["location"]["row"], f["end_location"]["row"]
        around = [s for s in stmts if s.lineno <= line and end <= s.end_lineno]
        if around:
            s = min(around, key=lambda s: s.end_lineno - s.lineno)
            allowed.update(range(s.lineno, s.end_lineno + 1))
    return allowed


def _layout_oracle(original: str, fixed: str, tree: ast.Module, applied: list[dict], mode: str, fail: Fail) -> None:
    """The diff stays inside the statements of the fixed findings; every line the fix kept keeps its
    indentation and its newline bytes; nothing inside a ``# fmt: off`` region changes."""
    a, b = lines_of(original), lines_of(fixed)
    core = lambda ln: ln.rstrip("\r\n").strip(" \t\x0c")  # noqa: E731
    allowed = _statement_lines(tree, applied)
    matcher = difflib.SequenceMatcher(None, [core(x) for x in a], [core(x) for x in b], autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            for x, y in zip(a[i1:i2], b[j1:j2]):
                if x == y:
                    continue
                what = "indent-changed" if x[: len(x) - len(x.lstrip(" \t\x0c"))] != y[: len(y) - len(y.lstrip(" \t\x0c"))] else "newline-changed"
                fail(what, f"[{mode}] a line the fix kept changed: {x!r} -> {y!r}")
                break
            continue
        touched = range(i1 + 1, i2 + 1) if i2 > i1 else [i1, i1 + 1]
        if not any(t in allowed for t in touched) or (i2 > i1 and not all(t in allowed for t in touched)):
            fail("diff-outside-statement", f"[{mode}] the fix changed lines {i1 + 1}-{i2} outside the fixed statements ({_ranges(allowed)}): {a[i1:i2][:2]!r} -> {b[j1:j2][:2]!r}")
    regions = _fmt_off_lines(a)
    if regions:
        raw = difflib.SequenceMatcher(None, a, b, autojunk=False)
        for tag, i1, i2, _, _ in raw.get_opcodes():
            if tag != "equal" and any(t in regions for t in range(i1 + 1, max(i2, i1 + 1) + 1)):
                fail("fmt-off-edited", f"[{mode}] the fix edited line {i1 + 1}, inside a `# fmt: off` region")
                break


def _ranges(lines: set[int]) -> str:
    return ",".join(str(x) for x in sorted(lines)[:12]) or "none"


def _fmt_off_lines(lines: list[str]) -> set[int]:
    out: set[int] = set()
    inside = False
    for n, ln in enumerate(lines, 1):
        s = ln.strip()
        if re.match(r"#\s*fmt:\s*off\b", s):
            inside = True
        elif re.match(r"#\s*fmt:\s*on\b", s):
            inside = False
        elif inside:
            out.add(n)
    return out


def _comments(text: str) -> Optional[list[tuple[str, str]]]:
    """(comment, code before it on its line) for every comment, or None when the text does not tokenize."""
    out = []
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text, newline=None).readline):
            if tok.type == tokenize.COMMENT:
                out.append((tok.string, tok.line[: tok.start[1]].strip()))
    except (tokenize.TokenError, SyntaxError, IndentationError, ValueError):
        return None
    return out


def _idents(code: str) -> set[str]:
    return set(_IDENT.findall(_STRING.sub("", code))) - {"True", "False", "None"}


def _comment_oracle(original: str, fixed: str, names: set[str], mode: str, fail: Fail) -> None:
    """A comment the fix kept stays with the code it was written next to."""
    before, after = _comments(original), _comments(fixed)
    if before is None or after is None:
        return
    where: dict[str, list[str]] = {}
    for c, code in before:
        where.setdefault(c, []).append(code)
    for c, code in after:
        if c not in where or code in where[c]:
            continue
        if all((_idents(code) - _idents(old) - names) or not ((_idents(old) - names) <= _idents(code)) for old in where[c]):
            fail("comment-moved", f"[{mode}] comment {c!r} moved from {where[c][0]!r} to {code!r}")
            return


# -- YAML and TOML ------------------------------------------------------------------------------------------

def _norm(value):
    """A fresh, comparable copy (aliases become copies, NaN compares equal)."""
    if isinstance(value, dict):
        return {_key(k): _norm(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_norm(v) for v in value]
    if isinstance(value, float) and value != value:
        return "<nan>"
    return value


def _key(k):
    return k if isinstance(k, (str, int, bool, type(None))) else repr(k)


def _drop(doc, path: tuple) -> None:
    for p in path[:-1]:
        if isinstance(doc, dict) and p in doc:
            doc = doc[p]
        elif isinstance(doc, list) and isinstance(p, int) and p < len(doc):
            doc = doc[p]
        else:
            return
    if isinstance(doc, dict):
        doc.pop(path[-1], None)
    elif isinstance(doc, list) and isinstance(path[-1], int) and path[-1] < len(doc):
        doc[path[-1]] = "<edited>"


def _changed_lines(original: str, fixed: str) -> tuple[set[int], set[int]]:
    """0-based changed line numbers on each side."""
    a, b = lines_of(original), lines_of(fixed)
    left, right = set(), set()
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag != "equal":
            left.update(range(i1, max(i2, i1 + 1)))
            right.update(range(j1, max(j2, j1 + 1)))
    return left, right


def _yaml_paths(text: str, lines: set[int]) -> set[tuple]:
    """Paths of the keys written on (or whose scalar values span) the given 0-based lines."""
    import yaml

    out: set[tuple] = set()
    seen: set[int] = set()
    starts = [0]
    for ln in lines_of(text):
        starts.append(starts[-1] + len(ln))

    def line(mark) -> int:  # PyYAML also breaks lines at U+0085/2028/2029: count \n, \r\n and \r only
        return bisect.bisect_right(starts, mark.index) - 1

    def walk(node, path: tuple) -> None:
        if id(node) in seen:
            return
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                if k.tag == "tag:yaml.org,2002:merge":
                    continue
                p = path + (_key(getattr(k, "value", None)),)
                leaf = isinstance(v, yaml.ScalarNode) or id(v) in seen
                span = range(line(k.start_mark), (line(v.end_mark) if leaf else line(k.start_mark)) + 1)
                if any(x in lines for x in span):
                    out.add(p)
                walk(v, p)
        elif isinstance(node, yaml.SequenceNode):
            for i, v in enumerate(node.value):
                if isinstance(v, yaml.ScalarNode) and any(x in lines for x in range(line(v.start_mark), line(v.end_mark) + 1)):
                    out.add(path + (i,))
                walk(v, path + (i,))

    try:
        for d, node in enumerate(yaml.compose_all(text, Loader=yaml.SafeLoader)):
            walk(node, (d,))
    except Exception:  # noqa: BLE001 - a document PyYAML cannot compose has no paths
        pass
    return out


def yaml_oracle(original: str, fixed: str, applied: list[dict], mode: str, fail: Fail) -> None:
    """The loaded document equals the original except at the keys the fix edited (a value reached through an
    anchor or merge key from another mapping is not an edited key)."""
    import yaml

    try:
        before = _norm(list(yaml.safe_load_all(original)))
    except Exception:  # noqa: BLE001 - the original does not load: nothing to compare
        return
    try:
        after = _norm(list(yaml.safe_load_all(fixed)))
    except Exception as exc:  # noqa: BLE001
        fail("fix-broke", f"[{mode}] the fixed YAML no longer loads: {str(exc)[:200]}")
        return
    left, right = _changed_lines(original, fixed)
    paths = _yaml_paths(original, left) | _yaml_paths(fixed, right)
    for p in paths:
        _drop(before, p)
        _drop(after, p)
    if before != after:
        where = _diff_paths(before, after)[:3]
        fail("doc-changed", f"[{mode}] the YAML document changed outside the edited keys {sorted(map(str, paths))[:4]}: {where}")


def toml_oracle(original: str, fixed: str, applied: list[dict], mode: str, fail: Fail) -> None:
    """The loaded document equals the original except at the keys written on the edited lines."""
    try:
        before = _norm(tomllib.loads(original))
    except Exception:  # noqa: BLE001
        return
    try:
        after = _norm(tomllib.loads(fixed))
    except Exception as exc:  # noqa: BLE001
        fail("fix-broke", f"[{mode}] the fixed TOML no longer loads: {str(exc)[:200]}")
        return
    left, right = _changed_lines(original, fixed)
    a, b = lines_of(original), lines_of(fixed)
    keys = set()
    for lines, idx in ((a, left), (b, right)):
        for i in idx:
            if i < len(lines):
                keys.update(k.strip("\"' ") for k in re.findall(r"""([A-Za-z0-9_\-"'. ]+?)\s*=""", lines[i]) for k in k.split("."))
    bad = [p for p in _diff_paths(before, after) if not any(str(c) in keys for c in p)]
    if bad:
        fail("doc-changed", f"[{mode}] the TOML document changed outside the edited keys {sorted(keys)[:6]}: {bad[:3]}")


def _diff_paths(a, b, path: tuple = ()) -> list[tuple]:
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for k in list(a) + [k for k in b if k not in a]:
            if k not in a or k not in b:
                out.append(path + (k,))
            else:
                out.extend(_diff_paths(a[k], b[k], path + (k,)))
        return out
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [p for i, (x, y) in enumerate(zip(a, b)) for p in _diff_paths(x, y, path + (i,))]
    return [] if a == b else [path]


# -- file-system objects ------------------------------------------------------------------------------------

FINDING_PY = 'from transformers import BitsAndBytesConfig\nbnb = BitsAndBytesConfig(load_in_4bit=False, bnb_4bit_quant_type="nf4")\n'


def check_fs(scenario: str, workdir: Path, fail: Fail) -> None:
    """Build one hostile file-system object in ``workdir`` and lint it; the parent's budget catches a hang."""
    (workdir / "pyproject.toml").write_text(CONFIG)
    d = workdir / "t"
    d.mkdir()
    (d / "ok.py").write_text(FINDING_PY)
    expect: list[str] = []
    if scenario == "fifo":
        os.mkfifo(d / "x.py")
        expect.append("t/x.py")
    elif scenario == "fifo_yaml":
        os.mkfifo(d / "fifo.yaml")
        expect.append("t/fifo.yaml")
    elif scenario == "fifo_requirements":
        os.mkfifo(d / "requirements.txt")
        (d / "m.py").write_text('from transformers import AutoModelForCausalLM\nm = AutoModelForCausalLM.from_pretrained("gpt2", device_map="cuda")\n')
    elif scenario == "dev_zero":
        os.symlink("/dev/zero", d / "z.py")
        expect.append("t/z.py")
    elif scenario == "loop":
        os.symlink("l2.py", d / "l1.py")
        os.symlink("l1.py", d / "l2.py")
        expect.extend(["t/l1.py", "t/l2.py"])
    elif scenario == "readonly":
        ro = d / "ro.py"
        ro.write_text(FINDING_PY)
        ro.chmod(0o444)
        rc, out, err = run_cli(["check", "--no-cache", "--fix", "-j", "1", "-q", "t/ro.py"], workdir)
        _internal(err, fail, "--fix on a read-only file")
        if ro.read_text() != FINDING_PY:
            fail("fix-readonly", "--fix rewrote a read-only file")
        return
    for argv in (["t"], expect[:1]):
        if not argv:
            continue
        rc, out, err = run_cli(["check", "--no-cache", "--output-format", "json", "--exit-zero", "-j", "1", "-q", *argv], workdir)
        if _internal(err, fail, f"check {' '.join(argv)}"):
            return
        try:
            found = json.loads(out) if out.strip() else []
        except ValueError:
            fail("bad-json", out[:200])
            return
        got = {(f["filename"].replace(os.sep, "/"), f["code"]) for f in found}
        for path in expect:
            if (argv == ["t"] or path in argv) and (path, "ECO901") not in got:
                fail("fs-unreported", f"`check {' '.join(argv)}`: no ECO901 for {path} ({scenario}); got {sorted(got)[:6]}")


def _rmtree(path: Path) -> None:
    def onerror(func, p, exc):  # read-only directories left by a scenario
        try:
            os.chmod(os.path.dirname(p), 0o755)
            func(p)
        except OSError:
            pass

    shutil.rmtree(path, onerror=onerror)
