"""ecolint.heap: when cyclic garbage is collected during a run, and that a run leaves the collector as it found it."""

from __future__ import annotations

import gc
from pathlib import Path

from ecolint.config import Settings
from ecolint.heap import one_file, settled
from ecolint.runner import Engine, lint_paths

ROOT = Path(__file__).resolve().parent.parent


def test_survivors_of_a_file_are_set_aside_for_the_run_only():
    assert gc.get_freeze_count() == 0
    with settled():
        with one_file():
            kept = [[] for _ in range(100)]  # alive after the file: set aside
        assert gc.get_freeze_count() >= 100
        with settled():  # nested: still set aside until the outer run ends
            pass
        assert gc.get_freeze_count() >= 100
    assert gc.get_freeze_count() == 0
    assert len(kept) == 100


def test_a_run_hands_everything_back():
    engine = Engine.create(Settings(root=ROOT))
    run = lint_paths([ROOT / "fixtures" / "chat_int8.py", ROOT / "fixtures" / "traps.py"], engine)
    assert run.findings
    assert gc.get_freeze_count() == 0


def test_a_process_that_froze_objects_itself_keeps_them_frozen():
    engine = Engine.create(Settings(root=ROOT))
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        assert frozen > 0
        lint_paths([ROOT / "fixtures" / "chat_int8.py"], engine)
        # nothing of ours added (some of theirs may have been freed meanwhile), nothing of theirs handed back
        assert 0 < gc.get_freeze_count() <= frozen
    finally:
        gc.unfreeze()
