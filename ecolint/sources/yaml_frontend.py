"""YAML front end: Kubernetes, docker-compose, vLLM, axolotl, LLaMA-Factory and SageMaker-style configs.

Parsing stops at ``yaml.compose_all``: the node graph with a start/end mark on every key and scalar. No
constructor ever runs, so no tag (``!!python/object``, ``!Ref``) can build an object, and an anchor used many
times is one shared node: the tree built here keeps that sharing (each node converted once), so an alias
bomb costs no more than its text, and a recursive alias becomes a cycle that the walkers visit once.
"""

from __future__ import annotations

import bisect
import re
from typing import Mapping

from ecolint.facts import FileFacts
from ecolint.sources import SourceError
from ecolint.sources.frontend import FrontEnd
from ecolint.sources.tree import CEntry, CNode, Tree, template_mark, template_marks
from ecolint.sources.words import Source, align_word, literal_word

_MERGE = "tag:yaml.org,2002:merge"
_MAX_NODES = 200_000
_BOOL = {"yes": True, "true": True, "on": True, "no": False, "false": False, "off": False}


def extract(path: str, text: str, settings) -> FileFacts:
    from ecolint.sources import dialects

    tree = parse_untemplated(text)
    facts = FileFacts(path=path, kind="yaml")
    dialects.extract(tree, facts, path, getattr(settings, "model_overrides", None) or {})
    return facts


def parse_untemplated(text: str) -> Tree:
    """The tree of ``text``, or ECO905 when template syntax makes it something else than the YAML it renders
    to: the text does not parse and holds a template tag (``{{- if ...}}`` at the start of a line), or it
    parses but a tag stands where YAML structure is (``name: {{ .Release.Name }}`` parses as a mapping).
    ``{{ x }}`` or ``{% ... %}`` inside a string value (a chat template, an OpenAPI description, a task
    prompt) is only text: the file is analysed as usual."""
    try:
        tree, strings = _parse(text)
    except SourceError as err:
        mark = template_mark(text) if err.code == "ECO900" else None
        if mark is None:
            raise
        raise _templated(*mark) from None
    for line, col, offset in template_marks(text):
        if not _inside(strings, offset):
            raise _templated(line, col)
    return tree


def _templated(line: int, col: int) -> SourceError:
    return SourceError(
        "templated YAML (Helm/Jinja tags such as {{ ... }}) cannot be analysed as written; lint the rendered output "
        "(e.g. `helm template ... > rendered.yaml`)",
        line,
        col,
        code="ECO905",
    )


def _inside(spans: list[tuple[int, int]], offset: int) -> bool:
    """Is ``offset`` inside one of the sorted, non-overlapping ``(begin, end)`` spans?"""
    i = bisect.bisect_right(spans, (offset, float("inf"))) - 1
    return i >= 0 and spans[i][0] <= offset < spans[i][1]


def parse(text: str) -> Tree:
    return _parse(text)[0]


def _parse(text: str) -> tuple[Tree, list[tuple[int, int]]]:
    """The tree, and the sorted source spans of its string scalars and keys (where a template tag is text)."""
    import yaml

    source = Source(text)
    tree = Tree(source, "yaml")
    try:
        nodes = list(yaml.compose_all(text, Loader=yaml.SafeLoader))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        what = exc.problem or "invalid YAML"
        where = ""
        if exc.context and exc.context_mark is not None:
            cm = exc.context_mark
            if "end of stream" in what or "<stream end>" in what:  # unclosed quote or bracket: point where it opened
                where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
                mark = cm
                what = f"{exc.context}: {what}{where}"
            else:
                what = f"{exc.context} (line {cm.line + 1}, column {cm.column + 1}): {what}"
        line, col = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
        if not where:
            what = f"{what} at line {line}, column {col}"
        raise SourceError(f"cannot parse YAML: {what}", line, col) from None
    except yaml.YAMLError as exc:
        raise SourceError(f"cannot parse YAML: {exc}") from None
    builder = _Builder(source)
    for node in nodes:
        if node is not None:
            tree.docs.append(builder.convert(node))
    return tree, sorted(builder.strings)


