"""Speed benchmark: ecolint against ruff on the source of transformers 4.57.1 and on a pinned checkout of tinygrad.

    python bench/speed.py [--runs 3] [--jobs N] [--torchfix] [--reference] [--corpus DIR] [--mirror DIR]

Downloads the transformers corpus with pip the first time (into ``$XDG_CACHE_HOME/ecolint-bench``, outside the
repository). The second corpus, tinygrad at a pinned commit (LLM inference examples, and generated modules of more
than 1 MB), is written once into the same cache from a bare git snapshot under ``--mirror`` (as
``bench/real_repos.py`` does; no network access); without either it is left out. For each corpus it times,
alternating the commands run by run so that drift in machine speed hits all of them alike:

* ``ruff check --isolated --select E,F,W --no-cache --silent`` (the yardstick; ruff is installed into this
  interpreter's environment when missing — it is a benchmark tool, not a dependency of ecolint);
* ecolint cold (an empty cache directory) and warm (the same directory again, nothing changed);
* ``ecolint check FILE`` on a corpus file without any trigger token, and on a bundled fixture with findings,
  next to ``python -c pass`` (interpreter start-up);
* optionally TorchFix (``--torchfix``; slow: minutes).

It prints the median of each time, the peak resident memory of the largest ecolint process, the ratios the
speed targets are stated in, whether the parallel cached run found exactly what a single-process uncached
run finds (``--reference`` also compares a run with the prefilter switched off: every file through libcst,
several minutes), and the five files that took longest in that single-process run (each file's own time:
prefilter, parse, rules; not the interpreter's start-up).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

VERSION = "4.57.1"
REPO = Path(__file__).resolve().parent.parent
SECOND = ("tinygrad/tinygrad", "a9069c177a9da9cca18593edf55acd2e6073cca6")  # the second corpus, pinned


def cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "ecolint-bench"


def ensure_corpus(root: Path) -> Path:
    """``<root>/transformers-<VERSION>`` with its ``src/`` tree; downloaded and unpacked when missing."""
    target = root / f"transformers-{VERSION}"
    if (target / "src" / "transformers").is_dir():
        return target
    root.mkdir(parents=True, exist_ok=True)
    dl = root / "download"
    cmd = [sys.executable, "-m", "pip", "download", f"transformers=={VERSION}", "--no-deps", "--no-binary", ":all:", "-d", str(dl), "-q"]
    print("downloading the corpus:", " ".join(cmd[2:]), flush=True)
    subprocess.run(cmd, check=True)
    import tarfile

    sdist = next(dl.glob(f"transformers-{VERSION}.tar.gz"))
    with tarfile.open(sdist) as tar:
        members = [m for m in tar.getmembers() if m.name.startswith(f"transformers-{VERSION}/src/") and (m.isfile() or m.isdir())]
        tar.extractall(root, members=members)  # noqa: S202 - a release archive we just downloaded
    return target


def ensure_second(root: Path, mirror: Path | None) -> Path | None:
    """The checkout of the second corpus in the cache, written from ``mirror`` when missing (None without it)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from real_repos import Repo, materialise

    repo = Repo(SECOND[0], SECOND[1], "library")
    target = repo.checkout_dir(root)
    if (target / ".ecolint-bench-complete").exists():
        return target
    if mirror is None:
        return None
    return materialise(repo, mirror, root)


def find_tool(name: str, package: str) -> str:
    here = Path(sys.executable).parent / name
    if here.exists():
        return str(here)
    found = shutil.which(name)
    if found:
        return found
    print(f"installing {package} into {sys.prefix} for the benchmark", flush=True)
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", package], check=True)
    return str(Path(sys.executable).parent / name)


