"""Jupyter notebooks (``.ipynb``) as a front end: the Python front end over the notebook's virtual module.

The file's text (what the runner, the cache and ``--fix`` hold) is the notebook's JSON. :func:`decode` reads
it with :func:`ecolint.sources.notebook.load` (a file that is not an nbformat 4 notebook is one ECO900/ECO901)
and keeps the loaded notebook for the steps that follow on the same text. The facts are the Python front
end's facts of the virtual module (code cells joined in order, IPython syntax blanked with positions kept), plus
the GPU the notebook's metadata names. Rules and ``noqa`` work on the virtual module's positions
(:meth:`NotebookFrontEnd.analysed_text`); its :class:`CellPlacement` then moves every span to its cell
(``Span.cell``, rows counted inside the cell), adds one ECO900 per cell that is not valid Python, and turns a
fix whose edits would touch IPython syntax, a left-out cell or two cells into advice. Fixes are applied to the
cells' sources and spliced into the original JSON by :func:`ecolint.sources.notebook.write_back`, so only the
``source`` of the changed cells changes. A notebook whose kernel is not Python yields no facts.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping

from ecolint.facts import Edit, FileFacts, GpuHint, Span
from ecolint.sources import SourceError
from ecolint.sources.frontend import EditView, FrontEnd, Placement
from ecolint.sources.notebook import (
    CellSyntaxError,
    Notebook,
    VirtualModule,
    cell_edits,
    load,
    write_back,
)
from ecolint.text import split_lines
from ecolint.versions import install_pin

# JSON may spell an ASCII letter as ``\u0061``: substring search cannot see tokens written that way.
_ESCAPED_ASCII = re.compile(r"\\u00[2-7][0-9a-fA-F]")
_GPU_METADATA = re.compile(r'"(?:accelerator|gpuType|isGpuEnabled)"')
METADATA_SOURCE = "notebook metadata"
OUTPUT_ALLOWANCE = 16  # a notebook may be this many times max-file-size on disk; the limit applies to its code
_LINE_NOTE = re.compile(r" \(line \d+\)")  # CPython's "(line N)": a line of the virtual module
_LINE_REF = re.compile(r"\(line (\d+)\)")  # a rule's "(line N)" pointing at another place in the module


@dataclasses.dataclass
class NotebookFacts(FileFacts):
    """The facts of the virtual module (spans in its lines), with the notebook they came from."""

    notebook: Notebook | None = None


class _Last:
    """The notebook :func:`decode` loaded last, with its text (the prefilter and the front end then see the
    same string object)."""

    text: str | None = None
    notebook: Notebook | None = None


def notebook_of(text: str) -> Notebook:
    """The loaded notebook of ``text`` (raises :class:`NotebookError`)."""
    if _Last.text is not text and _Last.text != text:
        nb = load(text.encode("utf-8", "surrogatepass"))
        _Last.text, _Last.notebook = text, nb
    assert _Last.notebook is not None
    return _Last.notebook


def cell_source(text: str, cell: int) -> str | None:
    """The source of code cell ``cell`` of the notebook ``text`` (None when it has none): for code frames and
    fingerprints of findings in a notebook."""
    try:
        c = notebook_of(text).virtual.cell(cell)
    except SourceError:
        return None
    return c.source if c is not None else None


class NotebookFrontEnd(FrontEnd):
    kind = "notebook"

    def decode(self, data: bytes) -> str:
        from ecolint.sources.notebook import decode

        text = decode(data)
        notebook_of(text)  # a broken notebook is reported now, whatever the prefilter would say
        return text

    def read_limit(self, max_file_size: int) -> int:
        # Outputs (images, logs) are not analysed: a notebook may hold OUTPUT_ALLOWANCE times the limit on
        # disk, and the limit itself applies to its code cells (analysed_size).
        return max_file_size * OUTPUT_ALLOWANCE

    def analysed_size(self, data: bytes, text: str) -> int:
        return sum(len(c.source.encode("utf-8", "surrogatepass")) for c in notebook_of(text).cells)

    def extract(self, path: str, text: str, settings) -> FileFacts:
        nb = notebook_of(text)
        if not nb.is_python:
            return NotebookFacts(path, "python", notebook=nb)
        virtual = nb.virtual
        inner = _python_facts(path, virtual, settings)
        facts = NotebookFacts(**{f.name: getattr(inner, f.name) for f in dataclasses.fields(FileFacts)}, notebook=nb)
        installed = install_pin([(c.index, c.source) for c in nb.cells])
        if installed is not None:
            spec, dtype, cell = installed
            facts.transformers_install = (spec, dtype, f"`pip install` in cell {cell}")
        known = {h.gpu for h in facts.gpu_hints}
        for hint in nb.gpu_hints:
            if hint.gpu is not None and hint.gpu not in known:
                facts.gpu_hints.append(GpuHint(hint.gpu, None, METADATA_SOURCE))
                known.add(hint.gpu)
        return facts

    def tokens(self) -> Mapping[str, tuple[str, ...]]:
        from ecolint.sources.python_frontend import FRONT_END as PYTHON

        return PYTHON.tokens()

    def hides_tokens(self, text: str) -> bool:
        return _ESCAPED_ASCII.search(text) is not None

    def site_check(self, text: str, needed: frozenset[str]) -> bool:
        from ecolint.sources.python_frontend import FRONT_END as PYTHON

        try:
            nb = notebook_of(text)
        except SourceError:
            return True
        return nb.is_python and PYTHON.site_check(nb.virtual.text, needed)

    def may_name_gpu(self, text: str) -> bool:
        from ecolint.sources.python_frontend import FRONT_END as PYTHON

        return _GPU_METADATA.search(text) is not None or PYTHON.may_name_gpu(text)

    def comments(self, text: str):
        from ecolint.sources.comments import python_comments

        return python_comments(text)

    def rejects(self, text: str) -> SourceError | None:
        try:
            notebook_of(text)
        except SourceError as err:
            return err
        return None

    def analysed_text(self, text: str, facts: FileFacts) -> str:
        nb = getattr(facts, "notebook", None)
        return nb.virtual.text if nb is not None else text

    def placement(self, facts: FileFacts) -> Placement | None:
        nb: Notebook | None = getattr(facts, "notebook", None)
        return CellPlacement(nb.virtual) if nb is not None else None

    def edit_view(self, text: str) -> EditView:
        return VirtualEdits(text)

    def diff_parts(self, before: str, after: str, path: str) -> list[tuple[str, str, str]]:
        """One diff per changed cell, each labelled ``PATH:cell N`` (rows counted in the cell)."""
        old, new = load(before.encode("utf-8", "surrogatepass")), load(after.encode("utf-8", "surrogatepass"))
        out = []
        for cell in old.cells:
            changed = new.virtual.cell(cell.index)
            if changed is not None and changed.source != cell.source:
                out.append((cell.source, changed.source, f"{path}:cell {cell.index}"))
        return out


class CellPlacement(Placement):
    """Spans of the virtual module moved to their cells; a fix whose edits would touch IPython syntax, a left-out
    cell or two cells is advice only; one ECO900 per cell that is not valid Python."""

    def __init__(self, virtual: VirtualModule):
        self.virtual = virtual

    def span(self, span: Span) -> Span:
        return _cell_span(self.virtual, span)

    def edits(self, edits: list[Edit]) -> list[Edit]:
        cell_edits(self.virtual, edits)  # raises ValueError saying why they cannot be applied
        return [Edit(_cell_span(self.virtual, e.span), e.content) for e in edits]

    def message(self, message: str) -> str:
        return _LINE_REF.sub(lambda m: "(cell {}, line {})".format(*self.virtual.locate(int(m.group(1)))[:2]), message)

    def errors(self) -> list[tuple[str, str, Span]]:
        return [
            ("ECO900", f"cannot parse Python in cell {e.cell}: {e.message} (the other cells are analysed)", Span(e.line, e.col, e.line, e.col, e.cell))
            for e in self.virtual.errors
        ]


class VirtualEdits(EditView):
    """Fixes are applied to the virtual module; the changed cells' sources are spliced into the notebook's JSON."""

    def __init__(self, text: str):
        self.notebook_text = text
        self.virtual = notebook_of(text).virtual
        super().__init__(self.virtual.text)

    def span(self, span: Span) -> Span:
        return _virtual_span(self.virtual, span)

    def write(self, edits: list[Edit]) -> str | None:
        try:
            sources = cell_edits(self.virtual, edits)
        except ValueError:  # refused at placing time already; never write a half-applied notebook
            return None
        return write_back(self.notebook_text.encode("utf-8", "surrogatepass"), sources).decode("utf-8", "surrogatepass")


def _python_facts(path: str, virtual: VirtualModule, settings) -> FileFacts:
    """The Python front end's facts of the virtual module. A cell the whole module cannot hold (CPython's
    compiler checks that span statements, or a gap in the analysis) is left out like a broken cell, and the
    others are analysed again."""
    from ecolint.sources.python_frontend import extract

    for _ in range(len(virtual.cells) + 1):
        try:
            return extract(path, virtual.text, settings)
        except SourceError as err:
            if not _leave_out(virtual, err):
                raise
    return FileFacts(path, "python")


def _leave_out(virtual: VirtualModule, err: SourceError) -> bool:
    """Blank the cell holding ``err``'s position and record the error; False when no analysed cell holds it."""
    if not 1 <= err.line <= len(virtual.line_map):
        return False
    index, row, col = virtual.locate(err.line, err.col)
    cell = virtual.cell(index)
    if cell is None or cell.first_line == 0 or index in {e.cell for e in virtual.errors}:
        return False
    lines = split_lines(virtual.text, keepends=True)
    rows = range(cell.first_line - 1, cell.first_line - 1 + cell.line_count)
    if "from __future__ imports must occur" in err.message:  # fine at the top of a cell, which runs on its own
        rows = range(err.line - 1, err.line)
    else:
        message = _LINE_NOTE.sub("", err.message.removeprefix("cannot parse Python: "))
        virtual.errors.append(CellSyntaxError(index, row, col, message))
    for n in rows:
        body = lines[n].rstrip("\r\n")
        lines[n] = " " * len(body) + lines[n][len(body):]
    virtual.text = "".join(lines)
    return True


def _cell_span(virtual: VirtualModule, span: Span) -> Span:
    """``span`` (virtual lines) counted in its cell; an end past the cell is the end of its last line."""
    cell, row, col = virtual.locate(span.line, span.col)
    end_cell, end_row, end_col = virtual.locate(span.end_line, span.end_col)
    if end_cell != cell or span.end_line > len(virtual.line_map):
        c = virtual.cell(cell)
        lines = split_lines(c.source) if c is not None else []
        end_row = max(row, len(lines))
        end_col = len(lines[end_row - 1]) + 1 if lines else col
    return Span(row, col, end_row, end_col, cell)


def _virtual_span(virtual: VirtualModule, span: Span) -> Span:
    """The inverse of :func:`_cell_span` for spans inside one cell."""
    c = virtual.cell(span.cell) if span.cell is not None else None
    if c is None or c.first_line == 0:
        return span
    return Span(c.first_line + span.line - 1, span.col, c.first_line + span.end_line - 1, span.end_col)


FRONT_END = NotebookFrontEnd()
