"""What every config dialect is, and the helpers they share.

A :class:`Dialect` reads one kind of YAML/TOML document (a Kubernetes manifest, an axolotl config …) from
the shared tree of :mod:`ecolint.sources.tree` and records facts. It declares:

* ``name``: how tests and messages refer to it;
* ``stage``: when it runs (see below);
* ``recognise(doc, ctx)``: whether this document (one YAML document, or a whole TOML file) is of its kind.
  Each dialect decides on its own; several may recognise the same document;
* ``tokens``: fact-list name -> words, such that whenever the dialect adds to that fact list, at least one
  of the words occurs (case-sensitively, as a substring) in the file's text. The prefilter may skip a file
  that holds none of them. Every synonym the dialect maps is listed, so a new spelling cannot be read
  without also keeping the file; a test generates a document per synonym and checks both;
* ``extract(doc, ctx)``: the facts.

How overlapping dialects combine (a document may match several):

1. Dialects run in stages. ``SPECIFIC`` dialects recognise a document by its own signature keys; every
   one that recognises it extracts, in any order, and each reads only its own keys. ``ENV_BLOCK`` (serving
   environment blocks found anywhere) and ``FALLBACK`` (the generic scan of every remaining mapping) run
   afterwards and skip what earlier stages claimed.
2. A dialect *claims* the nodes it reads as its own (:meth:`Ctx.claim`: a whole axolotl document, a
   container, an ``env`` block); later stages never read a claimed mapping, so one key is never turned into
   facts twice by a specific dialect and by the generic scan.
3. Two specific dialects that both read one leaf setting (``bf16: true`` in a document that is both an
   axolotl and a LLaMA-Factory config) record it once: the driver drops a dtype use or batch setting whose
   span another dialect already recorded. Findings are deduplicated by code, span and message as well.
"""

from __future__ import annotations

import re
from typing import Callable, ClassVar, Iterable, Optional

from ecolint import bnb
from ecolint.facts import CERTAIN, Edit, FileFacts, FixCandidate, ModelRef, Origin, QuantSpec, Value
from ecolint.sources import launch
from ecolint.sources.launch import Setting
from ecolint.sources.tree import CEntry, CNode, Tree
from ecolint.sources.words import Word, literal_word, split_shell

SPECIFIC, ENV_BLOCK, FALLBACK = 0, 1, 2
STAGES = (SPECIFIC, ENV_BLOCK, FALLBACK)

Tokens = dict[str, tuple[str, ...]]

# -- shared vocabulary ------------------------------------------------------------------------------------
# bitsandbytes option names (the non-4-bit ones) and the 4-bit option prefix: one table, in ecolint.bnb.
BNB_KEYS, BNB_4BIT_PREFIX = bnb.BNB_KEYS, bnb.BNB_4BIT_PREFIX


class Dialect:
    """One config dialect; subclasses set the class attributes and the two methods."""

    name: ClassVar[str] = ""
    stage: ClassVar[int] = SPECIFIC
    tokens: ClassVar[Tokens] = {}

    def recognise(self, doc: CNode, ctx: "Ctx") -> bool:
        raise NotImplementedError

    def extract(self, doc: CNode, ctx: "Ctx") -> None:
        raise NotImplementedError


def merge_tokens(*parts: Tokens) -> Tokens:
    """The union, per fact list, of several token tables (sorted, without repeats)."""
    out: dict[str, set[str]] = {}
    for part in parts:
        for facts, words in part.items():
            out.setdefault(facts, set()).update(words)
    return {facts: tuple(sorted(words)) for facts, words in sorted(out.items())}


def _tokens(*words: Iterable[str]) -> tuple[str, ...]:
    return tuple(sorted({w for group in words for w in group}))


# What a vLLM / TGI launch read by :mod:`ecolint.sources.launch` needs in the text, per fact list: the
# programs, images and modules that start a server, and the flags and TGI environment names of each setting
# (``--max_num_seqs`` and ``--max-num_seqs`` are read too: "num_seqs" / "num-seqs" cover every mix).
_SERVER = _tokens(("vllm", "text-generation-launcher", "text-generation-inference", "tgi"), launch.TGI_ENV_MARKERS, ("QUANTIZE",))
LAUNCH_TOKENS: Tokens = {
    "model_loads": _SERVER,
    "servings": _SERVER,
    "quant_specs": _tokens(("--quantize", "--quantization", "-q", "load-format", "load_format"),
                           (name for name, key in launch.TGI_ENV.items() if key == "quantize")),
    "dtype_uses": _tokens(("--dtype",), (name for name, key in launch.TGI_ENV.items() if key == "dtype")),
    "batch_settings": _tokens(("num-seqs", "num_seqs", "batch-size", "batch_size"),
                              (name for name, key in launch.TGI_ENV.items() if key == "max_batch")),
}


