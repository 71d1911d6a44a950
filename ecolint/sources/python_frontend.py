"""Adapter between the runner and the libcst analysis in :mod:`ecolint.sources.python`.

Hostile input is stopped here, before libcst sees it: libcst's native parser recurses on the C stack, so very
deep nesting (thousands of brackets, unary operators or ``and`` terms) can crash the whole process instead of
raising an exception. CPython's own parser (``ast.parse``, about ten times cheaper) has depth limits and
reports them as errors, so it runs first; what it accepts only leaves one shape that is flat for CPython but
deep for libcst (long ``and``/``or`` chains), checked separately. libcst then runs on a thread with a large
stack as a last line of defence.

CPython's verdict is final: a file the running interpreter refuses (its parser, or its compiler's checks such as
"keyword argument repeated") is ECO900 with CPython's message and position and never reaches libcst, whose
parser accepts some of those files (and then analyses and fixes code that cannot run) and backtracks for minutes
on others (a long ``[0][0]...`` chain followed by a syntax error).
"""

from __future__ import annotations

import re
import sys
import threading
from dataclasses import dataclass, fields
from typing import Callable, Mapping, Optional, TypeVar

from ecolint.facts import Edit, FileFacts
from ecolint.sources import SourceError, caused_by_recursion
from ecolint.sources.frontend import FrontEnd, Placement
from ecolint.sources.ipython import Transformed, transform

T = TypeVar("T")

# Deeper than this is reported as ECO900 without handing the file to libcst (CPython's own limits, 200 nested
# brackets, 100 indentation levels, roughly 1000-3000 nested expressions, are checked by its parser first).
MAX_BOOL_TERMS = 1000  # `a and b and ...`: one libcst level per term
MAX_TREE_DEPTH = 1000  # checked on Python 3.10 only, whose parser accepts much deeper trees than 3.11's
_PARSE_STACK = 256 * 1024 * 1024  # bytes of (virtual) stack for the libcst thread
_DEPTH_MESSAGES = ("too many nested parentheses", "too many levels of indentation", "too complex", "too many nested")
_BOOL_WORDS = re.compile(r"\b(?:and|or)\b")
_stack_lock = threading.Lock()
_LONE_BACKSLASH = re.compile(r"^[ \t\f]*\\(?:\r\n|\r|\n)", re.MULTILINE)
MAX_DOTTED_PARTS = 1000
_LONG_DOTTED = re.compile(r"(?:\.[^\W\d]\w*){%d}" % MAX_DOTTED_PARTS)


def decode(data: bytes) -> str:
    """Decode Python source honouring a BOM and a PEP 263 coding cookie."""
    import io
    import tokenize

    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as exc:
        raise SourceError(_encoding_problem(data, exc.msg), code="ECO901") from None
    try:
        text = data.decode(encoding)
    except (UnicodeDecodeError, LookupError) as exc:
        raise SourceError(f"file is not valid {encoding}: {exc}", code="ECO901") from None
    if text.startswith("\ufeff"):
        text = text[1:]
    if encoding not in ("utf-8", "utf-8-sig") and "coding" not in "".join(text.splitlines(True)[:2]):
        # A cookie naming an encoding that is not ASCII-compatible (utf-16, ...) turns the file into noise.
        raise SourceError(f"file declares the encoding {encoding}, but its own declaration does not read back in it (not an ASCII-compatible encoding)", code="ECO901")
    return text


class _LastTree:
    """The last tree :func:`cpython_tree` built, with its text: the prefilter and the front end parse the same
    text one after the other (the runner hands both the same string object)."""

    text: Optional[str] = None
    tree = None


def cpython_tree(text: str):
    """``ast.parse(text)`` with warnings silenced, for the prefilter and the checks before libcst. Raises what
    ``ast.parse`` raises, or :class:`SourceError` for a dotted name CPython would take minutes over."""
    import ast
    import warnings

    if _LastTree.text is text:
        return _LastTree.tree
    _check_dotted_names(text)
    from ecolint.heap import paused

    with warnings.catch_warnings(), paused():
        warnings.simplefilter("ignore")
        tree = ast.parse(text)
    _LastTree.text, _LastTree.tree = text, tree
    return tree


def forget_tree() -> None:
    """Drop the tree :func:`cpython_tree` keeps (the runner calls this when a file is done: a tree kept on into
    the next file would be moved to the collector's older generations, and walked by every full collection)."""
    _LastTree.text = _LastTree.tree = None


def _check_dotted_names(text: str) -> None:
    """CPython builds an imported dotted name in quadratic time (``import a.b.b.b...`` with 100,000 parts takes
    most of a minute): refuse such text before ``ast.parse`` sees it."""
    if "." in text:
        m = _LONG_DOTTED.search(text)
        if m is not None:
            line = text.count("\n", 0, m.start()) + 1
            raise SourceError(f"cannot parse Python: a dotted name with more than {MAX_DOTTED_PARTS} parts (nesting too deep)", line, 1)