class _Builder:
    def __init__(self, source: Source):
        self.source = source
        self.memo: dict[int, CNode] = {}
        self.count = 0
        self.strings: list[tuple[int, int]] = []  # spans of string scalars and keys

    def convert(self, node) -> CNode:
        import yaml

        known = self.memo.get(id(node))
        if known is not None:
            known.shared = True  # reached again through an alias: an edit here changes every place that uses it
            return known
        self.count += 1
        begin, end = node.start_mark.index, node.end_mark.index
        if self.count > _MAX_NODES:
            raise SourceError("YAML document too large to analyse (over 200,000 nodes)", node.start_mark.line + 1, node.start_mark.column + 1, code="ECO904")
        if isinstance(node, yaml.ScalarNode):
            out = CNode("scalar", begin, end, self.source, tag=node.tag)
            out.value = _scalar(node)
            if isinstance(out.value, str):
                self.strings.append((begin, end))
                out.word = self._word(node, out.value, begin, end)
            self.memo[id(node)] = out
            return out
        if isinstance(node, yaml.SequenceNode):
            out = CNode("seq", begin, end, self.source, tag=node.tag)
            self.memo[id(node)] = out
            out.items = [self.convert(child) for child in node.value]
            return out
        out = CNode("map", begin, end, self.source, tag=node.tag)
        self.memo[id(node)] = out
        merged: list[CNode] = []
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE:
                target = self.convert(value_node)
                merged.extend(target.items if target.kind == "seq" else [target])
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                continue
            value = self.convert(value_node)
            kb, ke = key_node.start_mark.index, key_node.end_mark.index
            self.strings.append((kb, ke))
            line_start = self.source.starts[self.source.pos(kb)[0] - 1]
            block = node.flow_style is not True and self.source.text[line_start:kb].strip(" \t") == ""
            out.entries.pop(key_node.value, None)  # duplicate key: the last one wins, as in PyYAML
            out.entries[key_node.value] = CEntry(key_node.value, kb, ke, value, out, block=block)
        for m in merged:  # explicit keys override merged ones
            if m.kind != "map":
                continue
            for k, e in m.entries.items():
                out.entries.setdefault(k, e)
        return out

    def _word(self, node, value: str, begin: int, end: int):
        raw = self.source.text[begin:end]
        style = node.style or ""
        if style in ("'", '"') and len(raw) >= 2 and raw[1:-1] == value:
            return literal_word(self.source, begin + 1, end - 1)
        if not style and raw == value:
            return literal_word(self.source, begin, end)
        return align_word(value, self.source, begin, end)


_INT = re.compile(r"^[-+]?(0|[1-9][0-9_]*)$")


def _scalar(node):
    tag = node.tag
    v = node.value
    if tag.endswith(":bool"):
        return _BOOL.get(v.lower(), v)
    if tag.endswith(":null"):
        return None
    if tag.endswith(":int"):
        try:
            return int(v.replace("_", ""), 0) if not _INT.match(v) else int(v.replace("_", ""))
        except ValueError:
            return v
    if tag.endswith(":float"):
        try:
            return float(v.replace("_", ""))
        except ValueError:
            return v
    return v


class YamlFrontEnd(FrontEnd):
    """YAML configs: the config dialects over the composed node graph."""

    kind = "yaml"

    def extract(self, path: str, text: str, settings) -> FileFacts:
        return extract(path, text, settings)

    def tokens(self) -> Mapping[str, tuple[str, ...]]:
        from ecolint.sources.config_tokens import TOKENS

        return TOKENS

    def hides_tokens(self, text: str) -> bool:
        return "\\" in text and any(e in text for e in ("\\x", "\\u", "\\U"))  # escapes in double-quoted scalars

    def comments(self, text: str):
        from ecolint.sources.comments import yaml_comments

        return yaml_comments(text)


FRONT_END = YamlFrontEnd()
