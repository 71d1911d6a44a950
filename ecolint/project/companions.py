"""Companion files: the GPU that sibling files of the same deployment name, for a file that names none.

A deployment is often split over several files: a provisioning script asks the cloud for the GPU
(``gcloud container node-pools create --accelerator type=nvidia-tesla-t4``, ``eksctl ... --node-type g5.xlarge``,
``sky launch --gpus T4``), a ``.env`` file beside a compose file sets ``GPU_TYPE=...``, a Helm chart's
``values.yaml`` holds the node selector while ``templates/`` holds the manifest. A linted file (Python, YAML,
shell script, Dockerfile) that names no GPU of its own takes the one its companions name, as a lower-certainty
hint that every finding using it says it comes from (and points at, as a related location).

Companions of a file: in its own directory, the shell scripts (``*.sh``, ``*.bash``) and the ``.env`` file; for a
YAML file (a manifest, a compose file) also a Helm ``values.yaml`` / ``values.yml`` and the other YAML files that
launch nothing themselves (a cluster, node-pool or SkyPilot task config; a YAML file that starts a server is
another deployment, not a companion), and for a file in a Helm chart's ``templates/`` directory, the chart's
``values.yaml``. A node selector in a YAML file says where its manifests run, not where a Python script beside it
does, so YAML files are no companions of other kinds of file. Each is read with its own front end
(``.env`` with the shell front end: it is ``NAME=value`` lines), nothing is run, and only small regular files
inside the project root are read. The hint is used only when the companions agree on one GPU: two different GPUs
(in one companion or across them) name none. A GPU set in the configuration or on the command line (``gpu``,
``--gpu``) wins over the file's own hint, which wins over a companion's; ``project = false`` (``--no-project``)
turns companions off. The results cache stamps every companion of the file, so editing, adding or removing one
re-lints it.
"""

from __future__ import annotations

import os
import weakref
from types import SimpleNamespace
from typing import TYPE_CHECKING, Optional

from ecolint.facts import GpuHint, Span
from ecolint.project.paths import inside_real

if TYPE_CHECKING:  # pragma: no cover
    from ecolint.facts import FileFacts
    from ecolint.project.model import Project

USERS = frozenset({"python", "yaml", "shell", "dockerfile"})  # kinds of linted file that take a companion's GPU
MAX_COMPANION_BYTES = 64_000  # a bigger file is no companion
MAX_COMPANIONS = 16  # a directory with more candidates holds many things, not one deployment: none is used
MAX_ENTRIES = 400  # directory entries looked at
_SCRIPT_SUFFIXES = (".sh", ".bash")
_YAML_SUFFIXES = (".yaml", ".yml")
_VALUES = ("values.yaml", "values.yml")
_ENV = ".env"
_LOOKED_FOR = (_ENV, *_SCRIPT_SUFFIXES, *_YAML_SUFFIXES)  # the names a companion may have (a suffix ".env" covers ".env")
_ALONE = SimpleNamespace(project=False, model_overrides={})  # a companion is read alone

# One companion's GPU hints (gpu, span, source); empty when it names none.
Hints = tuple[tuple[str, Span, str], ...]
_HINTS: "weakref.WeakKeyDictionary[Project, dict[str, Hints]]" = weakref.WeakKeyDictionary()
_LISTS: "weakref.WeakKeyDictionary[Project, dict[str, list[str]]]" = weakref.WeakKeyDictionary()


def enabled(kind: str, settings) -> bool:
    return kind in USERS and bool(getattr(settings, "project", True)) and not getattr(settings, "gpu", None)


def candidates(project: "Project", path: str, kind: str) -> list[str]:
    """The companion files of ``path`` (absolute, a file of ``kind``) that exist, sorted; empty when there are
    more than :data:`MAX_COMPANIONS`. The results cache stamps them."""
    out = _listed(project, path, kind)
    for c in out:
        project.note_read(c)  # read once per process (hints_of), depended on by each file it serves
    return out


def may_have_companion(path: str, kind: str, settings) -> bool:
    """False when :func:`companion_hint` is None for ``path`` because no companion file exists (or companions are
    off); the directories looked through are recorded as :func:`companion_hint` records them, so a companion
    added later re-lints the file. The runner asks this before the dearer question whether a companion's GPU
    could matter to the file."""
    if not enabled(kind, settings):
        return False
    from ecolint.project.model import project_for

    real = os.path.abspath(path)
    return bool(_listed(project_for(real), real, kind))


