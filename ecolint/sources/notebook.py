"""Jupyter notebooks (``.ipynb``): code cells joined into one virtual Python module, and fixes written back.

The file is read with :mod:`json`, not with ``nbformat``: nbformat imports jsonschema and its schema files
(tens of milliseconds and several megabytes per process, paid by every worker), validates outputs the linter
never reads, and its writer re-serialises the whole document, so a fix could not keep the file's own layout
anyway. Only the structure this module relies on is checked here (nbformat 4, a list of cells, each with a
``cell_type`` and a ``source`` string or list of strings); the tests validate notebooks with nbformat.

* :func:`load` parses the bytes once (outputs are parsed by the C decoder but never looked at, copied or
  kept) and returns a :class:`Notebook`: its code cells in order, numbered 1-based among *all* cells as Jupyter
  and ruff number them, the notebook's GPU metadata, and the virtual module.
* The virtual module is the code cells' text, each passed through :func:`ecolint.sources.ipython.transform`
  (positions kept), one after the other, so a name bound in cell 3 resolves in cell 7. A cell that is not
  valid Python on its own is left out (blank lines) and reported in :attr:`VirtualModule.errors`, so one
  broken cell does not hide the findings of the others. :meth:`VirtualModule.locate` maps a virtual line back
  to (cell, line in cell); columns are the same.
* :func:`cell_edits` turns edits on the virtual module into new cell sources, refusing edits that touch
  IPython lines or span cells; :func:`write_back` splices those sources into the original bytes, changing
  nothing else (indentation, key order, list-or-string ``source``, escapes, line endings, trailing newline).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ecolint.sources import SourceError
from ecolint.sources.ipython import Transformed, transform
from ecolint.text import split_lines


class NotebookError(SourceError):
    """A file that is not a notebook this module can read: ECO901 when it is not text, ECO900 otherwise."""


@dataclass(frozen=True)
class CodeCell:
    index: int  # 1-based among all cells (markdown and raw cells count), as Jupyter and ruff number them
    source: str  # the cell's text as written (the ``source`` list joined)
    transformed: Transformed
    first_line: int = 0  # the cell's first line in the virtual module (1-based; 0: the cell has no lines)

    @property
    def line_count(self) -> int:
        return len(split_lines(self.source))


@dataclass(frozen=True)
class CellSyntaxError:
    cell: int
    line: int  # in the cell
    col: int
    message: str


@dataclass(frozen=True)
class MetadataGpu:
    """A GPU named by the notebook's metadata: ``name`` as written (``T4``, ``nvidiaTeslaT4``), ``where`` the key
    path (``metadata.colab.gpuType``), ``gpu`` the GPU registry's id when it knows the name."""

    name: str
    where: str
    gpu: str | None = None


@dataclass
class VirtualModule:
    text: str
    cells: list[CodeCell]
    line_map: list[tuple[int, int]]  # virtual line n (1-based) -> line_map[n - 1] = (cell index, line in cell)
    errors: list[CellSyntaxError] = field(default_factory=list)

    def locate(self, line: int, col: int = 1) -> tuple[int, int, int]:
        """(cell index, line in cell, column) of a virtual position. A position past the last line (the end of
        a span that stops at the end of the module) maps to the end of the last cell's last line."""
        if 1 <= line <= len(self.line_map):
            cell, row = self.line_map[line - 1]
            return cell, row, col
        if not self.line_map:
            return 0, line, col
        cell, row = self.line_map[-1]
        return cell, row, col

    def cell(self, index: int) -> CodeCell | None:
        return next((c for c in self.cells if c.index == index), None)

    def blanked(self, line: int) -> bool:
        """Whether virtual line ``line`` held IPython syntax (or belongs to a cell left out): never edit it."""
        if not 1 <= line <= len(self.line_map):
            return False
        index, row = self.line_map[line - 1]
        c = self.cell(index)
        return c is None or not c.transformed.python or row in c.transformed.blanked or index in {e.cell for e in self.errors}


