"""Fact-list name -> the words in a YAML/TOML file that can make the config dialects add to that list
(the union of every dialect's ``tokens``; see :mod:`ecolint.sources.dialects.base`)."""

from __future__ import annotations

from ecolint.sources import dialects

TOKENS: dict[str, tuple[str, ...]] = dialects.tokens()
