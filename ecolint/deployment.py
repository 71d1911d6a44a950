"""Whether a file deploys what it launches: test modules, CI jobs and test overlays start servers to check them."""

from __future__ import annotations

from pathlib import PurePath
from typing import Iterator

from ecolint.facts import FileFacts, Serving, Value

# Directories whose launches are checks, not deployments (a CI workflow, a test suite, a kustomize test overlay).
_CHECK_DIRS = {"test", "tests", "testing", "e2e", "ci", ".github", ".gitlab", ".circleci", ".buildkite"}
_CHECK_FILES = {".gitlab-ci.yml", ".gitlab-ci.yaml", "azure-pipelines.yml", "jenkinsfile", ".travis.yml"}


def not_deployed(facts: FileFacts) -> str:
    """Why the file's launches are not a deployment ("a test module", "a CI workflow"), or "" when they may be."""
    if facts.is_test:
        return "a test module"
    p = PurePath(facts.path.replace("\\", "/"))
    name = p.name.lower()
    if name in _CHECK_FILES:
        return "a CI configuration"
    if any(part.lower() in _CHECK_DIRS for part in p.parts[:-1]):
        return "a test or CI file"
    stem = name.rsplit(".", 1)[0]
    if stem.startswith("test_") or stem.endswith("_test") or stem in ("test", "ci"):
        return "a test or CI file"
    return ""


def written(facts: FileFacts, value: Value, keyword: str, shown: object) -> str:
    """A switch as the file writes it: ``--enforce-eager`` on a command line, ``enforce-eager: true`` in a config,
    ``enforce_eager=True`` in Python."""
    source = value.source or keyword
    if facts.kind in ("python", "notebook"):
        return f"{keyword}={shown}"
    if source.startswith("-"):
        return source
    return f"{source}: {str(shown).lower()}"


def vllm_switched(facts: FileFacts, switch: str, to: bool) -> Iterator[tuple[Serving, Value]]:
    """Each deployed vLLM serving whose ``switch`` (a :class:`~ecolint.facts.Serving` field) is set to ``to``, with
    that setting (nothing for a test module, CI job or test overlay: they start a server to check it)."""
    if not_deployed(facts):
        return
    for serving in facts.servings:
        v = getattr(serving, switch)
        if serving.engine == "vllm" and v is not None and (v.is_true() if to else v.is_false()):
            yield serving, v