def _listed(project: "Project", path: str, kind: str) -> list[str]:
    """:func:`candidates` without stamping their contents (the listings looked through are recorded)."""
    directory = os.path.dirname(path)
    project.looked_through(directory, _LOOKED_FOR)  # a companion added or removed later re-lints the file
    out = [c for c in _listing(project, directory) if c != path and (kind == "yaml" or not c.lower().endswith(_YAML_SUFFIXES))]
    if os.path.basename(directory) == "templates":
        chart = os.path.dirname(directory)
        if project.inside(chart) and chart != directory and project.exists(os.path.join(chart, "Chart.yaml")):
            project.looked_through(chart, _LOOKED_FOR)
            out.extend(c for c in _listing(project, chart) if os.path.basename(c) in _VALUES and kind == "yaml")
    return out if len(out) <= MAX_COMPANIONS else []


def _listing(project: "Project", directory: str) -> list[str]:
    lists = _LISTS.setdefault(project, {})
    if directory not in lists:
        found: list[str] = []
        try:
            with os.scandir(directory) as it:
                for n, entry in enumerate(it):
                    if n >= MAX_ENTRIES:
                        found = []
                        break
                    name = entry.name
                    low = name.lower()
                    if low == _ENV or low.endswith(_SCRIPT_SUFFIXES) or (low.endswith(_YAML_SUFFIXES) and not name.startswith(".")):
                        p = inside_real(project, os.path.join(directory, name))
                        if p is not None and entry.is_file():
                            found.append(p)
        except OSError:
            found = []
        lists[directory] = sorted(found)
    return lists[directory]


def hints_of(project: "Project", path: str) -> Hints:
    """The GPU hints of the companion file ``path``, read alone with its front end (memoised per process)."""
    memo = _HINTS.setdefault(project, {})
    if path not in memo:
        memo[path] = _read(project, path)
    return memo[path]


def _read(project: "Project", path: str) -> Hints:
    try:
        if os.path.getsize(path) > MAX_COMPANION_BYTES:
            return ()
    except OSError:
        return ()
    data = project.data(path)
    if data is None:
        return ()
    from ecolint.sources import front_end

    name = os.path.basename(path).lower()
    kind = "shell" if name == _ENV or name.endswith(_SCRIPT_SUFFIXES) else "yaml"
    try:
        text = data.decode("utf-8")
        facts = front_end(kind).extract(path, text, _ALONE)
    except Exception:  # noqa: BLE001 - a companion that cannot be read names nothing
        return ()
    if kind == "yaml" and name not in _VALUES and (facts.model_loads or facts.servings):
        return ()  # it launches a server itself: another deployment, not a companion
    return tuple((h.gpu, h.span, h.source) for h in facts.gpu_hints if h.span is not None)


def companion_hint(path: str, kind: str, settings) -> Optional[GpuHint]:
    """The GPU the companions of ``path`` agree on, as a hint of ``path`` (None when they name none, or
    several, or companions are off)."""
    if not enabled(kind, settings):
        return None
    from ecolint.project.model import project_for

    real = os.path.abspath(path)
    project = project_for(real)
    found = [(c, h) for c in candidates(project, real, kind) for h in hints_of(project, c)]
    if len({h[0] for _, h in found}) != 1:
        return None
    companion, (gpu, span, source) = found[0]
    from pathlib import Path

    from ecolint.files import display_path

    shown = display_path(Path(companion))
    if os.path.dirname(companion) == os.path.dirname(real):
        where = f"the companion file {os.path.basename(companion)} in the same directory"
    else:
        where = f"the chart's values file {os.path.basename(companion)}"
    return GpuHint(gpu, None, where, elsewhere=(shown, span, source))


def add_hint(facts: "FileFacts", kind: str, settings) -> Optional[GpuHint]:
    """Give ``facts`` the companions' GPU when the file names none of its own; the hint added, or None."""
    if facts.gpu_hints:
        return None
    hint = companion_hint(facts.path, kind, settings)
    if hint is not None:
        facts.gpu_hints.append(hint)
    return hint


def name_companion(finding, hint: GpuHint) -> None:
    """A finding that used the companion's GPU says so, and points at the place the companion names it."""
    from ecolint.knowledge.gpus import resolve_gpu

    assert hint.elsewhere is not None
    info = resolve_gpu(hint.gpu)
    name = info.name if info is not None else hint.gpu
    if hint.source not in finding.message:
        finding.message += f" (GPU {name} from {hint.source}, not from this file)"
    shown, span, how = hint.elsewhere
    entry = (shown, span, f"the GPU ({name}) is named here (`{how}`), for the whole deployment")
    if entry not in finding.related:
        finding.related.append(entry)
