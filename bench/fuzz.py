"""A long robustness campaign, outside CI: feed ecolint generated and mutated input and report every crash.

    python bench/fuzz.py                 # 12,000 inputs, both CPUs
    python bench/fuzz.py -n 500 --jobs 1 --seed 7 --out /tmp/fuzz-failures

Inputs, in fixed proportions:

* ``grammar``   Python programs generated from the grammar (hypothesmith);
* ``program``   inference-shaped Python programs assembled from fragments (loads, quantization configs,
                generate calls, loops, noqa comments) in random layouts, line endings and encodings;
* ``mutant``    byte-level mutations of ``fixtures/`` and of every rule's VALID/INVALID example (bit flips,
                insertions of interesting tokens, deletions, duplications, splices, line-ending changes);
* ``config``    the same mutations applied to the YAML and TOML seeds only (the config front ends).

Each input is linted with the prefilter on and off, then fixed (``--unsafe-fixes``) in a temporary file.
A failure is one of:

* ``crash``      an exception escaped, or a worker process died (a signal: the input is recovered from the
                 worker's scratch file);
* ``eco903``     ecolint reported an internal error;
* ``hang``       one input took longer than ``--budget`` seconds;
* ``fix-broke``  ``--fix`` produced text that does not parse, or had to revert itself;
* ``fix-unstable`` fixing the fixed text changed it again (not idempotent);
* ``fix-touched`` a file without applicable fixes was not written back byte for byte, or a fixed file does
                 not hold the fixed text in the file's own encoding.

Failing inputs are written to ``--out`` (default: a temporary directory) with a note of what failed. The
exit status is 1 when anything failed.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import sys
import tempfile
import time
import traceback
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Iterator, Optional

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

CATEGORIES = {"grammar": 0.25, "program": 0.25, "mutant": 0.35, "config": 0.15}

# Tokens that tend to matter to the parsers and front ends; inserted by the mutator.
INTERESTING: tuple[bytes, ...] = (
    b"(", b")", b"[", b"]", b"{", b"}", b"\n", b"\r\n", b"\r", b"\t", b"    ", b"#", b"\\", b"\\\n", b'"', b"'",
    b'"""', b"'''", b":", b",", b"=", b".", b"\x00", b"\xff", b"\xef\xbb\xbf", b"\xe9", b"\xc3\xa9", b"\xe2\x98\x83",
    b"# noqa", b"# noqa: ECO101", b"# noqa: ECO301, ECO999", b"# ecolint: noqa", b"# -*- coding: latin-1 -*-\n",
    b"# coding: utf-16\n", b"load_in_8bit=True", b"load_in_4bit=True", b"use_cache=False", b"torch_dtype=torch.float32",
    b"llm_int8_threshold=6.0", b"bnb_4bit_compute_dtype=torch.bfloat16", b".generate(", b"BitsAndBytesConfig(",
    b"from_pretrained(", b"pipeline(", b"LLM(", b"for p in prompts:\n    ", b"lambda: ", b"async ", b"await ",
    b"match x:\n    case 1:\n        pass\n", b"elif ", b"else:", b"*", b"**", b"not ", b" and ", b"f'{", b"}'",
    b"&a ", b"*a", b"<<: *a", b"!!python/object/apply:os.system ['true']", b"!!binary ", b"? ", b"- ", b"---\n",
    b"...\n", b"%YAML 1.2\n", b"{{ .Values.image }}", b"{% if x %}", b"[[", b"]]", b"[tool.ecolint]\n", b" = ",
    b"'''", b"0x", b"1e309", b"nan", b"inf", b"true", b"null", b"~", b"|\n  ", b">-\n  ", b"--quantize bitsandbytes",
    b"--dtype float32", b"--max-num-seqs 1", b"QUANTIZE=bitsandbytes", b"$(", b"${X:-1}", b"`", b"<<EOF\n",
)