# -- the extraction context ----------------------------------------------------------------------------

class Ctx:
    """What the dialects share while reading one file: the tree, the facts, claimed nodes and parents."""

    def __init__(self, tree: Tree, facts: FileFacts, path: str, overrides: dict):
        self.tree = tree
        self.facts = facts
        self.path = path
        self.overrides = overrides
        self.consumed: set[int] = set()  # ids of the nodes some dialect claimed
        self.parents: dict[int, CNode] = {}

    def claim(self, node: CNode) -> None:
        self.consumed.add(id(node))

    def claimed(self, node: CNode) -> bool:
        return id(node) in self.consumed

    # -- values -------------------------------------------------------------------------------------------
    def setting(self, entry: CEntry, how: str = "") -> Setting:
        node = entry.node
        value = node.value if node.kind == "scalar" else None
        certainty = CERTAIN
        if isinstance(value, str) and "$" in value:
            w = self.word(node)
            v = launch.word_value(w, 0, len(w.text)) if w else Value(None, "unknown", entry.span, value)
            value, certainty = v.value, v.certainty
        v = Value(value, certainty, entry.span, how or entry.key)
        tree = self.tree

        def replace(new: str) -> Optional[FixCandidate]:
            return local(tree.replace_scalar(node, new), [entry]) if certainty == CERTAIN else None

        return Setting(v, entry.span, replace, how or entry.key)

    def word(self, node: CNode) -> Optional[Word]:
        if node.kind != "scalar" or node.value is None or isinstance(node.value, (dict, list)):
            return None
        if node.word is not None:
            w = node.word
        else:
            w = literal_word(self.tree.source, node.begin, node.end, text_of(node.value))
        if "$" in w.text:
            w.expands = True
        return w

    def words(self, node: Optional[CNode]) -> list[Word]:
        """A command given as a list (each item one argument) or as one string (split like a shell)."""
        if node is None:
            return []
        if node.kind == "seq":
            return [w for w in (self.word(n) for n in node.items) if w is not None]
        w = self.word(node)
        if w is None:
            return []
        cmds = split_shell(self.tree.source, chars=w)
        return [x for c in cmds for x in c.words]

    def gpu(self, text, span, source: str) -> None:
        if isinstance(text, str) and text:
            launch.gpu_hint(self.facts, instance_gpu(text) or text, span, source)

    def training(self, reason: str) -> None:
        if not self.facts.training:
            self.facts.training = True
            self.facts.training_reason = reason


# -- small helpers ---------------------------------------------------------------------------------------

def text_of(value) -> str:
    """A scalar as the config wrote it (``true``/``false`` for booleans)."""
    if value is True:
        return "true"
    if value is False:
        return "false"
    return str(value)


def truthy(node: Optional[CNode]) -> bool:
    return node is not None and node.kind == "scalar" and (node.value is True or (isinstance(node.value, str) and node.value.lower() in ("true", "yes", "1")))


def is_map(node: Optional[CNode]) -> bool:
    return node is not None and node.kind == "map"


# Cloud instance families -> the GPU they carry (AWS, SageMaker ``ml.`` prefix, GCP).
INSTANCE_GPUS = {
    "g4dn": "t4", "g5": "a10g", "g6": "l4", "g6e": "l40s", "p2": "k80", "p3": "v100", "p3dn": "v100", "p4d": "a100",
    "p4de": "a100", "p5": "h100", "p5e": "h200", "p5en": "h200", "a2": "a100", "a3": "h100", "g2": "l4",
}


def instance_gpu(text: str) -> Optional[str]:
    t = text.strip().lower()
    if t.startswith("ml."):
        t = t[3:]
    fam = re.split(r"[.\-]", t, maxsplit=1)[0]
    if fam in INSTANCE_GPUS and ("." in t or "-" in t):
        return INSTANCE_GPUS[fam]
    return None


def local(candidate: Optional[FixCandidate], entries: list[CEntry]) -> Optional[FixCandidate]:
    """An edit of an anchored node, or of a mapping that is merged or aliased elsewhere, changes every place
    that uses it (and deleting an anchor breaks its aliases): advice only."""
    if candidate is not None and any(e.node.shared or e.parent.shared for e in entries):
        candidate.advice_only = "a YAML anchor shares it with other places"
    return candidate