@dataclass
class Notebook:
    cells: list[CodeCell]  # code cells only, in order
    cell_count: int  # all cells
    metadata: dict
    language: str  # "python" unless the kernel says otherwise
    virtual: VirtualModule
    gpu_hints: list[MetadataGpu]

    @property
    def is_python(self) -> bool:
        return self.language == "python"


# -- reading --------------------------------------------------------------------------------------------------


def decode(data: bytes) -> str:
    """The notebook's text: UTF-8 (a byte-order mark is allowed), as Jupyter writes it."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if b"\x00" in data[:4096]:
        raise NotebookError("not a notebook: the file holds NUL bytes (binary data)", code="ECO901")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise NotebookError(f"not a notebook: the file is not valid UTF-8 ({exc})", code="ECO901") from None


def load(data: bytes) -> Notebook:
    """Parse a notebook's bytes; raise :class:`NotebookError` for anything that is not an nbformat 4 notebook."""
    text = decode(data)
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise NotebookError(f"not a notebook: invalid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})", exc.lineno, exc.colno) from None
    except RecursionError:
        raise NotebookError("not a notebook: JSON nested too deeply") from None
    return from_document(doc)


def from_document(doc: Any) -> Notebook:
    if not isinstance(doc, dict):
        raise NotebookError("not a notebook: the JSON document is not an object")
    major = doc.get("nbformat")
    if "worksheets" in doc or major == 3:
        raise NotebookError("notebook format 3 (worksheets) is not supported: save it again with a current Jupyter (format 4)")
    if not isinstance(major, int) or isinstance(major, bool):
        raise NotebookError("not a notebook: no integer \"nbformat\" version")
    if major != 4:
        raise NotebookError(f"notebook format {major} is not supported (only format 4)")
    raw_cells = doc.get("cells")
    if not isinstance(raw_cells, list):
        raise NotebookError("not a notebook: \"cells\" is missing or not a list")
    metadata = doc.get("metadata")
    if metadata is None:
        metadata = {}
    if not isinstance(metadata, dict):
        raise NotebookError("not a notebook: \"metadata\" is not an object")
    code: list[tuple[int, str]] = []
    for n, cell in enumerate(raw_cells, 1):
        if not isinstance(cell, dict) or not isinstance(cell.get("cell_type"), str):
            raise NotebookError(f"not a notebook: cell {n} has no \"cell_type\"")
        if cell["cell_type"] != "code":
            continue
        code.append((n, source_text(cell.get("source"), n)))
    language = _language(metadata)
    virtual = virtual_module(code) if language == "python" else VirtualModule("", [], [])
    return Notebook(virtual.cells, len(raw_cells), metadata, language, virtual, gpu_hints(metadata))


def source_text(source: Any, index: int = 0) -> str:
    if isinstance(source, str):
        return source
    if isinstance(source, list) and all(isinstance(s, str) for s in source):
        return "".join(source)
    raise NotebookError(f"not a notebook: the source of cell {index} is neither a string nor a list of strings")


def _language(metadata: dict) -> str:
    for key, sub in (("kernelspec", "language"), ("language_info", "name")):
        part = metadata.get(key)
        if isinstance(part, dict) and isinstance(part.get(sub), str) and part[sub].strip():
            return part[sub].strip().lower()
    return "python"


def virtual_module(cells: Iterable[tuple[int, str]], check_syntax: bool = True) -> VirtualModule:
    """Join ``(cell index, source)`` pairs into one module. With ``check_syntax``, a cell CPython refuses on
    its own is blanked and listed in ``errors`` (its positions stay, so the other cells' lines do not move)."""
    parts: list[str] = []
    line_map: list[tuple[int, int]] = []
    out: list[CodeCell] = []
    errors: list[CellSyntaxError] = []
    for index, source in cells:
        transformed = transform(source)
        text = transformed.text
        if check_syntax and transformed.python:
            problem = _syntax_error(text)
            if problem is not None:
                errors.append(CellSyntaxError(index, *problem))
                text = "".join(_blank(line) for line in split_lines(text, keepends=True))
        lines = split_lines(text, keepends=True)
        if lines and not lines[-1].endswith(("\n", "\r")):
            lines[-1] += "\n"
        out.append(CodeCell(index, source, transformed, len(line_map) + 1 if lines else 0))
        line_map.extend((index, row) for row in range(1, len(lines) + 1))
        parts.extend(lines)
    return VirtualModule("".join(parts), out, line_map, errors)