# Repeated by the mutator to build very deep nesting (with the matching closer most of the time).
DEEP_TOKENS: tuple[bytes, ...] = (
    b"(", b"[", b"{", b"-", b"not ", b"a and ", b"a or ", b"a + ", b"2 ** ", b"lambda: ", b"1 if a else ", b".b", b"()",
    b"[0]", b'f"{', b"elif a:\n    pass\n", b"- ", b"  ", b"a: ", b"[[", b"{a = ", b"&x [", b"*x, ", b"\"a\" ",
)
DEEP_CLOSERS = {b"(": b")", b"[": b"]", b"{": b"}", b'f"{': b'}"', b"[[": b"]]", b"{a = ": b"}", b"&x [": b"]"}

PROGRAM_PARTS: tuple[str, ...] = (
    "import torch\n",
    "from transformers import AutoModelForCausalLM, AutoTokenizer, BitsAndBytesConfig, pipeline\n",
    "import transformers as tf\n",
    "from vllm import LLM, SamplingParams\n",
    "bnb = BitsAndBytesConfig(load_in_8bit=True)\n",
    "bnb = BitsAndBytesConfig(\n    load_in_8bit=True,  # int8\n    llm_int8_threshold=6.0,\n)\n",
    "bnb = BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type='nf4', bnb_4bit_compute_dtype=torch.bfloat16)\n",
    "bnb = BitsAndBytesConfig(bnb_4bit_quant_type='nf4', bnb_4bit_use_double_quant=True)\n",
    "bnb = BitsAndBytesConfig(load_in_8bit=True, load_in_4bit=True)\n",
    "model = AutoModelForCausalLM.from_pretrained('{model}', quantization_config=bnb, device_map='auto')\n",
    "model = AutoModelForCausalLM.from_pretrained(\n    '{model}',\n    torch_dtype=torch.float32,\n)\n",
    "model = AutoModelForCausalLM.from_pretrained('{model}', torch_dtype=torch.bfloat16)  # T4\n",
    "model = tf.AutoModelForCausalLM.from_pretrained('{model}', load_in_8bit=True)\n",
    "tok = AutoTokenizer.from_pretrained('{model}')\n",
    "out = model.generate(**inputs, max_new_tokens=64, use_cache=False)\n",
    "out = model.generate(\n    **inputs,\n    use_cache = False ,  # slow\n)\n",
    "for prompt in prompts:\n    ids = tok(prompt, return_tensors='pt')\n    out = model.generate(**ids)\n",
    "results = [model.generate(**tok(p, return_tensors='pt')) for p in prompts]\n",
    "gen = pipeline('text-generation', model='{model}', batch_size=1)\n",
    "llm = LLM(model='{model}', quantization='bitsandbytes', max_num_seqs=1, dtype='float32')\n",
    "model.generation_config.use_cache = False\n",
    "model = model.to(torch.bfloat16)\n",
    "with torch.autocast('cuda', dtype=torch.bfloat16):\n    out = model.generate(**inputs)\n",
    "def run(prompts):\n    for p in prompts:\n        yield model.generate(**tok(p, return_tensors='pt'))\n",
    "class Server:\n    def __init__(self):\n        self.model = AutoModelForCausalLM.from_pretrained('{model}', load_in_8bit=True)\n",
    "x = 1  # noqa: ECO101\n",
    "# ecolint: noqa: ECO301\n",
    "'''BitsAndBytesConfig(load_in_8bit=True) in a docstring'''\n",
    "if __name__ == '__main__':\n    main()\n",
    "try:\n    import bitsandbytes\nexcept ImportError:\n    bitsandbytes = None\n",
)
MODELS = ("mistralai/Mistral-7B-v0.1", "Qwen/Qwen2.5-0.5B-Instruct", "gpt2", "meta-llama/Llama-2-70b-hf", "./local", "")


