"""A resolved option of a call or dict literal (see :mod:`ecolint.sources.python.resolve`): its
own module so that the project hook (:mod:`ecolint.project.bridge`) can build one without importing the resolver
that calls it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import libcst as cst

from ecolint.facts import Value


@dataclass(eq=False)
class Item:
    """A resolved option of a call or dict literal: its value, the syntax element that holds it (an ``Arg`` or a
    ``DictElement``, whose ``value`` is the expression as written) and the call or dict it belongs to."""

    value: Value
    element: Any  # cst.Arg | cst.DictElement | cst.StarredDictElement (the use site, for a value from elsewhere)
    container: cst.CSTNode
    elsewhere: str = ""  # the file the value is written in, when it is another module of the project

    @property
    def expression(self) -> cst.BaseExpression:
        """The option's expression as written (``torch.float16`` in ``torch_dtype=torch.float16``); for a value
        from another module, the expression that uses it here."""
        inner = getattr(self.element, "value", None)
        return inner if isinstance(inner, cst.BaseExpression) else self.element