def _syntax_error(text: str) -> tuple[int, int, str] | None:
    import ast
    import warnings

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            compile(text, "<cell>", "exec", flags=ast.PyCF_ONLY_AST | ast.PyCF_ALLOW_TOP_LEVEL_AWAIT, dont_inherit=True)
    except SyntaxError as err:
        return err.lineno or 1, max(1, err.offset or 1), err.msg
    except (ValueError, RecursionError, MemoryError, OverflowError) as err:
        return 1, 1, str(err) or type(err).__name__
    return None


def _blank(line: str) -> str:
    body = line.rstrip("\r\n")
    return " " * len(body) + line[len(body):]


# -- metadata -------------------------------------------------------------------------------------------------

# metadata.accelerator / metadata.colab.accelerator name a class ("GPU", "TPU"), metadata.colab.gpuType the card
# ("T4", "A100", "L4", "V100"); Kaggle: metadata.kaggle.accelerator ("nvidiaTeslaT4", "gpu") with isGpuEnabled.
_GPU_KEYS = (
    ("colab", "gpuType"),
    ("kaggle", "accelerator"),
    ("colab", "accelerator"),
    (None, "accelerator"),
)


def gpu_hints(metadata: Mapping) -> list[MetadataGpu]:
    """The GPUs the notebook's metadata names (most specific first). ``"GPU"`` alone names no card: it is kept
    with ``gpu=None`` (the notebook ran on some GPU) so callers can tell "on a GPU" from "nothing known"."""
    hints: list[MetadataGpu] = []
    kaggle = metadata.get("kaggle")
    kaggle_off = isinstance(kaggle, dict) and kaggle.get("isGpuEnabled") is False
    for section, key in _GPU_KEYS:
        holder = metadata if section is None else metadata.get(section)
        if not isinstance(holder, dict):
            continue
        value = holder.get(key)
        if not isinstance(value, str) or not value.strip() or value.strip().lower() in ("none", "cpu", "tpu"):
            continue
        if section == "kaggle" and kaggle_off:
            continue
        where = "metadata." + (f"{section}." if section else "") + key
        hints.append(MetadataGpu(value.strip(), where, _registry_id(value.strip())))
    if isinstance(kaggle, dict) and kaggle.get("isGpuEnabled") is True and not any(h.where.startswith("metadata.kaggle") for h in hints):
        hints.append(MetadataGpu("GPU", "metadata.kaggle.isGpuEnabled", None))
    return hints


def _registry_id(name: str) -> str | None:
    if name.upper() == "GPU":
        return None
    from ecolint.knowledge.gpus import resolve_gpu

    info = resolve_gpu(name)
    return info.id if info is not None else None


# -- fixes ----------------------------------------------------------------------------------------------------