# -- seeds ------------------------------------------------------------------------------------------------
def seed_corpus() -> list[tuple[str, bytes]]:
    """(file name, bytes) for every fixture file and every rule example."""
    from ecolint.registry import all_rules
    from ecolint.sources import kind_for

    seeds: list[tuple[str, bytes]] = []
    fixtures = ROOT / "fixtures"
    if fixtures.is_dir():
        for path in sorted(fixtures.rglob("*")):
            if path.is_file() and kind_for(path) is not None:
                seeds.append((path.name, path.read_bytes()))
    for rule in all_rules():
        for ex in (*rule.VALID, *rule.INVALID):
            seeds.append((Path(ex.filename).name, ex.code.encode("utf-8")))
    return seeds


def config_seeds(seeds: list[tuple[str, bytes]]) -> list[tuple[str, bytes]]:
    return [(n, d) for n, d in seeds if n.endswith((".yaml", ".yml", ".toml"))]


# -- mutation ---------------------------------------------------------------------------------------------
def mutate(data: bytes, rng: random.Random, ops: int, donors: Optional[list[bytes]] = None) -> bytes:
    """Apply ``ops`` random byte-level edits."""
    buf = bytearray(data)
    for _ in range(ops):
        op = rng.randrange(11) if rng.random() < 0.1 else rng.randrange(10)
        n = len(buf)
        pos = rng.randrange(n + 1) if n else 0
        if op == 0 and n:  # flip a bit
            i = rng.randrange(n)
            buf[i] ^= 1 << rng.randrange(8)
        elif op == 1:  # insert a random byte
            buf[pos:pos] = bytes([rng.randrange(256)])
        elif op in (2, 3):  # insert an interesting token
            buf[pos:pos] = rng.choice(INTERESTING)
        elif op == 4 and n:  # delete a range
            end = min(n, pos + rng.randint(1, 40))
            del buf[pos:end]
        elif op == 5 and n:  # duplicate a range
            start = rng.randrange(n)
            chunk = buf[start : start + rng.randint(1, 200)]
            buf[pos:pos] = chunk * rng.randint(1, 4)
        elif op == 6 and donors:  # splice a piece of another seed
            donor = rng.choice(donors)
            if donor:
                s = rng.randrange(len(donor))
                buf[pos:pos] = donor[s : s + rng.randint(1, 300)]
        elif op == 7:  # change every line ending
            eol = rng.choice((b"\n", b"\r\n", b"\r"))
            buf = bytearray(bytes(buf).replace(b"\r\n", b"\n").replace(b"\r", b"\n").replace(b"\n", eol))
        elif op == 8:  # swap two lines
            lines = bytes(buf).split(b"\n")
            if len(lines) > 2:
                i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
                lines[i], lines[j] = lines[j], lines[i]
                buf = bytearray(b"\n".join(lines))
        elif op == 9:  # indent or dedent one line
            lines = bytes(buf).split(b"\n")
            i = rng.randrange(len(lines))
            lines[i] = (b"    " + lines[i]) if rng.random() < 0.5 else lines[i].lstrip(b" \t")
            buf = bytearray(b"\n".join(lines))
        elif op == 10:  # deep nesting: one token repeated hundreds to tens of thousands of times
            token = rng.choice(DEEP_TOKENS)
            k = int(10 ** rng.uniform(2, 4.5))
            buf[pos:pos] = token * k + (DEEP_CLOSERS.get(token, b"") * k if rng.random() < 0.7 else b"")
    return bytes(buf)


def assemble_program(rng: random.Random) -> bytes:
    """An inference-shaped program from :data:`PROGRAM_PARTS`, in a random layout and encoding."""
    parts = [rng.choice(PROGRAM_PARTS).replace("{model}", rng.choice(MODELS)) for _ in range(rng.randint(1, 9))]
    if rng.random() < 0.3:  # nest some of it in a function or loop
        body = "".join(parts[1:])
        parts = parts[:1] + ["def main():\n" + "".join("    " + ln + "\n" if ln else "\n" for ln in body.split("\n")[:-1]) or "def main():\n    pass\n"]
    text = "".join(parts)
    if rng.random() < 0.2:
        text = text.replace("'", '"')
    if rng.random() < 0.2:
        text = text.replace("\n", "\r\n")
    if rng.random() < 0.1:
        text = text.replace("    ", "\t")
    if rng.random() < 0.1:
        text = "# -*- coding: latin-1 -*-\n# café\n" + text
        return text.encode("latin-1")
    data = text.encode("utf-8")
    if rng.random() < 0.1:
        data = b"\xef\xbb\xbf" + data
    return data


