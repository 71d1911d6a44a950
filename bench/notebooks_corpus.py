"""Run the notebook reader and the IPython transform over every ``.ipynb`` of a mirrored repository.

Usage: ``python bench/notebooks_corpus.py GIT_DIR [GIT_DIR ...]`` (bare git directories; nothing is checked
out or executed). Prints how many notebooks load, why the others do not, how many code cells CPython still
refuses after the transform (with a sample of each message), and the time spent.
"""

from __future__ import annotations

import ast
import collections
import subprocess
import sys
import time

from ecolint.sources.notebook import NotebookError, load


def notebooks(git_dir: str):
    """(path, bytes) of each notebook at HEAD; bytes None when the snapshot lacks the blob (large files)."""
    names = subprocess.run(["git", "-C", git_dir, "ls-tree", "-r", "-z", "--name-only", "HEAD"], capture_output=True, text=True, check=True).stdout
    for name in names.split("\0"):
        if name.endswith(".ipynb"):
            proc = subprocess.run(["git", "-C", git_dir, "show", f"HEAD:{name}"], check=False, capture_output=True)
            yield name, proc.stdout if proc.returncode == 0 else None


def main(dirs: list[str]) -> None:
    counts: collections.Counter = collections.Counter()
    errors: dict[str, list[str]] = collections.defaultdict(list)
    refused: dict[str, list[str]] = collections.defaultdict(list)
    kinds: collections.Counter = collections.Counter()
    elapsed = 0.0
    size = 0
    for git_dir in dirs:
        for name, data in notebooks(git_dir):
            if data is None:
                counts["absent from the snapshot"] += 1
                continue
            counts["notebooks"] += 1
            size += len(data)
            start = time.perf_counter()
            try:
                nb = load(data)
            except NotebookError as exc:
                elapsed += time.perf_counter() - start
                counts["not loaded"] += 1
                errors[exc.message.split(":")[0]].append(name)
                continue
            elapsed += time.perf_counter() - start
            if not nb.is_python:
                counts["other kernel"] += 1
                continue
            counts["loaded"] += 1
            counts["code cells"] += len(nb.cells)
            counts["cells with IPython"] += sum(1 for c in nb.cells if c.transformed.changed)
            counts["non-Python cells"] += sum(1 for c in nb.cells if not c.transformed.python)
            for c in nb.cells:
                kinds.update(b.kind for b in c.transformed.blanks)
            try:
                compile(nb.virtual.text, name, "exec", flags=ast.PyCF_ONLY_AST | ast.PyCF_ALLOW_TOP_LEVEL_AWAIT, dont_inherit=True)
            except SyntaxError as exc:  # every cell parses alone, so the module should too
                counts["joined module refused"] += 1
                refused[f"joined module: {exc.msg}"].append(name)
            for err in nb.virtual.errors:
                counts["cells CPython refuses"] += 1
                refused[err.message].append(f"{name} cell {err.cell} line {err.line}")
    for key, value in counts.items():
        print(f"{key}: {value}")
    print(f"blanked lines by kind: {dict(kinds)}")
    print(f"time: {elapsed:.2f} s for {size / 1e6:.1f} MB")
    for message, names in sorted(errors.items()):
        print(f"not loaded ({len(names)}): {message}: {names[:3]}")
    for message, where in sorted(refused.items(), key=lambda kv: -len(kv[1])):
        print(f"refused ({len(where)}): {message}: {where[:3]}")


if __name__ == "__main__":
    main(sys.argv[1:])