def cell_edits(virtual: VirtualModule, edits: Iterable[Any]) -> dict[int, str]:
    """New sources of the cells that ``edits`` (objects with ``span.line/col/end_line/end_col`` in virtual
    positions, 1-based, end exclusive, and ``content``, like :class:`ecolint.facts.Edit`) change. Positions in a
    cell's transformed text are positions in its source, so each edit applies to the source as written. Raises
    ValueError for an edit on an IPython line or a left-out cell, or one spanning two cells."""
    by_cell: dict[int, list[tuple[int, int, int, int, str]]] = {}
    for edit in edits:
        s = edit.span
        cell, row, col = virtual.locate(s.line, s.col)
        end_cell, end_row, end_col = virtual.locate(s.end_line, s.end_col)
        if s.end_line > len(virtual.line_map):  # the end of the module: the end of the last cell's last line
            end_col = len(split_lines(virtual.cell(end_cell).source)[end_row - 1]) + 1 if virtual.cell(end_cell) else s.end_col  # type: ignore[union-attr]
        if cell != end_cell:
            raise ValueError(f"an edit spans cells {cell} and {end_cell}")
        c = virtual.cell(cell)
        if c is None or not c.transformed.python or cell in {e.cell for e in virtual.errors}:
            raise ValueError(f"an edit touches cell {cell}, which is not analysed as Python")
        for r in range(row, end_row + 1):
            first = col - 1 if r == row else 0
            last = end_col - 1 if r == end_row else None
            if c.transformed.touches(r, first, last):
                raise ValueError(f"an edit touches line {r} of cell {cell}, which is not Python")
        by_cell.setdefault(cell, []).append((row, col, end_row, end_col, edit.content))
    result: dict[int, str] = {}
    for index, changes in by_cell.items():
        c = virtual.cell(index)
        assert c is not None
        result[index] = _apply(c.source, changes)
    return result


def _apply(source: str, changes: list[tuple[int, int, int, int, str]]) -> str:
    from ecolint.text import line_starts

    starts = line_starts(source)

    def offset(row: int, col: int) -> int:
        if row > len(starts):
            return len(source)
        return min(starts[row - 1] + col - 1, len(source))

    ordered = sorted(((offset(r, c), offset(er, ec), content) for r, c, er, ec, content in changes), reverse=True)
    last_start = len(source) + 1
    for start, end, content in ordered:
        if end > last_start:
            raise ValueError("overlapping edits")
        source = source[:start] + content + source[end:]
        last_start = start
    return source


def write_back(original: bytes, new_sources: Mapping[int, str]) -> bytes:
    """``original`` with the ``source`` of each cell in ``new_sources`` (1-based cell index -> text) replaced,
    in the style it was written (a list of lines or one string, the same indentation, escapes and line
    endings), and every other byte unchanged. A source equal to the cell's current one changes nothing."""
    if not new_sources:
        return original
    bom = b"\xef\xbb\xbf" if original.startswith(b"\xef\xbb\xbf") else b""
    text = decode(original)
    spans = _source_spans(text)
    style = _Style.of(text)
    pieces: list[str] = []
    pos = 0
    for index in sorted(new_sources):
        if index not in spans:
            raise ValueError(f"the notebook has no cell {index} with a source")
        start, end, key_indent = spans[index]
        old_value = json.loads(text[start:end])
        new = new_sources[index]
        if source_text(old_value, index) == new:
            continue
        pieces.append(text[pos:start])
        pieces.append(style.value(text[start:end], old_value, new, key_indent))
        pos = end
    if not pieces:
        return original
    pieces.append(text[pos:])
    return bom + "".join(pieces).encode("utf-8")


class _Style:
    def __init__(self, newline: str, indent_unit: str, ensure_ascii: bool):
        self.newline = newline
        self.indent_unit = indent_unit
        self.ensure_ascii = ensure_ascii

    @classmethod
    def of(cls, text: str) -> _Style:
        newline = "\r\n" if "\r\n" in text[:4096] else "\n"
        m = re.search(r"\{(?:\r?\n)([ \t]+)\"", text)
        indent_unit = m.group(1) if m else " "
        raw_non_ascii = any(ord(c) > 127 for c in text)
        escaped = re.search(r"\\u(?:00[89a-fA-F][0-9a-fA-F]|0[1-9a-fA-F][0-9a-fA-F]{2}|[1-9a-fA-F][0-9a-fA-F]{3})", text) is not None
        return cls(newline, indent_unit, escaped and not raw_non_ascii)

    def dump(self, s: str) -> str:
        return json.dumps(s, ensure_ascii=self.ensure_ascii)

    def value(self, old_text: str, old_value: Any, new: str, key_indent: str) -> str:
        if isinstance(old_value, str):
            return self.dump(new)
        lines = split_lines(new, keepends=True)
        if not lines:
            return "[]"
        if "\n" not in old_text and "\r" not in old_text and len(old_value) > 0:
            m = re.match(r"\[(\s*)", old_text)
            sep = "," + (m.group(1) if m and m.group(1) else " ")
            return "[" + (m.group(1) if m else "") + sep.join(self.dump(x) for x in lines) + "]"
        if old_value:
            m = re.match(r"\[(\s*)", old_text)
            lead = m.group(1) if m else self.newline + key_indent + self.indent_unit
            tail = re.search(r"(\s*)\]\Z", old_text)
            close = tail.group(1) if tail else self.newline + key_indent
        else:
            lead = self.newline + key_indent + self.indent_unit
            close = self.newline + key_indent
        return "[" + lead + ("," + lead).join(self.dump(x) for x in lines) + close + "]"