# -- the oracle -------------------------------------------------------------------------------------------
@dataclass
class Failure:
    kind: str  # crash, eco903, hang, fix-broke, fix-unstable, fix-touched
    category: str
    name: str
    data: bytes
    detail: str


@dataclass
class Oracle:
    """Lints (prefilter on and off) and fixes one input; returns what went wrong."""

    budget: float = 10.0
    fix: bool = True
    engines: dict = field(default_factory=dict)
    scratch: Optional[Path] = None

    def __post_init__(self) -> None:
        from ecolint.config import Settings
        from ecolint.runner import Engine

        base = Engine.create(replace(Settings(root=ROOT), transformers_version="4.44.0"))
        self.engines = {"prefilter": base, "full": replace(base, prefilter=False)}
        if self.scratch is None:
            self.scratch = Path(tempfile.mkdtemp(prefix="ecolint-fuzz-"))

    def check(self, category: str, name: str, data: bytes) -> list[Failure]:
        failures: list[Failure] = []

        def fail(kind: str, detail: str) -> None:
            failures.append(Failure(kind, category, name, data, detail))

        start = time.monotonic()
        try:
            with _time_limit(self.budget):
                self._check(name, data, fail)
        except _Timeout:
            fail("hang", f"over {self.budget:g} s")
        except Exception:  # noqa: BLE001 - that is the finding
            fail("crash", traceback.format_exc())
        elapsed = time.monotonic() - start
        if elapsed > self.budget and not any(f.kind == "hang" for f in failures):
            fail("hang", f"{elapsed:.1f} s")
        return failures

    def _check(self, name: str, data: bytes, fail: Callable[[str, str], None]) -> None:
        from ecolint.fix import fix_file, fix_text, source_encoding
        from ecolint.runner import decode, lint_bytes
        from ecolint.sources import kind_for

        kind = kind_for(Path(name)) or "python"
        project = Path("/nonexistent")
        for label, engine in self.engines.items():
            result = lint_bytes(name, data, kind, engine, project_dir=project)
            for f in result.findings:
                if f.code == "ECO903":
                    fail("eco903", f"[{label}] {f.message}\n{f.detail}")
                    return
        if not self.fix:
            return
        engine = self.engines["full"]
        try:
            text = decode(data, kind)
        except Exception:  # noqa: BLE001 - undecodable input has nothing to fix
            return
        if len(data) > engine.settings.max_file_size:
            return
        fixed = fix_text(name, text, kind, engine, unsafe=True, project_dir=project)
        if fixed.error:
            fail("fix-broke", fixed.error)
            return
        if fixed.changed:
            again = fix_text(name, fixed.fixed, kind, engine, unsafe=True, project_dir=project)
            if again.error or again.changed:
                fail("fix-unstable", again.error or f"second pass changed the text again ({again.codes})")
                return
        # On disk: untouched files stay byte for byte, fixed files hold the fixed text in their own encoding.
        assert self.scratch is not None
        path = self.scratch / name
        path.write_bytes(data)
        try:
            on_disk = fix_file(path, name, kind, engine, unsafe=True)
            after = path.read_bytes()
            if on_disk.error and "cannot be written in its encoding" not in on_disk.error:
                fail("fix-broke", on_disk.error)
            elif not on_disk.changed or on_disk.error:
                if after != data:
                    fail("fix-touched", "a file without applied fixes was rewritten")
            else:
                if after != on_disk.fixed.encode(source_encoding(data, kind)) or decode(after, kind) != on_disk.fixed:
                    fail("fix-touched", "the fixed file does not hold the fixed text in its encoding")
                relint = lint_bytes(name, after, kind, engine, project_dir=project)
                broken = [f for f in relint.findings if f.code in ("ECO900", "ECO903")]
                if broken:
                    fail("fix-broke", f"fixed file: {broken[0].code} {broken[0].message}")
        finally:
            path.unlink(missing_ok=True)


