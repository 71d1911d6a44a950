"""The front-end interface and its registry.

A front end turns one kind of file into :class:`~ecolint.facts.FileFacts` and owns everything else that depends
on the kind of file: which paths it claims, how bytes are decoded, the text tokens that can produce each fact
list (stage 1 of :mod:`ecolint.prefilter`), its cheap call-site check (stage 2), where its comments are (for
``noqa``), how fixed text is written back and checked before it is.

The registry holds one small :class:`Registration` per kind: the file names it claims and where its
:class:`FrontEnd` object lives. The module is imported on first use, so a run that parses nothing imports no
parser. Adding a front end: a module ending in ``FRONT_END = MyFrontEnd()`` and one line in ``REGISTRY``.
"""

from __future__ import annotations

import codecs
import importlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import PurePath
from typing import TYPE_CHECKING, ClassVar, Iterator, Mapping, Optional

if TYPE_CHECKING:  # pragma: no cover
    from ecolint.facts import Edit, FileFacts, Span

#: Where a comment starts in a text: (offset, the comment's text, or None for "to the end of the line").
CommentFinder = Iterator[tuple[int, Optional[str]]]


class SourceError(Exception):
    """A file a front end cannot parse; ``line``/``col`` (1-based) locate the problem when known."""

    def __init__(self, message: str, line: int = 1, col: int = 1, code: str = "ECO900"):
        super().__init__(message)
        self.message = message
        self.line = line
        self.col = col
        self.code = code


class FrontEnd:
    """One kind of file. Subclasses set ``kind`` and implement :meth:`extract` and :meth:`tokens`; the other
    methods have defaults that suit a UTF-8 text format without a site check."""

    kind: ClassVar[str] = ""

    def decode(self, data: bytes) -> str:
        """The text of ``data``; raises :class:`~ecolint.sources.SourceError` (ECO901) when it has none."""
        try:
            return data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise SourceError(f"file is not valid UTF-8: {exc}", code="ECO901") from None

    def extract(self, path: str, text: str, settings) -> "FileFacts":  # pragma: no cover - interface
        raise NotImplementedError

    def tokens(self) -> Mapping[str, tuple[str, ...]]:  # pragma: no cover - interface
        """Fact-list name (as in :class:`~ecolint.facts.FileFacts`) -> the text tokens without one of which this
        front end cannot produce a fact of that list (matched case-insensitively). A list the mapping does not
        name can come from any text; an empty tuple: this front end never produces it."""
        raise NotImplementedError

    def hides_tokens(self, text: str) -> bool:
        """True when ``text`` may spell a token in a way substring search cannot see (escape sequences in
        quoted keys and values): the prefilter then treats every fact as possible."""
        return False

    def site_check(self, text: str, needed: frozenset[str]) -> bool:
        """Stage 2 of the prefilter: can ``text`` produce one of the ``needed`` fact lists? (True: parse it.)"""
        return True

    def may_name_gpu(self, text: str) -> bool:
        """Can ``text`` name a GPU (a GPU hint)? False lets the prefilter skip rules that need a GPU."""
        return True

    def comments(self, text: str) -> CommentFinder:
        """The real comments of ``text`` for ``noqa``: ``#`` outside quoted strings by default."""
        from ecolint.sources.comments import quoted_comments

        return quoted_comments(text)

    def encoding(self, data: bytes) -> str:
        """The codec that writes text decoded from ``data`` back byte-for-byte (a BOM is kept)."""
        return "utf-8-sig" if data.startswith(codecs.BOM_UTF8) else "utf-8"

    # -- max-file-size ------------------------------------------------------------------------------------------

    # A file of this kind over the limit is data, not something ecolint analyses (a JSON request payload or
    # dataset): found by walking a directory it is skipped without a finding; named on the command line it is
    # still reported (ECO904).
    oversize_is_data: ClassVar[bool] = False

    def read_limit(self, max_file_size: int) -> int:
        """How many bytes a file of this kind may hold on disk to be read at all (the default: max-file-size)."""
        return max_file_size

    def analysed_size(self, data: bytes, text: str) -> "Optional[int]":
        """The size max-file-size is compared with once the file is read and decoded, when that is not the
        file's own size (which was compared before reading): None by default."""
        return None

    def rejects(self, text: str) -> "Optional[SourceError]":
        """Why fixed ``text`` must not be written (beyond what its own findings say), or None."""
        return None

    # -- a front end whose facts come from a text derived from the file (a notebook's cells) --------------------

    def analysed_text(self, text: str, facts: "FileFacts") -> str:
        """The text the facts' spans count lines in (its comments hold the ``noqa`` directives): ``text``."""
        return text

    def placement(self, facts: "FileFacts") -> "Optional[Placement]":
        """How spans in :meth:`analysed_text` become the file's own positions, or None when they already are
        (the default). The runner moves each finding's span, fix edits, related locations and message with it."""
        return None

    def edit_view(self, text: str) -> "Optional[EditView]":
        """The text that fixes' edits are applied to when it is not ``text`` itself (the default: None)."""
        return None

    def diff_parts(self, before: str, after: str, path: str) -> "Optional[list[tuple[str, str, str]]]":
        """``(old, new, label)`` texts to diff one by one for ``--diff`` when a fixed file is not shown as one
        diff of its whole text (the default: None, one diff)."""
        return None


