"""The advisor commands (compare, optimize, estimate, diagnose) built on the knowledge layer and the estimator.

This package's top level stays import-light (stdlib only): the core linter imports :func:`next_command` for its
findings, and the CLI registers the subcommands through :mod:`ecolint.protocols.cli` without loading rich or the
measurement tables until a command actually runs.
"""

from __future__ import annotations

import shlex
from typing import Optional


def next_command(model_id: Optional[str], gpu_id: Optional[str] = None, command: str = "compare",
                 batch_size: Optional[int] = None, engine: Optional[str] = None) -> str:
    """The follow-up command a finding suggests, e.g.
    ``ecolint compare --model mistralai/Mistral-7B-v0.1 --gpu a800``; a finding in a serving config passes the
    engine it saw (``--engine vllm``). Unknown parts are left out (the command then asks for them); values are
    shell-quoted when needed."""
    parts = ["ecolint", command]
    if model_id:
        parts += ["--model", shlex.quote(model_id)]
    if gpu_id:
        parts += ["--gpu", shlex.quote(gpu_id)]
    if engine in ("vllm", "tgi"):
        parts += ["--engine", engine]
    if batch_size:
        parts += ["--batch-size", str(int(batch_size))]
    return " ".join(parts)


__all__ = ["next_command"]