def _encoding_problem(data: bytes, msg: str) -> str:
    """``detect_encoding`` says "invalid or missing encoding declaration" when the first two lines are not
    UTF-8 and carry no cookie: say that the file is not UTF-8 instead."""
    if data.startswith(b"\xef\xbb\xbf"):
        return f"the file starts with a UTF-8 byte-order mark but declares another encoding ({msg})"
    has_cookie = re.search(rb"^[ \t\f]*#.*?coding[:=]", b"\n".join(data.splitlines()[:2]), re.MULTILINE)
    if not has_cookie:
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as exc:
            return f"file is not valid UTF-8 and declares no encoding: {exc}"
    return f"cannot determine the file encoding: {msg}"


@dataclass
class ScriptFacts(FileFacts):
    """The facts of a script with IPython syntax (a notebook exported to ``.py``), analysed through
    ``ipython``: the text with that syntax blanked, every position kept."""

    ipython: Optional[Transformed] = None


def _accepted(text: str) -> Optional[Transformed]:
    """Raise :class:`SourceError` (ECO900) for text CPython refuses (see :func:`_precheck`). A script CPython
    refuses only because of IPython syntax (``!pip install``, ``%time``: a notebook exported to ``.py``) is
    accepted through its transformed text, which is returned; a real syntax error keeps its ECO900."""
    try:
        _precheck(text)
        return None
    except SourceError:
        transformed = transform(text, cell=False)
        if not transformed.changed or not transformed.python or transformed.text == text:
            raise
        _precheck(transformed.text)  # a real syntax error: reported where it is, not at the IPython line
        return transformed
    finally:
        forget_tree()  # not needed any more: free it before libcst builds its own


def extract(path: str, text: str, settings) -> FileFacts:
    import libcst

    from ecolint.sources import python as analysis

    ipython = _accepted(text)
    if ipython is not None:
        inner = extract(path, ipython.text, settings)
        return ScriptFacts(**{f.name: getattr(inner, f.name) for f in fields(FileFacts)}, ipython=ipython)
    try:
        if _LONE_BACKSLASH.search(text):
            _check_round_trip(text)
        return _with_big_stack(lambda: analysis.extract(path, text, settings.model_overrides))
    except libcst.ParserSyntaxError as exc:  # CPython accepted it: a gap in libcst's grammar
        raise _libcst_error(exc) from None
    except Exception as exc:  # noqa: BLE001 - only a recursion failure is translated; the rest propagate
        if caused_by_recursion(exc):
            raise _too_deep() from None
        raise


def _check_round_trip(text: str) -> None:
    """libcst drops a backslash continuation that stands alone at the start of a statement (``\\`` on its own
    line): every position after it is then one line off, and a fix would edit the wrong line. Such files are
    reported instead of analysed."""
    import libcst

    module = _with_big_stack(lambda: libcst.parse_module(text))
    if module.code != text:
        m = _LONE_BACKSLASH.search(text)
        line = text.count("\n", 0, m.start()) + 1 if m else 1
        raise SourceError(
            f"cannot analyse this file exactly: the Python parser ecolint uses does not reproduce it (a line holding only a backslash continuation, line {line})",
            line,
            1,
        )


def _too_deep() -> SourceError:
    return SourceError("cannot parse Python: nesting too deep", code="ECO900")


def _precheck(text: str) -> None:
    """Raise :class:`SourceError` (ECO900) for text CPython refuses, or too deep to hand to libcst."""
    import ast

    try:
        tree = cpython_tree(text)
        if sys.version_info < (3, 11) and _deeper_than(tree, MAX_TREE_DEPTH):
            raise _too_deep()  # (before compiling: 3.10 converts the tree back recursively, without a guard)
        _compile_checks(tree)
    except (RecursionError, MemoryError):
        raise _too_deep() from None
    except SyntaxError as err:
        if any(m in (err.msg or "") for m in _DEPTH_MESSAGES):
            raise _too_deep() from None
        raise _cpython_error(err) from None
    except (ValueError, OverflowError) as err:  # e.g. a NUL byte on some versions: CPython refuses the file
        raise SourceError(f"cannot parse Python: {err}") from None
    if len(_BOOL_WORDS.findall(text)) > MAX_BOOL_TERMS:
        for node in ast.walk(tree):
            if isinstance(node, ast.BoolOp) and len(node.values) > MAX_BOOL_TERMS:
                raise _too_deep()


