"""Speed benchmark: ecolint against ruff on the source of transformers 4.57.1, in one go.

    python bench/speed.py [--runs 3] [--jobs N] [--torchfix] [--reference] [--corpus DIR]

Downloads the corpus with pip the first time (into ``$XDG_CACHE_HOME/ecolint-bench``, outside the repository),
then times, alternating the commands run by run so that drift in machine speed hits all of them alike:

* ``ruff check --select E,F,W --no-cache --silent src`` (the yardstick; ruff is installed into this interpreter's
  environment when missing — it is a benchmark tool, not a dependency of ecolint);
* ecolint cold (an empty cache directory) and warm (the same directory again, nothing changed);
* ``ecolint check FILE`` on a corpus file without any trigger token, and on a bundled fixture with findings,
  next to ``python -c pass`` (interpreter start-up);
* optionally TorchFix (``--torchfix``; slow: minutes).

It prints the median of each time, the peak resident memory of the largest ecolint process, the ratios the
speed targets are stated in, and whether the parallel cached run found exactly what a single-process uncached
run finds (``--reference`` also compares a run with the prefilter switched off: every file through libcst,
several minutes).
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


def median(xs: list[float]) -> float:
    return statistics.median(xs) if xs else float("nan")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--jobs", type=int, default=0, help="ecolint --jobs (0: one per CPU)")
    ap.add_argument("--corpus", type=Path, help="directory holding transformers-%s/src (default: a download cache)" % VERSION)
    ap.add_argument("--torchfix", action="store_true", help="also time TorchFix once (minutes)")
    ap.add_argument("--reference", action="store_true", help="also compare findings with a no-prefilter single-process run (minutes)")
    args = ap.parse_args(argv)

    corpus = ensure_corpus(args.corpus or cache_root())
    src = corpus / "src"
    nfiles = sum(1 for _ in src.rglob("*.py"))
    size = sum(p.stat().st_size for p in src.rglob("*.py"))
    print(f"corpus: {src} ({nfiles} Python files, {size / 1e6:.1f} MB); {os.cpu_count()} CPUs", flush=True)

    ruff = find_tool("ruff", "ruff")
    eco = [sys.executable, "-m", "ecolint"]
    env = {**os.environ, "NO_COLOR": "1"}
    env.pop("ECOLINT_NO_CACHE", None)
    # An installed package runs from its bytecode cache; let the timed runs write and use one.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    scratch = Path(tempfile.mkdtemp(prefix="ecolint-bench-"))
    jobs = ["-j", str(args.jobs)]
    one_clean = trigger_free_file(src)
    one_bad = REPO / "fixtures" / "chat_int8.py"

    times: dict[str, list[float]] = {k: [] for k in ("ruff", "cold", "warm", "python", "one_clean", "one_bad")}
    peak_kib = 0
    cold_json = None
    try:
        for i in range(args.runs):
            cache = scratch / f"cache{i}"
            # --silent: ruff computes every diagnostic but prints none (printing ~100,000 of them to a file
            # would triple its time and flatter the ratios below)
            t, _, r = timed([ruff, "check", "--select", "E,F,W", "--no-cache", "--exit-zero", "--silent", "src"], corpus)
            times["ruff"].append(t)
            t, peak, r = timed([*eco, "check", "src", *jobs, "--cache-dir", str(cache), "--exit-zero", "--output-format", "json"], corpus, env)
            if r.returncode not in (0, 1):
                sys.stderr.write(r.stderr.decode())
                return 2
            times["cold"].append(t)
            peak_kib = max(peak_kib, peak)
            cold_json = r.stdout
            t, _, r = timed([*eco, "check", "src", *jobs, "--cache-dir", str(cache), "--exit-zero", "--output-format", "json"], corpus, env)
            times["warm"].append(t)
            if r.stdout != cold_json:
                print("warm run differs from the cold run!", file=sys.stderr)
                return 1
            times["python"].append(timed([sys.executable, "-c", "pass"], corpus, env)[0])
            times["one_clean"].append(timed([*eco, "check", "--no-cache", "--exit-zero", str(one_clean)], corpus, env)[0])
            times["one_bad"].append(timed([*eco, "check", "--no-cache", "--exit-zero", str(one_bad)], corpus, env)[0])
            print(f"run {i + 1}/{args.runs}: " + ", ".join(f"{k} {v[-1]:.2f}s" for k, v in times.items()), flush=True)

        single = subprocess.run([*eco, "check", "src", "-j", "1", "--no-cache", "--exit-zero", "--output-format", "json"], cwd=corpus, capture_output=True, env=env)
        same = single.stdout == cold_json
        ref_same = None
        if args.reference:
            code = (
                "import sys; from pathlib import Path; from ecolint.config import load_settings; "
                "from ecolint.runner import Engine, lint_paths; from ecolint.report import ReportContext, render; "
                "e = Engine.create(load_settings(Path('src'))); e.prefilter = False; "
                "run = lint_paths([Path('src')], e, jobs=1); "
                "sys.stdout.write(render('json', run.findings, ReportContext(files_checked=run.files_checked, root=e.settings.root, colour=False, width=100, verbose=False, source_lines=lambda p: None)))"  # noqa: E501
            )
            t0 = time.perf_counter()
            ref = subprocess.run([sys.executable, "-c", code], cwd=corpus, capture_output=True, env=env)
            print(f"reference run (no prefilter, one process): {time.perf_counter() - t0:.1f}s", flush=True)
            ref_same = json.loads(ref.stdout or b"[]") == json.loads(cold_json or b"[]")
        torchfix_t = None
        if args.torchfix:
            tf = find_tool("torchfix", "torchfix")
            torchfix_t = timed([tf, "src"], corpus)[0]
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

    m = {k: median(v) for k, v in times.items()}
    findings = len(json.loads(cold_json or b"[]"))
    print()
    print(f"{'command':<44}{'median s':>10}{'x ruff':>9}")
    rows = [
        ("ruff check --select E,F,W --no-cache --silent", m["ruff"]),
        (f"ecolint check (cold, {args.jobs or os.cpu_count()} jobs)", m["cold"]),
        ("ecolint check (warm, nothing changed)", m["warm"]),
        ("python -c pass (start-up)", m["python"]),
        ("ecolint check ONE trigger-free file", m["one_clean"]),
        ("ecolint check ONE file with findings", m["one_bad"]),
    ]
    if torchfix_t is not None:
        rows.append(("torchfix (once)", torchfix_t))
    for name, t in rows:
        print(f"{name:<44}{t:>10.3f}{t / m['ruff']:>9.1f}")
    print()
    print(f"cold / ruff         {m['cold'] / m['ruff']:6.1f}x   (target <= 20x; goal cold < 15 s: {m['cold']:.1f} s)")
    print(f"warm / ruff         {m['warm'] / m['ruff']:6.1f}x   (target <= 2x)")
    print(f"one clean file      start-up + {m['one_clean'] - m['python']:.3f} s   (target <= +0.1 s)")
    print(f"one file, findings  {m['one_bad']:.3f} s   (target <= 0.4 s)")
    print(f"peak RSS            {peak_kib / 1024:.0f} MB   (largest process of a cold run; target <= 500 MB)")
    print(f"findings            {findings}; parallel+cache == single-process uncached: {same}" + (f"; == no-prefilter reference: {ref_same}" if ref_same is not None else ""))
    print(f"trigger-free file   {one_clean.relative_to(corpus)}")
    return 0 if same and ref_same is not False else 1


if __name__ == "__main__":
    raise SystemExit(main())
