"""Shell launch scripts (``*.sh``) and Dockerfiles: the command lines that start vLLM or TGI.

Both are split into words by :func:`ecolint.sources.words.split_shell` (quotes, ``\\`` continuations,
comments, ``&&``/``;`` chains, here-documents skipped) and handed to :mod:`ecolint.sources.launch`, the same
flag mapping the YAML and TOML front ends use.

Scripts: every simple command that runs ``vllm serve``, ``python -m vllm.entrypoints.openai.api_server``,
``text-generation-launcher`` or ``docker run <tgi/vllm image>`` (also behind ``exec``, ``nohup``, ``env``,
``uv run`` …, and inside ``sh -c "…"``). ``NAME=value`` assignments earlier in the script resolve ``$NAME``
in flags; ``${NAME:-value}`` counts as an overridable default.

Dockerfiles: per build stage, ``FROM`` (the image whose entrypoint runs), ``ENV``/``ARG`` (TGI reads
``QUANTIZE``, ``MAX_BATCH_SIZE``, ``MODEL_ID``…), ``ENTRYPOINT`` and ``CMD`` in exec (JSON array) or shell
form. ``RUN`` lines build the image and are never read as launches.
"""

from __future__ import annotations

import json
import re
from typing import Iterator, Mapping, Optional

from ecolint.facts import FileFacts
from ecolint.sources import SourceError, launch
from ecolint.sources.comments import shell_comments
from ecolint.sources.frontend import FrontEnd
from ecolint.sources.launch import Setting
from ecolint.sources.words import HereDoc, Source, Word, literal_word, split_shell
from ecolint.text import line_starts

_ASSIGN = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)=(.*)$", re.DOTALL)


def extract(path: str, text: str, settings) -> FileFacts:
    overrides = getattr(settings, "model_overrides", None) or {}
    name = path.replace("\\", "/").rsplit("/", 1)[-1].lower()
    if name == "dockerfile" or name.startswith("dockerfile.") or name.endswith(".dockerfile") or name.endswith(".containerfile") or name == "containerfile":
        return extract_dockerfile(path, text, overrides)
    return extract_script(path, text, overrides)


def extract_script(path: str, text: str, overrides: dict) -> FileFacts:
    facts = FileFacts(path=path, kind="shell")
    source = Source(text)
    state = launch.new_script()
    _script_region(facts, source, 0, len(text), overrides, state, 0)
    return facts


def _script_region(facts: FileFacts, source: Source, start: int, end: int, overrides: dict, state, depth: int) -> None:
    """The commands of ``start:end``, then those of its here-documents that are scripts (see :func:`_runs`),
    read with the variables set so far."""
    bodies: list[HereDoc] = []
    launch.run_script(facts, split_shell(source, start, end, bodies=bodies), overrides, state)
    if depth < 4:
        for doc in bodies:
            if _runs(doc):
                _script_region(facts, source, doc.start, doc.end, overrides, state, depth + 1)


def _runs(doc: HereDoc) -> bool:
    """A here-document that is a script: fed to a shell (``bash <<EOF``, ``ssh host bash <<EOF``) or written to
    a ``.sh`` file (``cat > run.sh <<EOF``); one that is only printed (``cat <<EOF``) is text."""
    programs = {launch.basename(w) for w in doc.feeds}
    return bool(programs & launch.SHELLS) or (bool(programs & {"cat", "tee"}) and doc.target.endswith(".sh"))


# -- Dockerfile ---------------------------------------------------------------------------------------------

class _Stage:
    def __init__(self, image: str, image_word: Optional[Word]):
        self.image = image
        self.image_word = image_word
        self.env: dict[str, Setting] = {}
        self.args: dict[str, str] = {}
        # (commands, shell form?): the exec form is one command, the shell form may chain several
        self.entrypoint: Optional[tuple[list[list[Word]], bool]] = None
        self.cmd: Optional[tuple[list[list[Word]], bool]] = None


def extract_dockerfile(path: str, text: str, overrides: dict) -> FileFacts:
    facts = FileFacts(path=path, kind="dockerfile")
    source = Source(text)
    stages: list[_Stage] = []
    named: dict[str, _Stage] = {}
    global_args: dict[str, str] = {}
    for keyword, start, end in _instructions(text):
        kw = keyword.upper()
        if kw == "FROM":
            words = [w for w in _split(source, start, end) if not w.text.startswith("--")]
            if not words:
                continue
            ref = words[0].text
            base = named.get(ref.lower())
            stage = _Stage(base.image if base else _expand(ref, global_args), words[0])
            if base is not None:
                stage.env = dict(base.env)
                stage.entrypoint, stage.cmd = base.entrypoint, base.cmd
                stage.image_word = base.image_word
            if len(words) >= 3 and words[1].text.lower() == "as":
                named[words[2].text.lower()] = stage
            stages.append(stage)
            continue
        stage = stages[-1] if stages else None
        if kw == "ARG":
            for w in _split(source, start, end):
                name, _, value = w.text.partition("=")
                (stage.args if stage else global_args)[name] = value
            continue
        if stage is None:
            continue
        if kw == "ENV":
            words = _split(source, start, end)
            if words and "=" not in words[0].text and len(words) >= 2:  # legacy ``ENV NAME value``
                name = words[0].text
                v = launch.word_value(words[1], 0, len(words[1].text), stage.args)
                stage.env[name] = _env_setting(words[0], words[1], 0, v, name)
                continue
            for w in words:
                m = _ASSIGN.match(w.text)
                if m:
                    i = len(m.group(1)) + 1
                    v = launch.word_value(w, i, len(w.text), stage.args)
                    stage.env[m.group(1)] = _env_setting(w, w, i, v, m.group(1))
            continue
        if kw in ("CMD", "ENTRYPOINT"):
            parsed = _command(source, start, end)
            if kw == "CMD":
                stage.cmd = parsed
            else:
                stage.entrypoint = parsed
                stage.cmd = None  # a new ENTRYPOINT resets an inherited CMD
    for stage in stages:
        _stage_facts(facts, stage, overrides)
    return facts


