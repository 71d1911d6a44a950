"""The Python front end's import hook: values and generating functions from other modules of the project.

:class:`ImportHook` answers the resolver of one file (see ``Resolver.imports`` in
:mod:`ecolint.sources.python.resolve`) with the file's project session. A value from another module becomes a
front-end value positioned at its use in the linted file (the name, or the call of the helper); where it is
written is kept in ``FileFacts.imported_values`` and ends up as a related location of the findings at that use. Items of
a dict or quantization config from another module are marked with the file they are written in, so no automatic
fix edits them (advice only).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Optional

from ecolint.facts import Span, Value, unknown
from ecolint.project.configs import lookup
from ecolint.project.session import Session, current
from ecolint.project.summaries import Generating, SValue

if TYPE_CHECKING:  # pragma: no cover
    import libcst as cst

    from ecolint.sources.python.resolve import Resolver

# Keys of a dict or config whose place in the other file is worth a related location.
_NOTED_KEYS = frozenset({"load_in_8bit", "load_in_4bit", "llm_int8_threshold", "torch_dtype", "dtype", "use_cache", "quantization_config"})
_MAX_RELATED = 4  # per use


def hook() -> Optional["ImportHook"]:
    """The hook of the current project session (None when the project model is off)."""
    session = current()
    return ImportHook(session) if session is not None else None


class ImportHook:
    def __init__(self, session: Session):
        self.session = session
        self._specs: dict[int, object] = {}  # id(use node) -> the QuantSpec built for it (one per use)
        self._configs: dict[tuple, Optional[tuple[SValue, str]]] = {}  # config source -> (its values, how composed)
        self._allowed: Optional[frozenset[str]] = None  # the YAML files this file's text may load

    # -- what the resolver asks --------------------------------------------------------------------------
    def value(self, r: "Resolver", target: str, use: "cst.BaseExpression") -> Optional[Value]:
        """The value of the imported ``target`` (``config.MODEL_ID``) used at ``use``; None when ``target`` is not
        a value of a project module (a library's name, a module that cannot be parsed, a value only known at run
        time or on an import cycle): the file is then analysed exactly as it is without the project model."""
        sv = self.session.evaluator.name_value(self.session.path, target)
        return self.convert(r, sv, use) if sv is not None and sv.known else None

    def call(self, r: "Resolver", target: str, use: "cst.Call") -> Optional[Value]:
        """What the call ``use`` of the imported function ``target`` returns, when it is one value."""
        sv = self.session.evaluator.call_result(self.session.path, target)
        return self.convert(r, sv, use) if sv is not None and sv.known else None

    def generating(self, target: str) -> Optional[Generating]:
        """Where the imported function ``target`` generates once per call, or None."""
        return self.session.evaluator.generating(self.session.path, target)

    def related_generation(self, r: "Resolver", use_span: Span, gen: Generating) -> None:
        where = self.session.display(gen.path)
        r_facts = getattr(r, "facts", None)
        if r_facts is not None:
            r_facts.imported_values.append((use_span, where, Span(gen.line, gen.col, gen.end_line, gen.end_col), f"`{gen.api}` runs once per call here"))

    def config(self, r: "Resolver", source: tuple, keys: list[str], use: "cst.BaseExpression") -> Optional[Value]:
        """The value at ``keys`` of the YAML config that ``source`` loads (see
        :func:`ecolint.sources.python.configs.config_use`), used at ``use``; None when the config cannot be followed
        or has no such key (the file is then analysed as without the project model)."""
        found = self._configs.get(source)
        if source not in self._configs:
            found = self._configs[source] = self._load(r, source)
        if found is None:
            return None
        root, how = found
        sv = lookup(root, keys)
        if sv is None or not sv.known:
            return None
        written = f"`{'.'.join(keys)}` is set here" if keys else "the config is written here"
        return self.convert(r, sv, use, what=f"{written} ({how})" if how else written)

    def _load(self, r: "Resolver", source: tuple) -> Optional[tuple[SValue, str]]:
        from ecolint.project.configs import config_files, hydra_config, loaded_config

        project, path = self.session.project, self.session.path
        if path.endswith(".ipynb"):
            return None  # a notebook's cache key does not stamp the configs it names
        if self._allowed is None:
            self._allowed = frozenset(config_files(project, path, r.module.code))
        if not self._allowed:
            return None
        if source[0] == "hydra":
            _, config_path, config_name, self_first = source
            got = hydra_config(project, path, self._allowed, config_path, config_name, self_first)
            if got is None:
                return None
            root, _files, primary = got
            how = (
                f"the value of Hydra's default run, composed from {self.session.display(primary)} and its defaults "
                "list; a config outside that list (an experiment config) or a command-line override applies only "
                "when given on the command line"
            )
            return root, how
        _, literal, interpolate = source
        loaded = loaded_config(project, path, self._allowed, literal, interpolate)
        if loaded is None:
            return None
        return loaded[0], ""

    # -- conversion ---------------------------------------------------------------------------------------
    def convert(self, r: "Resolver", sv: SValue, use: "cst.BaseExpression", what: str = "") -> Value:
        from ecolint.facts import Ref
        from ecolint.sources.python.item import Item

        span = r.span(use)
        src = r.code(use).strip()
        where = self.session.display(sv.path)
        related: list[tuple[Span, str, Span, str]] = []

        def note(v: SValue, what: str) -> None:
            if len(related) < _MAX_RELATED:
                related.append((span, where if v.path == sv.path else self.session.display(v.path), Span(v.line, v.col, v.end_line, v.end_col), what))

        def leaf(v: SValue) -> Value:
            if v.kind == "const":
                return Value(v.value, v.certainty, span, src)
            if v.kind == "ref":
                return Value(Ref(v.value), v.certainty, span, src)
            if v.kind in ("dict", "quant"):
                items = {}
                for key, child in v.value.items():
                    if key in _NOTED_KEYS and child.known:
                        note(child, f"`{key}` is set here")
                    items[key] = Item(leaf(child), use, use, elsewhere=self.session.display(child.path))
                if v.opaque:
                    items["**"] = Item(unknown(span), use, use, elsewhere=where)
                if v.kind == "quant":
                    return Value(self.quant_spec(r, use, items, v.opaque), v.certainty, span, src)
                return Value(items, v.certainty, span, src)
            return unknown(span, src)

        if sv.known:
            what = what or ("the quantization config is built here" if sv.kind == "quant" else f"`{src}` is written here")
            note(sv, what)
        value = leaf(sv)
        facts = getattr(r, "facts", None)
        if facts is not None and value.known:
            for entry in related:
                if entry not in facts.imported_values:
                    facts.imported_values.append(entry)
        return value

    def quant_spec(self, r: "Resolver", use: "cst.BaseExpression", items: dict, opaque: bool):
        spec = self._specs.get(id(use))
        if spec is None:
            make = getattr(r, "make_spec", None)
            if make is None:  # a plain resolver (no facts): a config, options unknown
                from ecolint.facts import QuantSpec

                spec = QuantSpec(span=r.span(use), origin="BitsAndBytesConfig", options={})
                spec.opaque = True
            else:
                spec = make(use, "BitsAndBytesConfig", items)
                spec.opaque = opaque
                r.quant_by_node[id(use)] = spec  # type: ignore[attr-defined]
                r.facts.quant_specs.append(spec)  # type: ignore[attr-defined]
            self._specs[id(use)] = spec
        return spec
