"""Floating-point dtype spellings and their canonical names, for every front end.

``torch.float16``, ``"float16"``, ``"half"`` and ``--dtype fp16`` all name one precision: ``fp16``. Front ends
map what they read with :func:`dtype_name`; a spelling not listed here is ``"other"``.
"""

from __future__ import annotations

from typing import Optional

DTYPE_NAMES: dict[str, str] = {
    "float32": "fp32",
    "float": "fp32",
    "fp32": "fp32",
    "float16": "fp16",
    "half": "fp16",
    "fp16": "fp16",
    "bfloat16": "bf16",
    "bf16": "bf16",
    "auto": "auto",
}


def dtype_name(spelling: str) -> str:
    """The canonical name of a dtype spelling (the last dotted part, any case), ``"other"`` when unknown."""
    return DTYPE_NAMES.get(spelling.strip().rsplit(".", 1)[-1].lower(), "other")


#: ``torch`` attributes that are dtypes, spelled exactly (attributes are case-sensitive: ``torch.Bfloat16`` does not
#: exist and is no dtype of ours).
TORCH_DTYPES: dict[str, str] = {"float32": "fp32", "float": "fp32", "float16": "fp16", "half": "fp16", "bfloat16": "bf16"}


def torch_dtype_name(dotted: str) -> str:
    """The canonical name of ``torch.<attr>`` (exact spelling), ``"other"`` for any other attribute."""
    return TORCH_DTYPES.get(dotted.strip().rsplit(".", 1)[-1], "other")


def canonical_dtype(value: object) -> Optional[str]:
    """:func:`dtype_name` of a string value; None for anything else (a number, a list, an unknown value)."""
    return dtype_name(value) if isinstance(value, str) else None


def precision_name(spelling: str) -> str:
    """A weight precision in the advisor's vocabulary: a dtype spelling becomes its canonical name
    (``bfloat16`` -> ``bf16``); anything else (``fp8``, ``mxfp4``) is kept as written."""
    name = dtype_name(spelling)
    return spelling if name in ("other", "auto") else name
