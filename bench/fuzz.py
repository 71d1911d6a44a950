"""A long robustness and fix-safety campaign, outside CI: feed ecolint generated and mutated input and record
every crash, hang and unsafe fix.

Run it::

    python bench/fuzz.py                              # 12,000 inputs, one worker per CPU, seed 0
    python bench/fuzz.py -n 20000 --seed 31337 --budget 20 --out /tmp/fuzz-31337
    python bench/fuzz.py -n 300 --only flags          # one generator
    python bench/fuzz.py -n 40 --only hang --budget 1  # the test hook: every input is killed at the budget

Each input runs in a worker process (``--workers``, default one per CPU) fed over a pipe. The parent kills a
worker whose input runs past ``--budget`` seconds (native code included), records a ``timeout`` failure naming
the input and starts a fresh worker: no input can stall the campaign. Worker memory is capped
(``--memory-mb``), so a runaway read fails instead of exhausting the machine.

Generators (``bench/fuzz_gen.py``; ``--only NAME`` runs one): ``grammar`` (hypothesmith), ``program``
(inference-shaped fragments), ``mutant`` / ``config`` (byte mutations of the fixtures and rule examples),
``indented``, ``shared``, ``mutated``, ``flags``, ``side_effects``, ``comments``, ``yaml_anchors``,
``noqa_strings``, ``separators``, ``newlines``, ``fs_objects`` (a FIFO, a symlink to /dev/zero, a symlink
loop, a read-only file), and ``hang`` (test hook, not in the default mix).

What each input goes through (``bench/fuzz_oracle.py``): a lint with the prefilter on and off; ``check
--output-format json`` for the findings, their spans and fix applicability; then ``check --fix`` and ``check
--fix --unsafe-fixes`` on a copy in a fresh project directory, each followed by the oracles. Failure kinds:

* ``timeout``            the input ran past the budget (the worker was killed);
* ``worker-died``        the worker process died (a signal, the memory cap);
* ``crash`` / ``eco903`` an internal error escaped / was reported; ``bad-json`` the JSON report did not parse;
* ``prefilter-missed``   a finding appears with the prefilter off only;
* ``missed-finding`` / ``wrong-finding``  a finding the generator knows must (not) be there, e.g. a ``noqa``
                         inside a string or a Unicode line separator that must not act as a directive / line break;
* ``fix-broke``          the fixed file does not parse / load, or ecolint reverted its own fix;
* ``fixed-invalid-source`` a file CPython rejects was rewritten;
* ``ast-changed``        the CPython AST changed outside the keywords / dict entries the applied fixes name;
* ``safe-fix-side-effect`` a safe fix deleted a call, walrus, ``await`` or ``yield``;
* ``live-option-removed`` a safe fix deleted an option the generator made live (run-time flag, later mutation);
* ``shared-container`` / ``mutated-container``  a fix edited a dict used at several places, or a container
                         changed later (``kw[...] =``, ``kw.update``, ``cfg.attr =``);
* ``diff-outside-statement`` the diff touches lines outside the statements of the fixed findings;
* ``indent-changed`` / ``newline-changed``  a line the fix kept lost its indentation or its newline bytes;
* ``comment-moved`` / ``fmt-off-edited``  a comment moved to other code / a ``# fmt: off`` region was edited;
* ``doc-changed``        the loaded YAML/TOML document changed outside the edited keys (e.g. through an anchor);
* ``fix-touched`` / ``stray-file``  a file not asked for changed / a new file appeared (other than the cache);
* ``fix-unstable`` / ``fix-unexpected`` / ``fix-undecodable``  fixing twice changed the text again / a file
                         changed without a fix reported / an undecodable file was rewritten;
* ``fs-unreported`` / ``fix-readonly``  a FIFO, device or symlink loop got no ECO901 / a read-only file was rewritten.

Reading the output: every failure is appended to ``OUT/failures.jsonl`` the moment it is found (one JSON object
a line: ``kind``, ``generator``, ``index``, ``seed``, ``name``, ``input`` (the saved copy under ``OUT/inputs/``),
``message``, ``seconds``), so a campaign killed half way loses nothing. ``OUT/summary.json`` and the printed
summary give the inputs per generator, failures by kind, inputs over budget, the slowest inputs and the wall
time. Reproduce one input with ``--only GENERATOR --seed SEED`` (the index is the input's position in that
generator's stream). The exit status is 1 when anything failed.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import sys
import tempfile
import time
import traceback
from collections import Counter
from multiprocessing.connection import wait
from pathlib import Path
from typing import Iterable, Iterator, Optional

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
for p in (str(ROOT), str(HERE)):
    if p not in sys.path:
        sys.path.insert(0, p)

import fuzz_gen  # noqa: E402
from fuzz_gen import GENERATORS, MIX, MODELS, PROGRAM_PARTS, Input, mutate, seed_corpus  # noqa: E402,F401


def config_seeds(seeds: list[tuple[str, bytes]]) -> list[tuple[str, bytes]]:
    return [(n, d) for n, d in seeds if n.endswith((".yaml", ".yml", ".toml"))]


class Oracle:
    """In-process robustness checks of one input (no budget, no semantic oracles), for the property tests
    in ``tests/test_properties.py``: ``check(category, name, data)`` returns failures with ``kind`` and
    ``detail``. The campaign itself runs :func:`fuzz_oracle.check_input` in killable workers."""

    def __init__(self, budget: float = 30.0) -> None:
        import fuzz_oracle

        self.budget = budget
        self.engines = fuzz_oracle.engines()  # "prefilter" and "full"
        self.scratch = Path(tempfile.mkdtemp(prefix="ecolint-fuzz-oracle-"))
        self.count = 0

    def check(self, category: str, name: str, data: bytes) -> list:
        from types import SimpleNamespace

        import fuzz_oracle

        self.count += 1
        found = fuzz_oracle.check_input(name, data, {}, self.scratch / str(self.count), semantic=False)
        return [SimpleNamespace(kind=kind, category=category, name=name, data=data, detail=message) for kind, message in found]


# -- the worker -----------------------------------------------------------------------------------------------

def _worker_main(conn, scratch: str, memory_mb: int) -> None:
    """Receive inputs, check each one, send back (failures, seconds); exit on ``None``."""
    import warnings

    warnings.simplefilter("ignore")
    if memory_mb:
        try:
            import resource

            limit = memory_mb * 1024 * 1024
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        except (ImportError, ValueError, OSError):
            pass
    import fuzz_oracle

    base = Path(scratch) / f"w{os.getpid()}"
    while True:
        try:
            task = conn.recv()
        except EOFError:
            return
        if task is None:
            return
        name, data, meta, index = task
        began = time.monotonic()
        try:
            failures = fuzz_oracle.check_input(name, data, meta, base / str(index))
        except MemoryError:
            failures = [("crash", "MemoryError (the worker's memory cap)")]
        except Exception:  # noqa: BLE001 - that is the finding
            failures = [("crash", traceback.format_exc()[-2000:])]
        conn.send((failures, time.monotonic() - began))


class _Worker:
    def __init__(self, ctx, scratch: Path, memory_mb: int) -> None:
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_worker_main, args=(child, str(scratch), memory_mb), daemon=True)
        self.proc.start()
        child.close()
        self.item: Optional[Input] = None
        self.started = 0.0

    def give(self, item: Input) -> None:
        self.item, self.started = item, time.monotonic()
        self.conn.send((item.name, item.data, item.meta, item.index))

    def kill(self) -> None:
        self.proc.kill()
        self.proc.join(5)
        self.conn.close()


# -- recording ------------------------------------------------------------------------------------------------

class Recorder:
    """Writes each failure (and its input) the moment it is found; keeps the figures for the summary."""

    def __init__(self, out: Path, seed: int) -> None:
        self.out, self.seed = out, seed
        (out / "inputs").mkdir(parents=True, exist_ok=True)
        self.jsonl = open(out / "failures.jsonl", "a", encoding="utf-8")
        self.runs: Counter = Counter()
        self.kinds: Counter = Counter()
        self.by_generator: Counter = Counter()
        self.examples: dict[str, dict] = {}
        self.slowest: list[tuple[float, str]] = []
        self.over_budget = 0

    def ran(self, item: Input, seconds: float) -> None:
        self.runs[item.generator] += 1
        self.slowest.append((seconds, f"{item.generator}#{item.index} {item.name}"))
        if len(self.slowest) > 200:
            self.slowest = sorted(self.slowest, reverse=True)[:10]

    def failed(self, item: Input, kind: str, message: str, seconds: float) -> None:
        safe = "".join(c if c.isalnum() or c in "._-" else "_" for c in item.name)[:80]
        saved = self.out / "inputs" / f"{item.generator}-{item.index:06d}-{safe}"
        if not saved.exists():
            saved.write_bytes(item.data if "fs" not in item.meta else json.dumps(item.meta).encode())
        record = {
            "kind": kind, "generator": item.generator, "index": item.index, "seed": self.seed, "name": item.name,
            "input": str(saved), "message": message, "seconds": round(seconds, 3),
        }
        self.jsonl.write(json.dumps(record, ensure_ascii=False) + "\n")
        self.jsonl.flush()
        os.fsync(self.jsonl.fileno())
        self.kinds[kind] += 1
        self.by_generator[item.generator] += 1
        self.examples.setdefault(kind, record)
        if kind == "timeout":
            self.over_budget += 1

    def close(self) -> None:
        self.jsonl.close()


# -- the campaign ---------------------------------------------------------------------------------------------

def plan(total: int, only: Optional[str]) -> dict[str, int]:
    """Inputs per generator: ``total`` split by :data:`MIX`, or all of them for ``only``."""
    if only:
        return {only: total}
    counts = {g: int(total * share) for g, share in MIX.items()}
    for g in list(MIX)[: total - sum(counts.values())]:
        counts[g] += 1
    return counts


def campaign(items: Iterable[Input], recorder: Recorder, workers: int, budget: float, memory_mb: int = 3072, progress: bool = True) -> float:
    """Run every input through a pool of killable workers; returns the wall time."""
    ctx = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn")
    scratch = Path(tempfile.mkdtemp(prefix="ecolint-fuzz-"))
    began = time.monotonic()
    pool = [_Worker(ctx, scratch, memory_mb) for _ in range(max(1, workers))]
    source: Iterator[Input] = iter(items)
    exhausted = False
    done = 0
    try:
        while True:
            for _i, w in enumerate(pool):
                if w.item is None and not exhausted:
                    item = next(source, None)
                    if item is None:
                        exhausted = True
                    else:
                        w.give(item)
            busy = [w for w in pool if w.item is not None]
            if not busy:
                break
            now = time.monotonic()
            timeout = max(0.0, min(w.started + budget for w in busy) - now)
            ready = wait([w.conn for w in busy], timeout=timeout + 0.05)
            for k, w in enumerate(pool):
                if w.item is None:
                    continue
                item, seconds = w.item, time.monotonic() - w.started
                if w.conn in ready:
                    try:
                        failures, seconds = w.conn.recv()
                    except (EOFError, OSError):
                        code = w.proc.exitcode
                        recorder.failed(item, "worker-died", f"the worker process died on this input (exit {code})", seconds)
                        pool[k] = _replace(w, ctx, scratch, memory_mb)
                        recorder.ran(item, seconds)
                        done += 1
                        continue
                    for kind, message in failures:
                        recorder.failed(item, kind, message, seconds)
                    w.item = None
                elif seconds > budget:
                    recorder.failed(item, "timeout", f"over the {budget:g} s budget: the worker was killed", seconds)
                    pool[k] = _replace(w, ctx, scratch, memory_mb)
                else:
                    continue
                recorder.ran(item, seconds)
                done += 1
                if progress and done % 25 == 0:
                    print(f"\r{done:>7} inputs, {sum(recorder.kinds.values())} failures, {time.monotonic() - began:6.0f} s", end="", file=sys.stderr, flush=True)
    finally:
        for w in pool:
            try:
                w.conn.send(None)
            except (OSError, ValueError):
                pass
        for w in pool:
            w.proc.join(2)
            if w.proc.is_alive():
                w.kill()
        import shutil

        shutil.rmtree(scratch, ignore_errors=True)
    if progress:
        print(file=sys.stderr)
    return time.monotonic() - began


def _replace(w: _Worker, ctx, scratch: Path, memory_mb: int) -> _Worker:
    w.kill()
    import shutil

    shutil.rmtree(scratch / f"w{w.proc.pid}", ignore_errors=True)
    return _Worker(ctx, scratch, memory_mb)


def summary(recorder: Recorder, wall: float, budget: float, seed: int) -> str:
    total = sum(recorder.runs.values())
    lines = [
        f"ecolint fuzz: {total:,} inputs in {wall:.0f} s ({total / max(wall, 1e-9):.1f}/s), seed {seed}, budget {budget:g} s/input",
        "  inputs per generator: " + ", ".join(f"{g} {n:,}" for g, n in sorted(recorder.runs.items())),
        f"  failures: {sum(recorder.kinds.values())}" + (" (" + ", ".join(f"{k} {v}" for k, v in sorted(recorder.kinds.items())) + ")" if recorder.kinds else ""),
        f"  inputs over budget: {recorder.over_budget}",
        "  slowest: " + "; ".join(f"{s:.2f} s {what}" for s, what in sorted(recorder.slowest, reverse=True)[:5]),
    ]
    for kind, rec in sorted(recorder.examples.items()):
        first = rec["message"].strip().splitlines()[0] if rec["message"].strip() else ""
        lines.append(f"  - {kind:<24} {rec['generator']}#{rec['index']} {rec['name']}: {first[:160]}")
    lines.append(f"  failures written to {recorder.out / 'failures.jsonl'}")
    return "\n".join(lines)


def warm_up() -> None:
    """Load the corpus, ecolint and its tables once in the parent, so that every forked worker starts warm."""
    import fuzz_oracle

    fuzz_gen.seed_corpus()
    fuzz_oracle.engines()
    with tempfile.TemporaryDirectory(prefix="ecolint-fuzz-warm-") as d:
        fuzz_oracle.check_input("warm.py", b"import torch\n", {}, Path(d) / "w")


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", "--inputs", type=int, default=12_000, help="number of inputs (default 12,000)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--budget", type=float, default=20.0, help="seconds allowed per input before its worker is killed (default 20)")
    parser.add_argument("--out", type=Path, help="where failures.jsonl, summary.json and failing inputs go (default: a new temporary directory)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="worker processes (default: one per CPU)")
    parser.add_argument("--only", choices=sorted({"grammar", *GENERATORS}), help="run this generator only")
    parser.add_argument("--memory-mb", type=int, default=3072, help="address-space cap per worker in MiB (0: none)")
    args = parser.parse_args(argv)

    out = args.out or Path(tempfile.mkdtemp(prefix="ecolint-fuzz-out-"))
    recorder = Recorder(out, args.seed)
    print(f"ecolint fuzz: writing failures to {out / 'failures.jsonl'} as they are found", file=sys.stderr)
    warm_up()
    began = time.monotonic()
    try:
        wall = campaign(fuzz_gen.inputs(plan(args.inputs, args.only), args.seed), recorder, args.workers, args.budget, args.memory_mb)
    except KeyboardInterrupt:  # stopped by hand: what ran so far is already on disk; summarise it
        wall = time.monotonic() - began
        print("\necolint fuzz: interrupted", file=sys.stderr)
    finally:
        recorder.close()
    text = summary(recorder, wall, args.budget, args.seed)
    print(text)
    (out / "summary.json").write_text(json.dumps({
        "seed": args.seed, "inputs": dict(recorder.runs), "failures": dict(recorder.kinds), "over_budget": recorder.over_budget,
        "slowest": sorted(recorder.slowest, reverse=True)[:10], "wall_s": round(wall, 1), "budget_s": args.budget,
    }, indent=2))
    return 1 if recorder.kinds else 0


if __name__ == "__main__":
    raise SystemExit(main())
