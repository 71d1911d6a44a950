"""Keeping CPython's cyclic garbage collector off the syntax trees.

A syntax tree is hundreds of thousands of objects, and the collector counts every one of them as an
allocation: building a large tree triggers full collections, each of which walks every object alive (the tree so
far, and everything the process keeps), and an analysis that holds a large tree triggers more while it runs.
That was a third of the time of a run over a large corpus.

* :func:`paused`: no collection while code that creates no reference cycles builds and walks a tree
  (``ast.parse`` and the prefilter's walk); what it frees is freed as usual by reference counting.
* :func:`one_file`: no collection while one file is analysed (its tree is built, analysed and its rules run),
  then one collection of the youngest generation: it holds exactly the objects created for that file (none
  were moved on while the collector was off), so the file's cyclic garbage is freed by walking that file's
  objects once, not the whole heap again and again.

The trees themselves are left to reference counting, so that collection has little to walk: the runner drops
the analysis objects that refer to a libcst tree from reference cycles (``FileFacts.release``) and forgets the
prefilter's CPython tree when the file is done. A tree kept on into later files would instead be moved to the
older generations, where every full collection walks it again.

* :func:`settled`: while a run lints its files, whatever is still alive once a file is done and collected
  (the project model's module summaries, caches, results: long-lived by then) is moved out of the collector's
  sight (``gc.freeze``), so that later collections do not walk it again and again -- the summaries of a
  project's large generated modules are millions of objects. It is all handed back when the run ends
  (``gc.unfreeze``), so a process that goes on (a test session, an editor) loses nothing; within the run,
  reference counting still frees it, only a reference cycle formed later among such objects waits for the end.

None of these changes what is computed, only when cyclic garbage is reclaimed (at the latest at the end of the
file that made it, or of the run). They do nothing when the collector is already off.
"""

from __future__ import annotations

import gc
from contextlib import contextmanager
from typing import Iterator


@contextmanager
def paused() -> Iterator[None]:
    """No cyclic collection inside the block (for code that creates no reference cycles)."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


@contextmanager
def one_file() -> Iterator[None]:
    """No cyclic collection inside the block; the objects it created that are cyclic garbage when it ends are
    collected then (and, inside :func:`settled`, the survivors are set aside)."""
    try:
        with paused():
            yield
    finally:
        if gc.isenabled():  # (off before the block: nothing to do, as in paused)
            gc.collect(0)
            if _Run.depth:
                gc.freeze()


class _Run:
    depth = 0  # nesting of settled() blocks (a forked worker inherits it)


@contextmanager
def settled() -> Iterator[None]:
    """A run of :func:`one_file` blocks whose survivors are set aside until the block ends (see above). Nothing
    is set aside in a process that froze objects itself (``gc.freeze`` before forking servers): handing ours
    back at the end would hand back its own too."""
    if not _Run.depth and gc.get_freeze_count():
        yield
        return
    _Run.depth += 1
    try:
        yield
    finally:
        _Run.depth -= 1
        if not _Run.depth:
            gc.unfreeze()
