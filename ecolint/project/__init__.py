"""Project-aware analysis: what a file's imports and configuration files say.

A linted file may take its model id, quantization config or ``from_pretrained`` keyword arguments from another
module of the same project (``from config import MODEL_ID``, ``from .utils import get_quant_config``), or run
generation through a helper module called once per item of a loop. This package answers those questions
without importing or running anything:

* :mod:`.model` -- the project root and where a module name points to (``import settings``, relative imports,
  ``src/`` layouts, packages), one :class:`~ecolint.project.model.Project` per root and process;
* :mod:`.summaries` -- what a module says, read with the standard ``ast`` module: its constants and dicts, the
  functions that return a quantization config or a kwargs dict, the functions that generate once per call;
* :mod:`.bridge` -- turning a summary value into the Python front end's values (the hook of
  :class:`~ecolint.sources.python.resolve.Resolver`), positioned at the use site with the place the value is
  written kept as a related location;
* :mod:`.session` -- the project of the file being linted, its dependencies for the results cache and the
  prefilter's question "does a dependency carry facts for this file";
* :mod:`.configs` -- YAML configs a Python file loads: Hydra composition of the default run (defaults list,
  config groups, ``_self_``, packages, static ``${...}``) and ``OmegaConf.load`` / ``yaml.safe_load`` of a literal
  path; the Python side (which name holds a config, which keys are read) is
  :mod:`ecolint.sources.python.configs`;
* :mod:`.kustomize` -- a kustomize strategic-merge or JSON 6902 patch read with the manifest it patches;
* :mod:`.companions` -- the GPU that sibling files of a deployment (a provisioning script, a ``.env``, a Helm
  chart's values) name, for a file that names none.

Where findings go: a finding is always reported in the linted file, at the use site (the import's use, the call
of the helper), and names the file and line where the value is written as a related location. A helper module
shared by several scripts is thus reported once per script that uses it, a ``noqa`` comment goes where the
finding is, and a partial (pre-commit) run reports exactly what a full run reports for the files it was given.
No automatic fix edits a value written in another file (fixes there are advice only). A kustomize patch is itself
a linted file: its findings are reported there, at the value the patch writes, with the base's model and GPU as
related locations. A companion file's GPU is named in each finding that used it, with the companion's line as a
related location.
"""

from __future__ import annotations

from ecolint.project.model import still_valid, tracing
from ecolint.project.session import active, keeps_file

__all__ = ["active", "keeps_file", "still_valid", "tracing"]
