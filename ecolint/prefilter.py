"""Deciding cheaply which files are worth a full parse.

Two stages, both conservative (a file is only dropped when no enabled rule can report on it):

1. **Tokens** (every kind of file): a rule is *live* on a file when the text holds one of the tokens from which
   the file's front end can produce a fact the rule reads (``FrontEnd.tokens``, matched case-insensitively). The
   tokens come from the front ends' own vocabulary tables, so a synonym a front end learns reaches the prefilter
   by itself. A rule's ``Rule.triggers`` narrow this further (both must match); a test checks every built-in
   rule's triggers against every front end's tokens for the facts it reads. A rule without ``Rule.reads`` is
   live wherever one of its triggers occurs (everywhere without triggers). A rule with ``needs_gpu`` is only
   live when a GPU is set or the front end says the file may name one. A file is also kept when it carries a
   ``noqa`` directive that names an ECO code (ECO902 must be able to report it unused).
2. **Call sites** (``FrontEnd.site_check``; today Python): a live rule only matters when the file holds a
   syntax site that can produce the facts the rule reads. For Python that is decided on the stdlib ``ast``
   (about ten times cheaper than libcst), so words in docstrings, comments and strings do not count. The site
   vocabulary mirrors what :mod:`ecolint.sources.python` turns into facts (shared words come from
   :mod:`ecolint.sources.python.vocab`); tests compare prefiltered and
   unfiltered runs over the fixtures, every rule example and generated corpora (per config dialect too).

Only syntax errors are reported differently: a file dropped here is never parsed, so its syntax is not checked
(the same holds for a file without any token).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import TYPE_CHECKING, Callable, Mapping, Optional

from ecolint.sources.python.vocab import MODEL_CLASS, NOT_MODEL

if TYPE_CHECKING:  # pragma: no cover
    from ecolint.runner import Engine

_NOQA_ECO = re.compile(r"noqa[^\n]*?eco", re.IGNORECASE)

ALL = None  # "reads any fact"


def rule_facts(rule) -> Optional[tuple[str, ...]]:
    facts = getattr(rule, "reads", None)
    return tuple(facts) if facts is not None else ALL


@lru_cache(maxsize=None)
def fact_tokens(kind: str, facts: tuple[str, ...]) -> Optional[tuple[str, ...]]:
    """The lower-cased tokens from which the ``kind`` front end can produce one of ``facts``; None when any text
    can (a fact list the front end does not describe)."""
    from ecolint.sources import front_end

    table = front_end(kind).tokens()
    out: list[str] = []
    for fact in facts:
        tokens = table.get(fact)
        if tokens is None:
            return None
        out.extend(t.lower() for t in tokens)
    return tuple(dict.fromkeys(out))


def live_rules(text: str, kind: str, engine: "Engine", gpu_known: bool = False) -> list:
    """Enabled rules that can report on ``text`` (stage 1): a token of a fact they read is in it, and one of
    their triggers when they have any. ``gpu_known``: another file names the GPU (a companion)."""
    from ecolint.sources import front_end

    fe = front_end(kind)
    has = _words_of(text)
    hidden = fe.hides_tokens(text)
    no_gpu: Optional[bool] = None
    out = []
    for rule in engine.rules:
        facts = rule_facts(rule)
        tokens = None if facts is ALL or hidden else fact_tokens(kind, facts)
        if tokens is not None and not any(map(has, tokens)):
            continue
        triggers = getattr(rule, "triggers", ())
        if triggers and not hidden and not any(has(t.lower()) for t in triggers):
            continue
        if getattr(rule, "needs_gpu", False) and not engine.settings.gpu and not gpu_known:
            if no_gpu is None:
                no_gpu = not fe.may_name_gpu(text)
            if no_gpu:
                continue
        out.append(rule)
    return out


class _Words:
    """Which lower-cased tokens the last text holds, each looked up once (rules share tokens, and the runner
    asks twice about a file when a companion file names the GPU)."""

    text: Optional[str] = None
    has: Callable[[str], bool] = bool


def _words_of(text: str) -> Callable[[str], bool]:
    if _Words.text is not text:
        low = text.lower()
        seen: dict[str, bool] = {}

        def has(token: str) -> bool:
            found = seen.get(token)
            if found is None:
                found = seen[token] = token in low
            return found

        _Words.text, _Words.has = text, has
    return _Words.has


def _noqa_needs_parse(text: str, engine: "Engine") -> bool:
    if not engine.settings.is_enabled("ECO902"):  # unused-noqa
        return False
    low_hit = "noqa" in text or "NOQA" in text or "Noqa" in text
    if not low_hit and "noqa" not in text.lower():
        return False
    return _NOQA_ECO.search(text) is not None


def wants_parse(text: str, kind: str, engine: "Engine", gpu_known: bool = False) -> bool:
    """True when ``text`` must go through the full front end (``gpu_known``: as in :func:`live_rules`)."""
    from ecolint.sources import front_end

    if _noqa_needs_parse(text, engine):
        return True
    live = live_rules(text, kind, engine, gpu_known)
    if not live:
        return False
    needed: set[str] = set()
    for rule in live:
        facts = rule_facts(rule)
        if facts is ALL:
            return True
        needed.update(facts)
    if not needed:
        return False
    key = (kind, frozenset(needed))
    if _LastCheck.text is text and _LastCheck.key == key:  # asked again with a companion's GPU: same rules
        return _LastCheck.answer
    answer = front_end(kind).site_check(text, key[1])
    _LastCheck.text, _LastCheck.key, _LastCheck.answer = text, key, answer
    return answer


class _LastCheck:
    """The last call-site check, with its text (the same string object) and question: the runner asks again
    for the same file when only a companion file names the GPU (see ``runner._project_keeps``), usually with
    the same facts needed."""

    text: Optional[str] = None
    key: Optional[tuple] = None
    answer = False


# -- Python call sites --------------------------------------------------------------------------------------
# Call names (the last part of the qualified callee) and method names the Python front end turns into facts.
_PY_CALLS: dict[str, frozenset[str]] = {
    "model_loads": frozenset({"from_pretrained", "pipeline", "LLM"}),
    "quant_specs": frozenset({"BitsAndBytesConfig", "from_dict", "from_pretrained", "pipeline", "LLM"}),
    "generations": frozenset({"generate", "chat", "GenerationConfig", "pipeline", "LLM", "BeamSearchParams", "SamplingParams"}),
    "batch_settings": frozenset({"pipeline", "LLM", "DataLoader"}),
    "dtype_uses": frozenset({
        "from_pretrained", "pipeline", "LLM", "BitsAndBytesConfig", "from_dict",
        "to", "bfloat16", "half", "float", "autocast", "set_default_dtype",
    }),
    "servings": frozenset({"LLM"}),
    "cache_flushes": frozenset({"empty_cache"}),
}

def _with_serving_calls() -> None:
    """lm-eval model_args calls and SageMaker model classes (``env=``) produce loads, quantization, dtype,
    batch and serving facts (see ``Analyzer.serving_call``)."""
    from ecolint.sources.launch import PY_ENV_CALLS, PY_MODEL_ARGS_CALLS

    for fact in ("model_loads", "quant_specs", "dtype_uses", "batch_settings", "servings"):
        _PY_CALLS[fact] = _PY_CALLS[fact] | PY_MODEL_ARGS_CALLS | PY_ENV_CALLS


_with_serving_calls()
# Attribute assignments that are facts: ``model.generation_config.use_cache = False``.
_PY_ATTR_ASSIGN: dict[str, frozenset[str]] = {"generations": frozenset({"use_cache", "num_beams"})}
_ATTR_OWNER_SUFFIX = "generation_config"

_SHAPES: dict[str, "re.Pattern[str]"] = {}
# What may stand between the parts of a call in valid Python: white space, line continuations, comments (a
# comment runs to the end of its line, so the three never overlap and a failed match backtracks linearly;
# possessive quantifiers would say the same but need Python 3.11).
_GAP = r"(?:\s|\\|#[^\n]*(?![^\n]))*"
# A parenthesised callee, ``(AutoModelForCausalLM.from_pretrained)(...)``: what may follow the name's first
# closing bracket up to the call's ``(`` (each repetition consumes one ``)``, so a failed match still backtracks
# linearly).
_CLOSERS_THEN_CALL = re.compile(r"(?:" + _GAP + r"\))*" + _GAP + r"\(")


def _call_lines(text: str, names: frozenset[str]) -> Optional[list[int]]:
    """Where a site can be: the lines (1-based, ascending) on which one of ``names`` is spelled out and followed by
    ``(`` (a call, ``name(`` or ``x.name(``, also with the callee in parentheses, ``(x.name)(``); empty when there
    is none. ``None`` when one of them is followed by
    ``as`` (an import alias: another name stands for it, so any line can hold the call) or the text has carriage
    returns (CPython counts those as line breaks too). Lines starting with ``>>>`` are doctest examples: no line
    of valid code starts so (unless it is f-string text with a ``{``)."""
    hits = []
    for name in names:
        pattern = _SHAPES.get(name)
        if pattern is None:  # (no leading \b: a literal start lets the regex engine search fast)
            pattern = _SHAPES[name] = re.compile(re.escape(name) + _GAP + r"(\(|as\b|\))")
        for m in pattern.finditer(text):
            at = m.start()
            if at == 0 or not (text[at - 1].isalnum() or text[at - 1] == "_"):  # a word starts here
                follower = m.group(1)
                if follower == ")" and not _CLOSERS_THEN_CALL.match(text, m.end()):
                    continue
                hits.append((at, name, follower))
    hits.sort()
    lines: list[int] = []
    line, counted_to = 1, 0
    aliases_of: dict[str, bool] = {}
    for at, name, follower in hits:
        start = text.rfind("\n", 0, at) + 1
        end = text.find("\n", at)
        code = text[start : end if end >= 0 else len(text)].lstrip()
        if code.startswith(">>>") and "{" not in code:
            continue
        if follower == "as" or "\r" in text:
            return None
        if _not_a_call(text, start, at, name, aliases_of):
            continue
        line += text.count("\n", counted_to, at)
        counted_to = at
        if not lines or lines[-1] != line:
            lines.append(line)
    return lines


# ``Owner.name(`` at the end of the text before a match; group 1: a dot before the owner (three or more parts).
_OWNER = re.compile(r"(\.\s*)?\b([A-Za-z_]\w*)\s*\.\s*$")
# The owner each owner-checked name needs (see _is_site); None: a model class.
_OWNED = {"from_pretrained": None, "from_dict": "BitsAndBytesConfig"}


def _not_a_call(text: str, line_start: int, at: int, name: str, aliases_of: dict[str, bool]) -> bool:
    """Textual cases the call-site check would reject anyway: ``def name(`` (a definition), and
    ``Owner.from_pretrained(`` / ``Owner.from_dict(`` where the owner is not a model class / not
    ``BitsAndBytesConfig`` and no import alias can make it one (``import X as Owner``: only then does the owner
    the front end sees differ from the one written)."""
    if at >= 4 and text.startswith("def ", at - 4):
        return True
    if name not in _OWNED:
        return False
    m = _OWNER.search(text, line_start, at)
    if m is None:
        return False
    owner = m.group(2)
    wanted = _OWNED[name]
    if (owner == wanted) if wanted else (MODEL_CLASS.match(owner) and not NOT_MODEL.search(owner)):
        return False
    if m.group(1) is None:  # Owner.name(: an alias can stand for another class
        aliased = aliases_of.get(owner)
        if aliased is None:
            aliased = aliases_of[owner] = re.search(r"\bas\s+%s\b" % re.escape(owner), text) is not None
        if aliased:
            return False
    return True


def _nodes_near(tree, lines: Optional[list[int]]):
    """Every statement of ``tree`` (imports and assignments can matter anywhere) and the expressions that span one
    of ``lines``; every node when ``lines`` is None. Inside an f-string every node is kept (CPython before 3.12
    does not always place the nodes inside one exactly)."""
    import ast
    from bisect import bisect_left

    if lines is None:
        yield from ast.walk(tree)
        return
    expr, fstring = ast.expr, ast.JoinedStr
    stack = [tree]
    while stack:
        node = stack.pop()
        yield node
        prune = not isinstance(node, fstring)
        for child in ast.iter_child_nodes(node):
            if prune and isinstance(child, expr):
                i = bisect_left(lines, child.lineno)
                if i == len(lines) or lines[i] > child.end_lineno:
                    continue
            stack.append(child)


def _dotted(node) -> Optional[str]:
    import ast

    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return ".".join(reversed(parts))


def python_sites(text: str, needed: frozenset[str]) -> bool:
    """Does the module hold a call or assignment that can produce one of the ``needed`` facts?"""
    names: set[str] = set()
    attrs: set[str] = set()
    for fact in needed:
        if fact not in _PY_CALLS and fact not in _PY_ATTR_ASSIGN:
            return True  # a fact this check does not know: parse
        names |= _PY_CALLS.get(fact, frozenset())
        attrs |= _PY_ATTR_ASSIGN.get(fact, frozenset())
    if attrs and _ATTR_OWNER_SUFFIX not in text:
        attrs = set()
    lines = _call_lines(text, frozenset(names)) if names else []
    if not attrs and lines == []:
        return False
    from ecolint.heap import paused
    from ecolint.sources import SourceError
    from ecolint.sources.python_frontend import cpython_tree

    with paused():  # (a large tree and no reference cycles: see ecolint.heap)
        try:
            tree = cpython_tree(text)
        except (SyntaxError, ValueError, RecursionError, MemoryError, OverflowError, SourceError):
            return True  # let the front end report it
        return _has_site(tree, lines, names, attrs)


def _has_site(tree, lines: Optional[list[int]], names: set[str], attrs: set[str]) -> bool:
    import ast

    aliases: dict[str, set[str]] = {}  # every binding counts (the front end keeps the last in source order)
    calls = []
    for node in _nodes_near(tree, lines):
        if isinstance(node, ast.Call):
            calls.append(node)
        elif isinstance(node, ast.Import):
            for a in node.names:
                if a.asname:
                    aliases.setdefault(a.asname, set()).add(a.name)
        elif isinstance(node, ast.ImportFrom):
            if node.module and not node.level:
                for a in node.names:
                    aliases.setdefault(a.asname or a.name, set()).add(f"{node.module}.{a.name}")
        elif attrs and isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for t in targets:
                # ``x.generation_config.use_cache = ...``: the front end only reads it on a generation config
                if isinstance(t, ast.Attribute) and t.attr in attrs and (_dotted(t.value) or "").endswith(_ATTR_OWNER_SUFFIX):
                    return True
    for call in calls:
        func = call.func
        dotted = _dotted(func)
        if dotted is None:
            if isinstance(func, ast.Attribute) and func.attr == "generate" and "generate" in names:
                return True  # get_model().generate(...): the front end records it with an unnamed receiver
            continue  # a call on a call or subscript: the front end cannot name it either
        root, _, rest = dotted.partition(".")
        spellings = [dotted] + [f"{full}.{rest}" if rest else full for full in aliases.get(root, ())]
        if any(_is_site(s, names) for s in spellings):
            return True
    return False


def _is_site(dotted: str, names: set[str]) -> bool:
    parts = dotted.split(".")
    last = parts[-1]
    if last not in names:
        return False
    owner = parts[-2] if len(parts) >= 2 else ""
    if last == "from_pretrained" and not (MODEL_CLASS.match(owner) and not NOT_MODEL.search(owner)):
        return False  # AutoConfig/AutoTokenizer/cls.from_pretrained: not a model load
    if last == "from_dict" and owner != "BitsAndBytesConfig":
        return False
    return True


def python_tokens() -> Mapping[str, tuple[str, ...]]:
    """The Python front end's tokens: the call and attribute names above (every fact comes from such a site,
    and an import alias still spells the name it imports)."""
    out = {fact: tuple(sorted(names)) for fact, names in _PY_CALLS.items()}
    for fact, attrs in _PY_ATTR_ASSIGN.items():
        out[fact] = tuple(sorted(set(out.get(fact, ())) | attrs))
    return out
