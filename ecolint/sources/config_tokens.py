"""Fact-list name -> the words in a YAML/TOML file that can make the config dialects add to that list.

The union of every dialect's ``tokens`` (see :mod:`ecolint.sources.dialects.base`) and of the launch vocabulary
the dialects share with the shell and Dockerfile front ends (:mod:`ecolint.sources.launch`: serving flags and
environment variables inside ``args:``/``command:``/``env:``). Nobody writes a token twice: a synonym added to a
dialect's table reaches the prefilter by itself. Tokens are matched case-insensitively.
"""

from __future__ import annotations

from ecolint.sources import dialects, launch


def _tokens() -> dict[str, tuple[str, ...]]:
    own = dialects.tokens()
    facts = set(own) | set(launch.TOKENS)
    facts -= {"training"}  # a flag on the file, not a fact list: rules read lists
    return {fact: tuple(dict.fromkeys([*own.get(fact, ()), *launch.TOKENS.get(fact, ())])) for fact in sorted(facts)}


#: Fact list -> tokens for the YAML and TOML front ends.
TOKENS: dict[str, tuple[str, ...]] = _tokens()
