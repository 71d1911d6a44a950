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
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else "syntax error"
        raise SourceError(f"cannot parse Python: {exc.message if hasattr(exc, 'message') else first}", exc.raw_line, exc.raw_column + 1) from None
    except RecursionError:
        raise SourceError("cannot parse Python: nesting too deep", code="ECO900") from None