def timed(cmd: list[str], cwd: Path, env: dict | None = None) -> tuple[float, int, subprocess.CompletedProcess]:
    """Wall seconds and the peak RSS (KiB) of the command: ru_maxrss of the reaped child, which also covers
    the descendants it reaped itself (the worker pool)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, stdout=out, stderr=err, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return wall, usage.ru_maxrss, subprocess.CompletedProcess(cmd, proc.returncode, out.read(), err.read())


def trigger_free_file(src: Path) -> Path:
    from ecolint.config import Settings
    from ecolint.prefilter import live_rules
    from ecolint.runner import Engine

    engine = Engine.create(Settings(root=src))
    for path in sorted(src.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        if len(text) > 2000 and not live_rules(text, "python", engine) and "noqa" not in text.lower():
            return path
    raise SystemExit("no trigger-free file in the corpus")


# A single-process uncached run of the CLI that also writes each file's own time (``_lint_one``) to argv[1].
_TIMED_RUN = (
    "import sys, time, json; from ecolint import runner, cli; real = runner._lint_one; times = {}\n"
    "def timed(task):\n"
    "    t = time.perf_counter(); out = real(task); times[task[0]] = (time.perf_counter() - t, len(task[1])); return out\n"
    "runner._lint_one = timed\n"
    "try:\n"
    "    code = cli.main(sys.argv[2:])\n"
    "finally:\n"
    "    open(sys.argv[1], 'w').write(json.dumps(times))\n"
    "sys.exit(code)\n"
)


def median(xs: list[float]) -> float:
    return statistics.median(xs) if xs else float("nan")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--jobs", type=int, default=0, help="ecolint --jobs (0: one per CPU)")
    ap.add_argument("--corpus", type=Path, help="directory holding transformers-%s/src (default: a download cache)" % VERSION)
    ap.add_argument("--mirror", type=Path, help="directory of bare git snapshots <owner>+<name>[/repo] to write the second corpus from")
    ap.add_argument("--torchfix", action="store_true", help="also time TorchFix once (minutes)")
    ap.add_argument("--reference", action="store_true", help="also compare findings with a no-prefilter single-process run (minutes)")
    args = ap.parse_args(argv)

    corpus = ensure_corpus(args.corpus or cache_root())
    second = ensure_second(args.corpus or cache_root(), args.mirror)
    corpora = [("transformers", corpus, "src")]
    if second is not None:
        corpora.append(("tinygrad", second, "."))
    else:
        print(f"second corpus ({SECOND[0]}) left out: no checkout in the cache and no --mirror to write it from", flush=True)
    ok = True
    for i, (name, where, target) in enumerate(corpora):
        ok = bench_corpus(args, name, where, target, first=i == 0) and ok
    return 0 if ok else 1


def bench_corpus(args: argparse.Namespace, name: str, corpus: Path, target: str, first: bool) -> bool:
    """Time one corpus and print its table; True when the cached parallel run found what the single-process run
    finds (and the no-prefilter reference, when asked)."""
    src = corpus / target
    pys = [p for p in src.rglob("*.py") if p.is_file()]
    size = sum(p.stat().st_size for p in pys)
    print(f"\n== {name}: {src} ({len(pys)} Python files, {size / 1e6:.1f} MB, largest {max(p.stat().st_size for p in pys) / 1e6:.2f} MB); {os.cpu_count()} CPUs", flush=True)

    ruff = find_tool("ruff", "ruff")
    eco = [sys.executable, "-m", "ecolint"]
    env = {**os.environ, "NO_COLOR": "1"}
    env.pop("ECOLINT_NO_CACHE", None)
    # An installed package runs from its bytecode cache; let the timed runs write and use one.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    scratch = Path(tempfile.mkdtemp(prefix="ecolint-bench-"))
    jobs = ["-j", str(args.jobs)]
    one_clean = trigger_free_file(src) if first else None
    one_bad = REPO / "fixtures" / "chat_int8.py"

    keys = ("ruff", "cold", "warm", "python", "one_clean", "one_bad") if first else ("ruff", "cold", "warm")
    times: dict[str, list[float]] = {k: [] for k in keys}
    peak_kib = 0
    cold_json = None
    try:
        for i in range(args.runs):
            cache = scratch / f"cache{i}"
            # --silent: ruff computes every diagnostic but prints none (printing ~100,000 of them to a file
            # would triple its time and flatter the ratios below); --isolated: the corpus's own ruff settings
            # (exclusions, per-file ignores) do not apply, so both tools read every file
            t, _, r = timed([ruff, "check", "--isolated", "--select", "E,F,W", "--no-cache", "--exit-zero", "--silent", target], corpus)
            times["ruff"].append(t)
            t, peak, r = timed([*eco, "check", target, *jobs, "--cache-dir", str(cache), "--exit-zero", "--output-format", "json"], corpus, env)
            if r.returncode not in (0, 1):
                sys.stderr.write(r.stderr.decode())
                return False
            times["cold"].append(t)
            peak_kib = max(peak_kib, peak)
            cold_json = r.stdout
            t, _, r = timed([*eco, "check", target, *jobs, "--cache-dir", str(cache), "--exit-zero", "--output-format", "json"], corpus, env)
            times["warm"].append(t)
            if r.stdout != cold_json:
                print("warm run differs from the cold run!", file=sys.stderr)
                return False
            if first:
                assert one_clean is not None
                times["python"].append(timed([sys.executable, "-c", "pass"], corpus, env)[0])
                times["one_clean"].append(timed([*eco, "check", "--no-cache", "--exit-zero", str(one_clean)], corpus, env)[0])
                times["one_bad"].append(timed([*eco, "check", "--no-cache", "--exit-zero", str(one_bad)], corpus, env)[0])
            print(f"run {i + 1}/{args.runs}: " + ", ".join(f"{k} {v[-1]:.2f}s" for k, v in times.items()), flush=True)

        per_file = scratch / "per-file.json"
        single = subprocess.run(
            [sys.executable, "-c", _TIMED_RUN, str(per_file), "check", target, "-j", "1", "--no-cache", "--exit-zero", "--output-format", "json"],
            cwd=corpus, capture_output=True, env=env,
        )
        same = single.stdout == cold_json
        file_times = json.loads(per_file.read_text(encoding="utf-8")) if per_file.exists() else {}
        ref_same = None
        if args.reference:
            code = (
                "import sys; from pathlib import Path; from ecolint.config import load_settings; "
                "from ecolint.runner import Engine, lint_paths; from ecolint.report import ReportContext, render; "
                f"e = Engine.create(load_settings(Path({target!r}))); e.prefilter = False; "
                f"run = lint_paths([Path({target!r})], e, jobs=1); "
                "sys.stdout.write(render('json', run.findings, ReportContext(files_checked=run.files_checked, root=e.settings.root, colour=False, width=100, verbose=False, source_lines=lambda p: None)))"  # noqa: E501
            )
            t0 = time.perf_counter()
            ref = subprocess.run([sys.executable, "-c", code], cwd=corpus, capture_output=True, env=env)
            print(f"reference run (no prefilter, one process): {time.perf_counter() - t0:.1f}s", flush=True)
            ref_same = json.loads(ref.stdout or b"[]") == json.loads(cold_json or b"[]")
        torchfix_t = None
        if args.torchfix and first:
            tf = find_tool("torchfix", "torchfix")
            torchfix_t = timed([tf, target], corpus)[0]
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

    m = {k: median(v) for k, v in times.items()}
    findings = len(json.loads(cold_json or b"[]"))
    print()
    print(f"{'command (' + name + ')':<44}{'median s':>10}{'x ruff':>9}")
    rows = [
        ("ruff check --select E,F,W --no-cache --silent", m["ruff"]),
        (f"ecolint check (cold, {args.jobs or os.cpu_count()} jobs)", m["cold"]),
        ("ecolint check (warm, nothing changed)", m["warm"]),
    ]
    if first:
        rows += [
            ("python -c pass (start-up)", m["python"]),
            ("ecolint check ONE trigger-free file", m["one_clean"]),
            ("ecolint check ONE file with findings", m["one_bad"]),
        ]
    if torchfix_t is not None:
        rows.append(("torchfix (once)", torchfix_t))
    for label, t in rows:
        print(f"{label:<44}{t:>10.3f}{t / m['ruff']:>9.1f}")
    print()
    print(f"cold / ruff         {m['cold'] / m['ruff']:6.1f}x   (goal <= {8 if first else 10}x; {m['cold']:.1f} s)")
    print(f"warm / ruff         {m['warm'] / m['ruff']:6.1f}x   (goal <= 1.2x)")
    if first:
        print(f"one clean file      start-up + {m['one_clean'] - m['python']:.3f} s   (goal <= +0.1 s)")
        print(f"one file, findings  {m['one_bad']:.3f} s   (target <= 0.4 s)")
    print(f"peak RSS            {peak_kib / 1024:.0f} MB   (largest process of a cold run; goal <= 300 MB)")
    print(f"findings            {findings}; parallel+cache == single-process uncached: {same}" + (f"; == no-prefilter reference: {ref_same}" if ref_same is not None else ""))
    slowest = sorted(file_times.items(), key=lambda kv: -kv[1][0])[:5]
    print("slowest files       (single process, each file's own time; goal <= 1 s for files up to 2 MB)")
    for path, (secs, nbytes) in slowest:
        print(f"  {secs:7.3f} s  {nbytes / 1e6:6.2f} MB  {path}")
    if one_clean is not None:
        print(f"trigger-free file   {one_clean.relative_to(corpus)}")
    return same and ref_same is not False


if __name__ == "__main__":
    raise SystemExit(main())
