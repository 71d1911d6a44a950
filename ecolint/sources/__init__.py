"""Front ends: each turns one kind of file into :class:`~ecolint.facts.FileFacts`.

The interface and the registry are in :mod:`ecolint.sources.frontend`: ``kind_for`` decides a file's kind from
its name, ``front_end(kind)`` returns the :class:`~ecolint.sources.frontend.FrontEnd` object, whose
``extract(path, text, settings)`` raises :class:`SourceError` (or its parser's own syntax error) for input it
cannot parse. Front-end modules are imported lazily so a run that parses nothing imports no parser.
"""

from __future__ import annotations

from typing import Optional

from ecolint.sources.frontend import FrontEnd, SourceError, front_end, kind_for

__all__ = ["FrontEnd", "SourceError", "caused_by_recursion", "front_end", "kind_for"]


def caused_by_recursion(exc: BaseException) -> bool:
    """A RecursionError, or an error raised while one was being handled (libcst's context managers turn
    some into KeyError on the way out)."""
    seen: set[int] = set()
    cur: Optional[BaseException] = exc
    while cur is not None and id(cur) not in seen:
        if isinstance(cur, RecursionError):
            return True
        seen.add(id(cur))
        cur = cur.__cause__ or cur.__context__
    return False