def _env_setting(name_word: Word, value_word: Word, i: int, v, name: str) -> Setting:
    span = name_word.source.span(name_word.begin, value_word.end)
    v.span = span
    v.source = name

    def replace(new: str, _w=value_word, _i=i):
        if v.certainty != "certain":
            return None
        edit = _w.replace(_i, len(_w.text), new)
        from ecolint.facts import FixCandidate

        return FixCandidate([edit]) if edit else None

    return Setting(v, span, replace, name)


def _stage_facts(facts: FileFacts, stage: _Stage, overrides: dict) -> None:
    commands: list[list[Word]] = []
    if stage.entrypoint:
        commands, shell_form = stage.entrypoint
        if not shell_form and stage.cmd:
            commands = [commands[0] + [w for c in stage.cmd[0] for w in c]] if commands else stage.cmd[0]
    elif stage.cmd:
        commands = stage.cmd[0]
    image_span = stage.image_word.span if stage.image_word is not None else None
    variables = {k: s.value.value for k, s in stage.env.items() if s.value.known and isinstance(s.value.value, str)}
    variables.update({k: v for k, v in stage.args.items() if v and k not in variables})
    found = False
    for words in commands or [[]]:
        if launch.launch_from_words(facts, words, overrides, image=stage.image, image_span=image_span, env=stage.env, variables=variables):
            found = True
    if found:
        return
    if not commands or launch.is_djl(stage.image, stage.env):
        launch.env_launch(facts, stage.env, stage.image, image_span, overrides)


def _expand(ref: str, args: dict[str, str]) -> str:
    return re.sub(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?\}?", lambda m: args.get(m.group(1)) or m.group(2) or "", ref)


def _instructions(text: str):
    """(keyword, start offset of its arguments, end offset) for each instruction, continuations joined."""
    escape = "\\"
    head = re.match(r"(?:\s*#\s*(?:syntax|check)=[^\n]*\n)*\s*#\s*escape\s*=\s*([\\`])", text)
    if head:
        escape = head.group(1)
    n = len(text)
    i = 0
    while i < n:
        j = text.find("\n", i)
        j = n if j == -1 else j
        line = text[i:j]
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            i = j + 1
            continue
        m = re.match(r"\s*([A-Za-z]+)\s*", line)
        if not m:
            i = j + 1
            continue
        start = i + m.end()
        end = j
        while text[i:end].rstrip(" \t\r").endswith(escape) and end < n:
            k = text.find("\n", end + 1)
            k = n if k == -1 else k
            end = k
        yield m.group(1), start, end
        i = end + 1


def _split(source: Source, start: int, end: int) -> list[Word]:
    return [w for c in split_shell(source, start, end) for w in c.words]


def _command(source: Source, start: int, end: int) -> tuple[list[list[Word]], bool]:
    """Exec form (JSON array) or shell form (``/bin/sh -c`` runs it)."""
    raw = source.text[start:end].strip()
    if raw.startswith("["):
        try:
            values = json.loads(raw.replace("\\\n", "").replace("\\\r\n", ""))
        except ValueError:
            values = None
        if isinstance(values, list) and all(isinstance(v, str) for v in values):
            words = []
            for m in re.finditer(r'"((?:[^"\\]|\\.)*)"', source.text[start:end]):
                b = start + m.start(1)
                e = start + m.end(1)
                try:
                    value = json.loads(m.group(0))
                except ValueError:
                    value = m.group(1)
                words.append(literal_word(source, b, e, value))
            return [words], False
    return [c.words for c in split_shell(source, start, end)], True


class ShellFrontEnd(FrontEnd):
    """Shell launch scripts: the vLLM / TGI command lines they run."""

    kind = "shell"

    def extract(self, path: str, text: str, settings) -> FileFacts:
        return extract_script(path, text, getattr(settings, "model_overrides", None) or {})

    def tokens(self) -> Mapping[str, tuple[str, ...]]:
        return launch.TOKENS

    def comments(self, text: str):
        return shell_comments(text)


class DockerfileFrontEnd(ShellFrontEnd):
    """Dockerfiles: per build stage, the launch its entrypoint and command run."""

    kind = "dockerfile"

    def extract(self, path: str, text: str, settings) -> FileFacts:
        return extract_dockerfile(path, text, getattr(settings, "model_overrides", None) or {})

    def comments(self, text: str):
        return dockerfile_comments(text)


def dockerfile_comments(text: str) -> Iterator[tuple[int, Optional[str]]]:
    """Lines whose first non-blank character is ``#`` (Docker drops them, inside continuations too), and the
    shell comments of shell-form ``RUN`` / ``CMD`` / ``ENTRYPOINT`` instructions."""
    found: set[int] = set()
    starts = line_starts(text)
    for s in starts:
        j = s
        while j < len(text) and text[j] in " \t":
            j += 1
        if text.startswith("#", j):
            found.add(j)
    source = Source(text)
    for keyword, begin, end in _instructions(text):
        if keyword.upper() in ("RUN", "CMD", "ENTRYPOINT") and not text[begin:end].lstrip().startswith("["):
            shell: list[int] = []
            split_shell(source, begin, end, comments=shell)
            found.update(shell)
    for offset in sorted(found):
        yield offset, None


FRONT_END = ShellFrontEnd()
DOCKERFILE_FRONT_END = DockerfileFrontEnd()

__all__ = ["extract", "SourceError", "FRONT_END", "DOCKERFILE_FRONT_END"]
