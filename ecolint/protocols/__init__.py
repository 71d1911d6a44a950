"""The advisor commands (compare, optimize, estimate, diagnose) built on the knowledge layer and the estimator.

This package's top level stays import-light: the follow-up command a finding suggests is built in
:mod:`ecolint.knowledge.evidence` (:func:`next_command` defers to it), and the CLI registers the subcommands through :mod:`ecolint.protocols.cli` without loading rich or the
measurement tables until a command actually runs.
"""

from __future__ import annotations

from typing import Optional


def next_command(model_id: Optional[str], gpu_id: Optional[str] = None, command: str = "compare",
                 batch_size: Optional[int] = None, engine: Optional[str] = None) -> str:
    """The advisor command line for a model and GPU (see :func:`ecolint.knowledge.evidence.advisor_command`)."""
    from ecolint.knowledge.evidence import advisor_command

    return advisor_command(model_id, gpu_id, command, batch_size, engine)

__all__ = ["next_command"]
