"""ecolint's fast CST walk and position computation read libcst internals (private names). pyproject bounds
libcst below 2; these tests say plainly which internal went missing if a libcst release drops one."""

from __future__ import annotations

import re
from pathlib import Path

import libcst as cst
import pytest

HINT = ("libcst changed an internal that ecolint.sources.cst_walk / cst_positions rely on; pin libcst to the "
        "last release that has it, or update those modules")


def _need(condition: bool, what: str) -> None:
    if not condition:
        pytest.fail(f"{what} is missing: {HINT}", pytrace=False)


def test_position_provider_internals():
    try:
        from libcst.metadata.position_provider import NEWLINE_RE, PositionProvidingCodegenState  # noqa: F401
    except ImportError as exc:  # pragma: no cover - only on an incompatible libcst
        pytest.fail(f"libcst.metadata.position_provider.{exc.name or exc}: {HINT}", pytrace=False)
    provider = cst.metadata.PositionProvider()
    _need(isinstance(getattr(provider, "_computed", None), dict), "PositionProvider()._computed (a dict)")
    _need(callable(getattr(cst.Module([]), "_codegen", None)), "CSTNode._codegen")


def test_visit_order_is_readable_from_the_node_classes():
    from ecolint.sources.cst_walk import _fields_in_visit_order

    for node_type, fields in ((cst.Call, ("func", "args")), (cst.Assign, ("targets", "value")), (cst.Attribute, ("value", "attr"))):
        _need(hasattr(node_type, "_visit_and_replace_children"), f"{node_type.__name__}._visit_and_replace_children")
        order = _fields_in_visit_order(node_type)
        _need(order is not None and all(f in order for f in fields),
              f"the field names in {node_type.__name__}._visit_and_replace_children's constants")


def test_libcst_is_bounded_in_pyproject():
    text = (Path(__file__).resolve().parent.parent / "pyproject.toml").read_text(encoding="utf-8")
    assert re.search(r'"libcst>=[0-9.]+,<2"', text), "pyproject.toml must bound libcst (<2): ecolint reads its internals"
