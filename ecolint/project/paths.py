"""Where the project model may read: files inside the project root, symlinks resolved."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Optional

if TYPE_CHECKING:  # pragma: no cover
    from ecolint.project.model import Project


def inside_real(project: "Project", path: str) -> Optional[str]:
    """``path`` when it, and the file it names once symlinks are resolved, are inside the project root; else
    None."""
    if not project.inside(path):
        return None
    root = os.path.realpath(project.root)
    real = os.path.realpath(path)
    return path if real == root or real.startswith(root.rstrip(os.sep) + os.sep) else None