def fix_of(edit: Optional[Edit]) -> Optional[FixCandidate]:
    return FixCandidate([edit]) if edit else None


# -- containers and environments (Kubernetes, compose, fly, endpoint env blocks) -----------------------

def env_from_map(ctx: Ctx, node: Optional[CNode]) -> dict[str, Setting]:
    """An environment block (claimed): a mapping, a Kubernetes ``[{name, value}]`` list or compose
    ``NAME=value`` items -> name -> setting."""
    out: dict[str, Setting] = {}
    if node is None:
        return out
    ctx.claim(node)
    if node.kind == "map":
        for name, entry in node.entries.items():
            if entry.node.kind == "scalar":
                out[name] = ctx.setting(entry, name)
    elif node.kind == "seq":
        for item in node.items:
            if item.kind == "map":  # Kubernetes: {name: X, value: Y} / valueFrom
                name = item.scalar("name")
                if not isinstance(name, str):
                    continue
                ve = item.entries.get("value")
                if ve is not None:
                    out[name] = ctx.setting(ve, name)
                elif "valueFrom" in item.entries:
                    e = item.entries["valueFrom"]
                    out[name] = Setting(Value(None, "unknown", e.key_span, name), e.key_span, None, name)
            elif item.kind == "scalar" and isinstance(item.value, str) and "=" in item.value:  # compose: NAME=value
                w = ctx.word(item)
                name = item.value.split("=", 1)[0]
                i = len(name) + 1
                v = launch.word_value(w, i, len(w.text)) if w else Value(item.value[i:], CERTAIN)
                v.span = item.span
                v.source = name
                out[name] = Setting(v, item.span, _replace_after(w, i), name)
    return out


def _replace_after(word: Optional[Word], i: int) -> Callable[[str], Optional[FixCandidate]]:
    """Replacing the characters of ``word`` from ``i`` on (the value of a ``NAME=value`` item)."""

    def replace(new: str) -> Optional[FixCandidate]:
        return fix_of(word.replace(i, len(word.text), new)) if word is not None else None

    return replace


def container(ctx: Ctx, image_node: Optional[CNode], words: list[Word], env: dict[str, Setting], anchor_span=None) -> None:
    """One container: a server launch from its command words (or its image), else TGI from its environment."""
    image = image_node.value if image_node is not None and isinstance(image_node.value, str) else None
    image_span = image_node.span if image_node is not None else anchor_span
    facts = ctx.facts
    if launch.launch_from_words(facts, words, ctx.overrides, image=image, image_span=image_span, env=env) is not None:
        return
    if not words and launch.is_tgi_env(env) and image_span is not None:
        launch.emit(facts, "tgi", "text-generation-launcher", image_span, launch.env_settings(env), ctx.overrides)


# -- models and quantization ----------------------------------------------------------------------------

def model_ref(ctx: Ctx, entry: Optional[CEntry]) -> Optional[ModelRef]:
    from ecolint.knowledge.models import lookup_model

    if entry is None:
        return None
    v = entry.node.value
    if not isinstance(v, str) or not v or "$" in v:
        return ModelRef(None, "unknown", entry.span)
    info = lookup_model(v, ctx.overrides)
    return ModelRef(v, CERTAIN, entry.span, info.params_b if info else None, info.how if info else "")


def spec_from_entries(ctx: Ctx, origin: Origin, entries: dict[str, CEntry], fixable: bool, anchor: CEntry) -> QuantSpec:
    """A quantization spec from bitsandbytes-named entries; ``fixable``: options can be set or inserted."""
    options = {name: Value(e.node.value, CERTAIN, e.span, text_of(e.node.value)) for name, e in entries.items()}
    spec = QuantSpec(span=anchor.span, origin=origin, options=options, engine="transformers")
    tree = ctx.tree

    def remove(names: list[str]) -> Optional[FixCandidate]:
        if any(n not in entries for n in names):
            return None
        doomed = [entries[n] for n in names]
        return local(tree.remove_entries(doomed), doomed)

    spec.remove_options = remove
    if fixable:
        def set_option(name: str, literal: str) -> Optional[FixCandidate]:
            if name in entries:
                return local(tree.replace_scalar(entries[name].node, literal), [entries[name]])
            after = entries.get("load_in_8bit") or anchor
            return local(tree.insert_after(after, name, literal), [after])

        spec.set_option = set_option
    return spec