class Placement:
    """How the spans of an analysed text map to the file's own positions: the identity, by default."""

    def span(self, span: "Span") -> "Span":
        """``span`` (in the analysed text) in the file's positions."""
        return span

    def edits(self, edits: "list[Edit]") -> "list[Edit]":
        """A fix's edits in the file's positions; raises ValueError (saying why) when the fix cannot be applied
        to the file (it is then advice only)."""
        return edits

    def message(self, message: str) -> str:
        """A finding's message with its references to lines of the analysed text rewritten."""
        return message

    def errors(self) -> "list[tuple[str, str, Span]]":
        """``(code, message, span)`` of the engine findings the placement adds (parts of the file left out)."""
        return []


class EditView:
    """The text that fixes' edits are applied to (see :meth:`FrontEnd.edit_view`), and how the result is
    written back into the file's text."""

    def __init__(self, text: str):
        self.text = text

    def span(self, span: "Span") -> "Span":
        """A reported span (the file's positions) in :attr:`text`'s positions."""
        return span

    def write(self, edits: "list[Edit]") -> Optional[str]:  # pragma: no cover - interface
        """The file's new text once ``edits`` (in :attr:`text`'s positions) are applied, or None to refuse."""
        raise NotImplementedError


@dataclass(frozen=True)
class Registration:
    """What the registry knows about a front end without importing it: the paths it claims and where it is."""

    kind: str
    target: str  # "module:ATTRIBUTE" holding the FrontEnd object
    suffixes: tuple[str, ...] = ()  # lower-case file suffixes
    names: tuple[str, ...] = ()  # lower-case file names (``dockerfile``)
    prefixes: tuple[str, ...] = ()  # lower-case name prefixes (``dockerfile.``)
    # Names that share a suffix but are never this kind of file (tool settings, lock files).
    excluded: frozenset[str] = frozenset()
    excluded_suffixes: tuple[str, ...] = ()

    def claims(self, name: str, suffix: str) -> bool:
        """``name``/``suffix``: the file name and suffix, lower case."""
        if name in self.excluded or (self.excluded_suffixes and name.endswith(self.excluded_suffixes)):
            return False
        return name in self.names or (bool(self.prefixes) and name.startswith(self.prefixes)) or suffix in self.suffixes

    def load(self) -> FrontEnd:
        module, _, attribute = self.target.partition(":")
        return getattr(importlib.import_module(module), attribute)


