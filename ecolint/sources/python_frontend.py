"""Adapter between the runner and the libcst analysis in :mod:`ecolint.sources.python`."""

from __future__ import annotations

from ecolint.facts import FileFacts
from ecolint.sources import SourceError


def decode(data: bytes) -> str:
    """Decode Python source honouring a BOM and a PEP 263 coding cookie."""
    import io
    import tokenize

    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as exc:
        raise SourceError(f"cannot determine the file encoding: {exc.msg}", code="ECO901") from None
    try:
        text = data.decode(encoding)
    except (UnicodeDecodeError, LookupError) as exc:
        raise SourceError(f"file is not valid {encoding}: {exc}", code="ECO901") from None
    if text.startswith("\ufeff"):
        text = text[1:]
    return text


def extract(path: str, text: str, settings) -> FileFacts:
    import libcst

    from ecolint.sources import python as analysis

    try:
        return analysis.extract(path, text, settings.model_overrides)
    except libcst.ParserSyntaxError as exc:
        raise _syntax_error(text, exc) from None
    except RecursionError:
        raise SourceError("cannot parse Python: nesting too deep", code="ECO900") from None


def _syntax_error(text: str, exc) -> SourceError:
    """Prefer CPython's own message and position (what users know from tracebacks) over libcst's."""
    import ast
    import warnings

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ast.parse(text)
    except SyntaxError as err:
        line = err.lineno or 1
        col = err.offset or 1
        return SourceError(f"cannot parse Python: {err.msg} (line {line})", line, max(1, col))
    except (ValueError, RecursionError, MemoryError):
        pass
    message = getattr(exc, "message", None) or str(exc).strip().splitlines()[0]
    return SourceError(f"cannot parse Python: {message}", getattr(exc, "raw_line", 1) or 1, (getattr(exc, "raw_column", 0) or 0) + 1)
