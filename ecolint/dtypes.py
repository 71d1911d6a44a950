"""Floating-point dtype spellings and their canonical names, for every front end.

``torch.float16``, ``"float16"``, ``"half"`` and ``--dtype fp16`` all name one precision: ``fp16``. Front ends
map what they read with :func:`dtype_name`; a spelling not listed here is ``"other"``.
"""

from __future__ import annotations

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
    return DTYPE_NAMES.get(spelling.rsplit(".", 1)[-1].lower(), "other")
