"""JSON configs and request files (``{"load_in_8bit": true, "base_model": ...}``, SageMaker ``CreateModel`` /
endpoint JSON with ``PrimaryContainer.Environment`` and ``InstanceType``, vLLM and DeepSpeed configs): the same
position-keeping tree as YAML (:mod:`ecolint.sources.tree`), read by the same config dialects.

``json.loads`` decides validity (its error is the syntax finding); a small scanner then builds the tree with
the offsets of every key and value (a key's position is its first character inside the quotes). Entries are
never "block" lines, so no fix deletes or inserts a line (that would break the commas); a fix may replace a
scalar written without escapes, and the fixed text must still be JSON.
"""

from __future__ import annotations

import json
import re
from json.decoder import scanstring  # type: ignore[attr-defined]  # public since Python 2.6, not in the stubs
from typing import Mapping, Optional

from ecolint.facts import FileFacts
from ecolint.sources import SourceError
from ecolint.sources.frontend import FrontEnd
from ecolint.sources.tree import CEntry, CNode, Tree
from ecolint.sources.words import Source, align_word, literal_word

_MAX_NODES = 200_000
_NUMBER = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?")
# Python's json module (which decides validity) also accepts NaN, Infinity and -Infinity.
_LITERALS = {"true": True, "false": False, "null": None, "NaN": float("nan"), "Infinity": float("inf"), "-Infinity": float("-inf")}
_SPACE = " \t\r\n"


def extract(path: str, text: str, settings) -> FileFacts:
    from ecolint.sources import dialects

    tree = parse(text)
    facts = FileFacts(path=path, kind="json")
    dialects.extract(tree, facts, path, getattr(settings, "model_overrides", None) or {})
    return facts


def parse(text: str) -> Tree:
    try:
        json.loads(text)
    except RecursionError:
        raise SourceError("JSON nested too deeply to analyse", code="ECO904") from None
    except ValueError as exc:
        if getattr(exc, "msg", "") == "Extra data" and _json_lines(text):
            return Tree(Source(text), "json")  # JSON Lines (a data set, one record a line): not a config, no facts
        line, col = getattr(exc, "lineno", 1), getattr(exc, "colno", 1)
        raise SourceError(f"cannot parse JSON: {getattr(exc, 'msg', exc)} at line {line}, column {col}", line, col) from None
    source = Source(text)
    tree = Tree(source, "json")
    scanner = _Scanner(source)
    i = scanner.skip(0)
    if i < len(text):
        tree.docs.append(scanner.value(i)[0])
    return tree


class _Scanner:
    """Builds :class:`CNode` trees from text that ``json.loads`` accepted (so no error handling is needed)."""

    def __init__(self, source: Source):
        self.source = source
        self.text = source.text
        self.count = 0

    def skip(self, i: int) -> int:
        text = self.text
        while i < len(text) and text[i] in _SPACE:
            i += 1
        return i

    def value(self, i: int, depth: int = 0) -> tuple[CNode, int]:
        self.count += 1
        if self.count > _MAX_NODES or depth > 500:
            line, col = self.source.pos(i)
            raise SourceError("JSON document too large to analyse (over 200,000 values)", line, col, code="ECO904")
        c = self.text[i]
        if c == "{":
            return self._object(i, depth)
        if c == "[":
            return self._array(i, depth)
        if c == '"':
            value, end = scanstring(self.text, i + 1)
            node = CNode("scalar", i, end, self.source, value=value, tag="str")
            raw = self.text[i + 1:end - 1]
            node.word = literal_word(self.source, i + 1, end - 1) if raw == value else align_word(value, self.source, i + 1, end - 1)
            return node, end
        for word, lit in _LITERALS.items():
            if self.text.startswith(word, i):
                node = CNode("scalar", i, i + len(word), self.source, value=lit, tag=word)
                node.word = literal_word(self.source, i, i + len(word))
                return node, i + len(word)
        m = _NUMBER.match(self.text, i)
        if m is None:  # json.loads accepted the text, so this is a spelling the scanner does not know
            line, col = self.source.pos(i)
            raise SourceError("cannot read this JSON value", line, col)
        raw = m.group(0)
        node = CNode("scalar", i, m.end(), self.source, value=float(raw) if any(ch in raw for ch in ".eE") else int(raw), tag="number")
        node.word = literal_word(self.source, i, m.end())
        return node, m.end()

    def _object(self, i: int, depth: int) -> tuple[CNode, int]:
        node = CNode("map", i, i, self.source)
        i = self.skip(i + 1)
        while self.text[i] != "}":
            key, key_end = scanstring(self.text, i + 1)
            i = self.skip(self.skip(key_end) + 1)  # past the colon
            child, i = self.value(i, depth + 1)
            node.entries.pop(key, None)  # a repeated key: the last one wins, as in json.loads
            node.entries[key] = CEntry(key, _key_begin(self.text, key_end), key_end - 1, child, node, block=False)
            i = self.skip(i)
            if self.text[i] == ",":
                i = self.skip(i + 1)
        node.end = i + 1
        return node, i + 1

    def _array(self, i: int, depth: int) -> tuple[CNode, int]:
        node = CNode("seq", i, i, self.source)
        i = self.skip(i + 1)
        while self.text[i] != "]":
            child, i = self.value(i, depth + 1)
            node.items.append(child)
            i = self.skip(i)
            if self.text[i] == ",":
                i = self.skip(i + 1)
        node.end = i + 1
        return node, i + 1


def _key_begin(text: str, key_end: int) -> int:
    """The first character inside the quotes of the key whose closing quote ends at ``key_end``."""
    j = key_end - 2
    while j >= 0:
        if text[j] == '"':
            k = j - 1
            backslashes = 0
            while k >= 0 and text[k] == "\\":
                backslashes += 1
                k -= 1
            if backslashes % 2 == 0:
                return j + 1
        j -= 1
    return 0


def _json_lines(text: str, sample: int = 100) -> bool:
    """True when the first ``sample`` non-empty lines (two at least) are each a JSON value: a JSON Lines file."""
    seen = 0
    for line in text.split("\n"):
        if not line.strip():
            continue
        try:
            json.loads(line)
        except (ValueError, RecursionError):
            return False
        seen += 1
        if seen >= sample:
            break
    return seen >= 2


class JsonFrontEnd(FrontEnd):
    """JSON configs: the config dialects over the position-keeping tree."""

    kind = "json"
    # Deployment configs in JSON are small; a JSON file over max-file-size found in a directory is a dataset or
    # a request payload (a base64 image, a tensor), so it is skipped without a note.
    oversize_is_data = True

    def extract(self, path: str, text: str, settings) -> FileFacts:
        return extract(path, text, settings)

    def tokens(self) -> Mapping[str, tuple[str, ...]]:
        from ecolint.sources.config_tokens import TOKENS

        return TOKENS

    def hides_tokens(self, text: str) -> bool:
        return "\\u" in text  # an escaped character inside a key or value

    def comments(self, text: str):
        return iter(())  # JSON has no comments

    def rejects(self, text: str) -> Optional[SourceError]:
        try:
            json.loads(text)
        except ValueError as exc:
            return SourceError(f"the fixed text is not valid JSON: {exc}")
        return None


FRONT_END = JsonFrontEnd()
