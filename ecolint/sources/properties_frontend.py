"""DJL Serving / LMI ``serving.properties`` (``option.max_rolling_batch_size=1``): the rolling-batch limit of a
large-model-inference container (ECO202 at 1). Lines are ``key=value`` (``key: value`` too); ``#`` and ``!``
start comments. Other properties are not read."""

from __future__ import annotations

import re
from typing import Mapping

from ecolint.facts import CERTAIN, FileFacts, Value
from ecolint.sources import launch
from ecolint.sources.frontend import FrontEnd
from ecolint.sources.launch import Setting
from ecolint.sources.words import Source
from ecolint.text import split_lines

_LINE = re.compile(r"^[ \t]*([^#!=:\s][^=:\s]*)[ \t]*[=:][ \t]*(.*?)[ \t]*$")


def extract(path: str, text: str, settings) -> FileFacts:
    facts = FileFacts(path=path, kind="properties")
    source = Source(text)
    found: dict[str, Setting] = {}
    first = None
    for number, line in enumerate(split_lines(text), 1):
        m = _LINE.match(line)
        if not m:
            continue
        start = source.starts[number - 1]
        span = source.span(start + m.start(1), start + m.end(2))
        first = first or span
        key = launch.DJL_PROPERTIES.get(m.group(1))
        if key:
            found[key] = Setting(Value(m.group(2), CERTAIN, span, m.group(1)), span, None, m.group(1))
    if found and first is not None:
        launch.djl(facts, found, first)
    return facts


class PropertiesFrontEnd(FrontEnd):
    """DJL ``serving.properties``."""

    kind = "properties"

    def extract(self, path: str, text: str, settings) -> FileFacts:
        return extract(path, text, settings)

    def tokens(self) -> Mapping[str, tuple[str, ...]]:
        keys = tuple(launch.DJL_PROPERTIES)
        return {"batch_settings": keys, "servings": keys, "model_loads": (), "quant_specs": (), "dtype_uses": (),
                "generations": (), "gpu_hints": (), "cache_flushes": ()}

    def may_name_gpu(self, text: str) -> bool:
        return False

    def comments(self, text: str):
        """Whole-line comments only: in a properties file ``#`` or ``!`` later in a line is part of the value."""
        offset = 0
        for line in text.splitlines(keepends=True):
            stripped = line.lstrip(" \t")
            if stripped.startswith(("#", "!")):
                yield offset + len(line) - len(stripped), None
            offset += len(line)


FRONT_END = PropertiesFrontEnd()
