"""Python front end: a libcst syntax tree -> :class:`~ecolint.facts.FileFacts`.

Everything comes from the tree, never from raw text: a ``load_in_8bit=True`` inside a comment, docstring or
string is not a fact. The package holds:

* :mod:`.vocab` -- the words the front end recognises, shared with the prefilter (standard library only);
* :mod:`.resolve` -- names, values and scopes (what an expression evaluates to, as far as the file says);
* :mod:`.recognise` -- the APIs that load, quantize, place and run models, and training markers;
* :mod:`.edits` and :mod:`.brackets` -- the minimal text edits that fixes are made of;
* :mod:`.passes` -- the two passes over the tree and :func:`extract` (a module named after the function would
  shadow it).

Importing the package imports no parser (the prefilter reads :mod:`.vocab` on runs that parse nothing).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Optional

if TYPE_CHECKING:  # pragma: no cover
    from ecolint.facts import FileFacts


def extract(path: str, text: str, overrides: Optional[dict] = None) -> FileFacts:
    """Parse ``text`` and return its facts. Raises ``libcst.ParserSyntaxError`` on invalid Python."""
    from ecolint.sources.python.passes import extract as run

    return run(path, text, overrides)