def _compile_checks(tree) -> None:
    """The checks CPython's compiler adds to its parser's (``keyword argument repeated``, ``'return' outside
    function``, ``duplicate argument``, misplaced ``from __future__`` ...): compiling the tree ``ast.parse``
    already built costs a fraction of the parse. Top-level ``await`` is accepted, as notebooks and the asyncio
    REPL do (code exported from a notebook is still worth analysing)."""
    import ast
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        compile(tree, "<ecolint>", "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT, dont_inherit=True)


def cpython_rejects(text: str) -> Optional[SourceError]:
    """The ECO900 CPython's verdict gives ``text``, or None when it accepts it (used on fixed text before it
    is written)."""
    try:
        _accepted(text)
    except SourceError as err:
        return err
    return None


def _deeper_than(tree, limit: int) -> bool:
    """CPython 3.10 builds trees of any depth (``1+1+...`` with 100,000 terms, ``-----1``); from 3.11 on its
    parser refuses them, as libcst's native parser should but does not always (it can take minutes)."""
    import ast

    stack = [(tree, 0)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))
    return False


def _with_big_stack(fn: Callable[[], T]) -> T:
    """Run ``fn`` on a fresh thread with a large C stack and return its result (or raise its exception)."""
    box: dict = {}

    def target() -> None:
        try:
            box["value"] = fn()
        except BaseException as exc:  # noqa: BLE001 - handed back to the calling thread
            box["error"] = exc

    try:
        with _stack_lock:
            old = threading.stack_size(_PARSE_STACK)
            try:
                worker = threading.Thread(target=target, name="ecolint-parse", daemon=True)
                worker.start()
            finally:
                threading.stack_size(old)
    except (RuntimeError, ValueError, MemoryError):  # no threads, or no memory for the stack: parse here
        return fn()
    worker.join()
    if "error" in box:
        raise box["error"]
    return box["value"]


def _cpython_error(err: SyntaxError) -> SourceError:
    """CPython's own message and position (what users know from tracebacks)."""
    line = err.lineno or 1
    col = err.offset or 1
    return SourceError(f"cannot parse Python: {err.msg} (line {line})", line, max(1, col))


def _libcst_error(exc) -> SourceError:
    message = getattr(exc, "message", None) or str(exc).strip().splitlines()[0]
    return SourceError(f"cannot parse Python: {message}", getattr(exc, "raw_line", 1) or 1, (getattr(exc, "raw_column", 0) or 0) + 1)


class PythonFrontEnd(FrontEnd):
    """Python source: PEP 263 decoding, libcst analysis, the stdlib ``ast`` call-site check of the prefilter,
    tokenizer comments, and CPython's verdict on fixed text."""

    kind = "python"

    def decode(self, data: bytes) -> str:
        return decode(data)

    def extract(self, path: str, text: str, settings) -> FileFacts:
        return extract(path, text, settings)

    def tokens(self) -> Mapping[str, tuple[str, ...]]:
        from ecolint.prefilter import python_tokens

        return python_tokens()

    def site_check(self, text: str, needed: frozenset[str]) -> bool:
        from ecolint.prefilter import python_sites

        return python_sites(text, needed)

    def may_name_gpu(self, text: str) -> bool:
        from ecolint.sources.python.vocab import names_gpu

        return names_gpu(text)

    def comments(self, text: str):
        from ecolint.sources.comments import python_comments

        return python_comments(text)

    def encoding(self, data: bytes) -> str:
        import io
        import tokenize

        try:
            return tokenize.detect_encoding(io.BytesIO(data).readline)[0]
        except SyntaxError:
            return "utf-8"

    def rejects(self, text: str) -> Optional[SourceError]:
        return cpython_rejects(text)

    def analysed_text(self, text: str, facts: FileFacts) -> str:
        ipython = getattr(facts, "ipython", None)
        return ipython.text if ipython is not None else text

    def placement(self, facts: FileFacts) -> Optional[Placement]:
        """In a script analysed through its IPython-blanked text, a fix that would edit IPython syntax is
        advice only."""
        ipython: Optional[Transformed] = getattr(facts, "ipython", None)
        return IPythonPlacement(ipython) if ipython is not None else None


class IPythonPlacement(Placement):
    """Spans stay where they are; edits that touch IPython syntax cannot be applied."""

    def __init__(self, ipython: Transformed):
        self.ipython = ipython

    def edits(self, edits: list[Edit]) -> list[Edit]:
        if any(_touches(self.ipython, e.span) for e in edits):
            raise ValueError("it would edit IPython syntax")
        return edits


def _touches(ipython: Transformed, span) -> bool:
    return any(
        ipython.touches(row, span.col - 1 if row == span.line else 0, span.end_col - 1 if row == span.end_line else None)
        for row in range(span.line, span.end_line + 1)
    )


FRONT_END = PythonFrontEnd()