class _Timeout(BaseException):  # not an Exception: ecolint must not catch it as one of its own errors
    pass


class _time_limit:
    """SIGALRM-based limit for the main thread (POSIX); a no-op elsewhere."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.armed = hasattr(signal, "setitimer")

    def __enter__(self):
        if self.armed:
            self.old = signal.signal(signal.SIGALRM, self._fire)
            signal.setitimer(signal.ITIMER_REAL, self.seconds)
        return self

    def _fire(self, signum, frame):
        raise _Timeout()

    def __exit__(self, *exc):
        if self.armed:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, self.old)
        return False


# -- inputs -----------------------------------------------------------------------------------------------
def generate(category: str, count: int, seed: int) -> Iterator[tuple[str, bytes]]:
    rng = random.Random(seed)
    if category == "grammar":
        yield from _grammar_programs(count, seed)
        return
    seeds = seed_corpus()
    if category == "config":
        seeds = config_seeds(seeds)
    donors = [d for _, d in seeds]
    for i in range(count):
        if category == "program":
            data = assemble_program(rng)
            if rng.random() < 0.3:
                data = mutate(data, rng, rng.randint(1, 4), donors)
            yield (f"program_{seed}_{i}.py", data)
        else:
            name, data = rng.choice(seeds)
            yield (name, mutate(data, rng, rng.choice((1, 1, 2, 3, 5, 8, 20)), donors))


def _grammar_programs(count: int, seed: int) -> Iterator[tuple[str, bytes]]:
    """Programs from hypothesmith's grammar strategy, drawn with a fixed seed (no example database)."""
    try:
        import hypothesmith
        from hypothesis import HealthCheck, Phase, given, settings
        from hypothesis import seed as hyp_seed
    except ImportError:  # pragma: no cover - the test extra is not installed
        print("hypothesmith is not installed: grammar inputs replaced by assembled programs", file=sys.stderr)
        rng = random.Random(seed)
        for i in range(count):
            yield (f"grammar_{seed}_{i}.py", assemble_program(rng))
        return
    out: list[str] = []

    @hyp_seed(seed)
    @settings(max_examples=count, deadline=None, database=None, phases=[Phase.generate], suppress_health_check=list(HealthCheck))
    @given(hypothesmith.from_grammar() | hypothesmith.from_node())
    def collect(source: str) -> None:
        out.append(source)

    collect()
    for i, source in enumerate(out[:count]):
        yield (f"grammar_{seed}_{i}.py", source.encode("utf-8", "surrogatepass"))


# -- the campaign -----------------------------------------------------------------------------------------
_ORACLE: Optional[Oracle] = None


def _work(task: tuple) -> tuple[str, int, list[Failure], float]:
    """Run one chunk of a category in a worker, leaving out the input numbers in ``skip``. The input being
    checked is kept in a scratch file (number, name, bytes) so that a worker killed by a signal can be blamed."""
    global _ORACLE
    category, count, seed, budget, fix, scratch, skip = task
    if _ORACLE is None:
        import warnings

        warnings.simplefilter("ignore", SyntaxWarning)  # generated programs warn when hypothesmith compiles them
        _ORACLE = Oracle(budget=budget, fix=fix)
    failures: list[Failure] = []
    done = 0
    began = time.monotonic()
    current_file = Path(scratch) / f"current-{os.getpid()}"
    for i, (name, data) in enumerate(generate(category, count, seed)):
        if i in skip:
            continue
        current_file.write_bytes(f"{i}\0{name}\0".encode() + data)
        failures.extend(_ORACLE.check(category, name, data))
        done += 1
    current_file.unlink(missing_ok=True)
    return category, done, failures, time.monotonic() - began