# Files with a YAML or TOML suffix that are never deploy or training configs: tool settings and lock files.
_NOT_YAML = frozenset({
    "pnpm-lock.yaml", "pnpm-workspace.yaml", ".pre-commit-config.yaml", ".pre-commit-hooks.yaml", "mkdocs.yml",
    "mkdocs.yaml", ".readthedocs.yaml", ".readthedocs.yml", "codecov.yml", ".codecov.yml", "environment.yml",
    "environment.yaml",
})
_NOT_TOML = frozenset({
    "pyproject.toml",  # project metadata; ecolint's own settings live in [tool.ecolint] and are read by config.py
    "ecolint.toml", ".ecolint.toml", "ruff.toml", ".ruff.toml", "cargo.toml", "poetry.toml", "pixi.toml", "taplo.toml",
    ".taplo.toml", "rustfmt.toml", ".rustfmt.toml", "clippy.toml", "typos.toml", "_typos.toml",
})
# JSON files that are tool settings, package metadata, tokenizers or JSON with comments, never deploy configs.
_NOT_JSON = frozenset({
    "package.json", "package-lock.json", "composer.json", "tsconfig.json", "jsconfig.json", "devcontainer.json",
    ".devcontainer.json", "settings.json", "launch.json", "tasks.json", "extensions.json", "renovate.json", "lerna.json",
    ".eslintrc.json", "tokenizer.json", "tokenizer_config.json", "vocab.json", "special_tokens_map.json",
    "added_tokens.json", "tsconfig.base.json", "manifest.json", "app.json", "firebase.json", "vercel.json", "turbo.json",
})
_LOCK_SUFFIXES = ("-lock.yaml", "-lock.yml", ".lock.yaml", ".lock.yml", ".lock.toml")

# The first registration that claims a path wins (``Dockerfile.yaml`` is a Dockerfile).
REGISTRY: tuple[Registration, ...] = (
    Registration("dockerfile", "ecolint.sources.shell_frontend:DOCKERFILE_FRONT_END", suffixes=(".dockerfile", ".containerfile"),
                 names=("dockerfile", "containerfile"), prefixes=("dockerfile.", "containerfile."), excluded_suffixes=(".lock",) + _LOCK_SUFFIXES),
    Registration("python", "ecolint.sources.python_frontend:FRONT_END", suffixes=(".py", ".pyi")),
    Registration("yaml", "ecolint.sources.yaml_frontend:FRONT_END", suffixes=(".yaml", ".yml"), excluded=_NOT_YAML, excluded_suffixes=_LOCK_SUFFIXES),
    Registration("toml", "ecolint.sources.toml_frontend:FRONT_END", suffixes=(".toml",), excluded=_NOT_TOML, excluded_suffixes=_LOCK_SUFFIXES),
    Registration("shell", "ecolint.sources.shell_frontend:FRONT_END", suffixes=(".sh", ".bash")),
    Registration("notebook", "ecolint.sources.notebook_frontend:FRONT_END", suffixes=(".ipynb",)),
    Registration("properties", "ecolint.sources.properties_frontend:FRONT_END", names=("serving.properties",)),
    Registration("json", "ecolint.sources.json_frontend:FRONT_END", suffixes=(".json",), excluded=_NOT_JSON, excluded_suffixes=("-lock.json", ".lock.json")),
)
KINDS: tuple[str, ...] = tuple(r.kind for r in REGISTRY)
_BY_KIND = {r.kind: r for r in REGISTRY}


def kind_for(path: PurePath) -> Optional[str]:
    """The kind of the front end that claims ``path`` (by its name), or None when none does."""
    name = path.name.lower()
    suffix = path.suffix.lower()
    for registration in REGISTRY:
        if registration.claims(name, suffix):
            return registration.kind
    return None


@lru_cache(maxsize=None)
def front_end(kind: str) -> FrontEnd:
    """The front end of ``kind`` (its module is imported on first use); KeyError for an unknown kind."""
    return _BY_KIND[kind].load()


def all_front_ends() -> tuple[FrontEnd, ...]:
    """Every registered front end (imports them all: for tests and documentation, not for a run)."""
    return tuple(front_end(k) for k in KINDS)