# A small JSON scanner that keeps offsets: it finds each cell's "source" value in the original text. Strings
# (which hold the outputs' megabytes) are skipped by one regular-expression match each.
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_SCALAR = re.compile(r"-?\d[\d.eE+-]*|true|false|null")
_WS = re.compile(r"[ \t\r\n]*")


def _source_spans(text: str) -> dict[int, tuple[int, int, str]]:
    """1-based cell index -> (start, end, indentation of the line holding its "source" key) of each cell's
    ``source`` value in ``text``."""
    pos = _WS.match(text).end()  # type: ignore[union-attr]
    spans: dict[int, tuple[int, int, str]] = {}
    if text[pos : pos + 1] != "{":
        raise ValueError("not a JSON object")
    for key, start, _end in _members(text, pos):
        if key == "cells" and text[start] == "[":
            for n, (cstart, _cend) in enumerate(_elements(text, start), 1):
                if text[cstart] != "{":
                    continue
                for ckey, vstart, vend in _members(text, cstart):
                    if ckey == "source":
                        line_start = text.rfind("\n", 0, vstart) + 1
                        indent = _WS.match(text, line_start).group(0).replace("\n", "").replace("\r", "")  # type: ignore[union-attr]
                        spans[n] = (vstart, vend, indent)
    return spans


def _members(text: str, pos: int):
    """(key, value start, value end) of each member of the object starting at ``text[pos] == "{"``."""
    pos = _WS.match(text, pos + 1).end()  # type: ignore[union-attr]
    if text[pos] == "}":
        return
    while True:
        m = _STRING.match(text, pos)
        if m is None:
            raise ValueError(f"expected a key at offset {pos}")
        key = json.loads(m.group(0))
        pos = _WS.match(text, m.end()).end()  # type: ignore[union-attr]
        pos = _WS.match(text, pos + 1).end()  # type: ignore[union-attr]  # the colon
        end = _skip(text, pos)
        yield key, pos, end
        pos = _WS.match(text, end).end()  # type: ignore[union-attr]
        if text[pos] == "}":
            return
        pos = _WS.match(text, pos + 1).end()  # type: ignore[union-attr]  # the comma


def _elements(text: str, pos: int):
    pos = _WS.match(text, pos + 1).end()  # type: ignore[union-attr]
    if text[pos] == "]":
        return
    while True:
        end = _skip(text, pos)
        yield pos, end
        pos = _WS.match(text, end).end()  # type: ignore[union-attr]
        if text[pos] == "]":
            return
        pos = _WS.match(text, pos + 1).end()  # type: ignore[union-attr]


def _skip(text: str, pos: int) -> int:
    """The end of the JSON value starting at ``pos``, iteratively (no recursion on deep outputs)."""
    depth = 0
    while True:
        c = text[pos]
        if c == '"':
            m = _STRING.match(text, pos)
            if m is None:
                raise ValueError(f"unterminated string at offset {pos}")
            pos = m.end()
        elif c in "[{":
            depth += 1
            pos += 1
        elif c in "]}":
            depth -= 1
            pos += 1
        elif c in ",: \t\r\n":
            pos += 1
            continue
        else:
            m = _SCALAR.match(text, pos)
            if m is None:
                raise ValueError(f"unexpected character at offset {pos}")
            pos = m.end()
        if depth == 0:
            return pos