def campaign(total: int, seed: int, jobs: int, budget: float, fix: bool, chunk: int = 250) -> tuple[Counter, list[Failure], float]:
    """Check ``total`` inputs; returns (inputs per category, failures, seconds)."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed
    from concurrent.futures.process import BrokenProcessPool

    scratch = Path(tempfile.mkdtemp(prefix="ecolint-fuzz-current-"))
    tasks = []
    for index, (category, share) in enumerate(CATEGORIES.items()):
        n = round(total * share)
        k = 0
        while n > 0:
            size = min(chunk, n)
            tasks.append((category, size, seed * 1_000_003 + index * 10_000 + k, budget, fix, str(scratch), frozenset()))
            n -= size
            k += 1
    counts: Counter = Counter()
    failures: list[Failure] = []
    began = time.monotonic()
    ctx = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn")

    def run_pool(batch: list, workers: int) -> list:
        """Run ``batch``; return the tasks lost to a dead worker."""
        lost = []
        with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
            futures = {pool.submit(_work, t): t for t in batch}
            for fut in as_completed(futures):
                try:
                    category, done, fails, _ = fut.result()
                except BrokenProcessPool:
                    lost.append(futures[fut])
                    continue
                counts[category] += done
                failures.extend(fails)
                _progress(counts, failures, began)
        return lost

    lost = run_pool(tasks, max(1, jobs))
    # A worker died (a signal, e.g. a segfault in native code): every chunk in flight was lost with it. Run
    # each lost chunk again alone; when it dies again, the scratch file names the input, which is recorded as
    # a crash and left out of the next try.
    for task in lost:
        while True:
            for stale in scratch.glob("current-*"):
                stale.unlink()
            again = run_pool([task], 1)
            if not again:
                break
            left = list(scratch.glob("current-*"))
            if not left:
                break
            number, name, data = left[0].read_bytes().split(b"\0", 2)
            failures.append(Failure("crash", task[0], name.decode(errors="replace"), data, "the worker process died (a signal) on this input"))
            counts[task[0]] += 1
            task = (*task[:6], task[6] | {int(number)})
    return counts, failures, time.monotonic() - began


def _progress(counts: Counter, failures: list[Failure], start: float) -> None:
    print(f"\r{sum(counts.values()):>6} inputs, {len(failures)} failures, {time.monotonic() - start:6.0f} s", end="", file=sys.stderr, flush=True)


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", "--inputs", type=int, default=12_000, help="number of inputs (default 12,000)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--budget", type=float, default=10.0, help="seconds allowed per input (a hang beyond it)")
    parser.add_argument("--no-fix", action="store_true", help="lint only, do not exercise --fix")
    parser.add_argument("--out", type=Path, help="where failing inputs are written (default: a temporary directory)")
    args = parser.parse_args(argv)

    counts, failures, elapsed = campaign(args.inputs, args.seed, args.jobs, args.budget, not args.no_fix)
    print(file=sys.stderr)
    total = sum(counts.values())
    print(f"ecolint fuzz: {total:,} inputs in {elapsed:.0f} s ({total / max(elapsed, 1e-9):.0f}/s), seed {args.seed}, budget {args.budget:g} s/input")
    print("  " + ", ".join(f"{c} {counts[c]:,}" for c in CATEGORIES))
    by_kind = Counter(f.kind for f in failures)
    print(f"  failures: {len(failures)}" + (" (" + ", ".join(f"{k} {v}" for k, v in sorted(by_kind.items())) + ")" if failures else ""))
    if failures:
        out = args.out or Path(tempfile.mkdtemp(prefix="ecolint-fuzz-failures-"))
        out.mkdir(parents=True, exist_ok=True)
        for i, f in enumerate(failures):
            stem = f"{i:04d}-{f.kind}-{Path(f.name).stem}"
            (out / (stem + Path(f.name).suffix)).write_bytes(f.data)
            (out / (stem + ".txt")).write_text(f"{f.kind} ({f.category}) {f.name}\n\n{f.detail}\n", encoding="utf-8")
        for f in failures[:20]:
            first = f.detail.strip().splitlines()[-1] if f.detail.strip() else ""
            print(f"  - {f.kind:<12} {f.category:<8} {f.name}: {first[:150]}")
        print(f"  inputs and details written to {out}")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
