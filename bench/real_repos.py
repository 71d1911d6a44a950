"""Precision on real repositories: run ecolint over pinned public checkouts and compare with a judged list.

    python bench/real_repos.py --mirror /work/.mirror [--repos bench/real_repos.toml]
        [--judged bench/real_repos_judged.csv] [--cache DIR] [--only OWNER/NAME ...]
        [--write-unjudged FILE] [--strict] [-- EXTRA ECOLINT ARGS, e.g. --select ECO2]

Each repository in the list (``owner/name``, a pinned ``commit``, a ``kind`` and optional ``paths`` to lint) is
materialised once into ``<cache>/<owner>+<name>-<commit12>`` (default cache ``~/.cache/ecolint-real-repos``,
outside the project: the fetched code is never committed). The source is a directory of bare snapshots,
``<mirror>/<owner>+<name>/repo`` (or ``<mirror>/<owner>+<name>`` itself when it is the git directory), read
with plain ``git``; there is no network access at run time. Blobs a snapshot lacks (large files kept out of it)
are skipped and counted.

ecolint runs as ``python -m ecolint check --no-cache --output-format json --exit-zero <paths>`` in each checkout;
every finding becomes (repo, commit, path relative to the checkout, cell, line, code) and is looked up in the
judged file (CSV columns ``repo, commit, path, cell, line, code, verdict, reason``; ``cell`` is the notebook cell
of a finding in a notebook, empty elsewhere, and ``line`` counts inside that cell; verdict one of right / wrong /
debatable, empty for "not judged yet"). A judged row matches a finding on (repo, path, cell, line, code); the
commit is kept in the file so that a verdict is read against the code it was given for. ``--migrate-cells``
fills in the cell of notebook rows judged before cells were told apart (a row that matches findings in several
cells is split, and the copies lose their verdict: they must be judged again).

It prints a table per rule and overall (findings, right, wrong, debatable, unjudged, precision = right /
(right + wrong); debatable findings are counted apart and listed), the judged rows no longer found ("gone": the
rule stopped reporting them, or the list moved to another commit), and each unjudged finding with its source
line so that it can be judged quickly. Exit status 0, unless ``--strict``: then 1 when a finding is unjudged or
a rule with >= 5 findings has precision below 0.9.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

HERE = Path(__file__).resolve().parent
VERDICTS = ("right", "wrong", "debatable")
COLUMNS = ("repo", "commit", "path", "cell", "line", "code", "verdict", "reason")
STRICT_MIN_FINDINGS = 5
STRICT_MIN_PRECISION = 0.9


@dataclass(frozen=True)
class Repo:
    name: str  # owner/name
    commit: str
    kind: str
    paths: tuple[str, ...] = ()

    @property
    def slug(self) -> str:
        return self.name.replace("/", "+")

    def checkout_dir(self, cache: Path) -> Path:
        return cache / f"{self.slug}-{self.commit[:12]}"


@dataclass(frozen=True)
class Finding:
    repo: str
    commit: str
    path: str
    line: int
    code: str
    severity: str = ""
    message: str = ""
    cell: int = 0  # the notebook cell (``line`` counts inside it); 0 outside notebooks

    @property
    def key(self) -> tuple[str, str, int, int, str]:
        return (self.repo, self.path, self.cell, self.line, self.code)

    @property
    def where(self) -> str:
        return f"{self.repo}:{self.path}{f'[cell {self.cell}]' if self.cell else ''}:{self.line}"


@dataclass
class Judgement:
    repo: str
    commit: str
    path: str
    line: int
    code: str
    verdict: str
    reason: str
    cell: int = 0

    @property
    def key(self) -> tuple[str, str, int, int, str]:
        return (self.repo, self.path, self.cell, self.line, self.code)

    @property
    def where(self) -> str:
        return f"{self.repo}:{self.path}{f'[cell {self.cell}]' if self.cell else ''}:{self.line}"

    def row(self) -> list:
        return [self.repo, self.commit, self.path, self.cell or "", self.line, self.code, self.verdict, self.reason]


@dataclass
class Comparison:
    rows: list[tuple[Finding, Judgement | None]] = field(default_factory=list)
    gone: list[Judgement] = field(default_factory=list)

    def counts(self) -> dict[str, Counter]:
        """Per rule (and ``"ALL"``): findings, right, wrong, debatable, unjudged."""
        table: dict[str, Counter] = defaultdict(Counter)
        for finding, judgement in self.rows:
            verdict = judgement.verdict if judgement and judgement.verdict in VERDICTS else "unjudged"
            for key in (finding.code, "ALL"):
                table[key]["findings"] += 1
                table[key][verdict] += 1
        return table

    @property
    def unjudged(self) -> list[Finding]:
        return [f for f, j in self.rows if j is None or j.verdict not in VERDICTS]

    @property
    def debatable(self) -> list[tuple[Finding, Judgement]]:
        return [(f, j) for f, j in self.rows if j is not None and j.verdict == "debatable"]


def precision(counter: Counter) -> float | None:
    judged = counter["right"] + counter["wrong"]
    return counter["right"] / judged if judged else None


# --- the repository list -----------------------------------------------------------------------------------


def load_repos(path: Path) -> list[Repo]:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    repos = []
    for entry in data.get("repo", []):
        repos.append(Repo(entry["name"], entry["commit"], entry.get("kind", ""), tuple(entry.get("paths", ()))))
    return repos


# --- materialising a checkout from a bare snapshot ---------------------------------------------------------


def git_dir(mirror: Path, repo: Repo) -> Path:
    base = mirror / repo.slug
    return base / "repo" if (base / "repo").is_dir() else base


def materialise(repo: Repo, mirror: Path, cache: Path) -> Path:
    """The checkout of ``repo`` at its commit, written once from the bare snapshot (missing blobs skipped)."""
    target = repo.checkout_dir(cache)
    done = target / ".ecolint-bench-complete"
    if done.exists():
        return target
    gd = git_dir(mirror, repo)
    if not gd.is_dir():
        raise SystemExit(f"no snapshot of {repo.name} under {mirror} (looked for {gd})")
    listing = subprocess.run(
        ["git", "-C", str(gd), "ls-tree", "-r", "-z", repo.commit], capture_output=True, check=True
    ).stdout
    entries = []  # (sha, path) of regular files; links and submodules are left out
    for item in listing.split(b"\0"):
        if not item:
            continue
        meta, path = item.split(b"\t", 1)
        mode, kind, sha = meta.split()
        if kind == b"blob" and mode in (b"100644", b"100755"):
            entries.append((sha.decode(), path.decode("utf-8", "surrogateescape")))
    target.mkdir(parents=True, exist_ok=True)
    missing = write_blobs(gd, entries, target)
    done.write_text(f"{repo.commit}\nmissing blobs: {missing}\n", encoding="utf-8")
    if missing:
        print(f"  {repo.name}: {missing} of {len(entries)} files absent from the snapshot (skipped)", file=sys.stderr)
    return target


def write_blobs(gd: Path, entries: list[tuple[str, str]], target: Path) -> int:
    """Write each blob through one ``git cat-file --batch``; returns how many the snapshot lacks."""
    proc = subprocess.Popen(
        ["git", "-C", str(gd), "cat-file", "--batch"], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    assert proc.stdin is not None and proc.stdout is not None
    # Requests go in from a thread so that a large answer cannot block the writer.
    import threading

    def feed() -> None:
        for sha, _ in entries:
            proc.stdin.write(sha.encode() + b"\n")
        proc.stdin.close()

    threading.Thread(target=feed, daemon=True).start()
    missing = 0
    root = target.resolve()
    for _sha, rel in entries:
        header = proc.stdout.readline().split()
        if len(header) < 3 or header[1] != b"blob":  # "<sha> missing"
            missing += 1
            continue
        data = proc.stdout.read(int(header[2]))
        proc.stdout.read(1)  # the newline after the content
        dest = (target / rel).resolve()
        if root not in dest.parents:
            continue  # a path escaping the checkout: never write it
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(data)
    proc.wait()
    return missing


# --- running ecolint ----------------------------------------------------------------------------------------


BENCH_CONFIG = "# written by bench/real_repos.py: ignore files above the checkout must not hide it\nrespect-gitignore = false\n"


def pin_settings(checkout: Path) -> None:
    """Make the run independent of ``.gitignore`` files in the directories above the cache (a stray ``*``
    there would hide every file). A checkout holds tracked files only, so its own ignore files change little.
    A repository's own ``.ecolint.toml`` is left as it is."""
    own = checkout / ".ecolint.toml"
    if not own.exists() or own.read_text(encoding="utf-8") == BENCH_CONFIG:
        own.write_text(BENCH_CONFIG, encoding="utf-8")


def run_ecolint(repo: Repo, checkout: Path, extra: list[str]) -> list[Finding]:
    pin_settings(checkout)
    targets = list(repo.paths) or ["."]
    cmd = [sys.executable, "-m", "ecolint", "check", "--no-cache", "--output-format", "json", "--exit-zero", *extra, *targets]
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(HERE.parent), env.get("PYTHONPATH", "")]))
    proc = subprocess.run(cmd, cwd=checkout, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        raise SystemExit(f"ecolint failed on {repo.name} (exit {proc.returncode}):\n{proc.stderr[-2000:]}")
    return parse_findings(repo, checkout, proc.stdout)


def parse_findings(repo: Repo, checkout: Path, text: str) -> list[Finding]:
    findings = []
    for item in json.loads(text or "[]"):
        path = Path(item["filename"])
        if path.is_absolute():
            path = path.relative_to(checkout.resolve())
        line = (item.get("location") or {}).get("row") or 0
        findings.append(
            Finding(repo.name, repo.commit, path.as_posix().removeprefix("./"), int(line), item["code"],
                    item.get("severity", ""), item.get("message", ""), int(item.get("cell") or 0))
        )
    return sorted(set(findings), key=lambda f: (f.path, f.cell, f.line, f.code))


# --- the judged file ----------------------------------------------------------------------------------------


def load_judged(path: Path) -> list[Judgement]:
    if not path.exists():
        return []
    with path.open(newline="", encoding="utf-8") as fh:
        rows = []
        for row in csv.DictReader(fh):
            verdict = (row.get("verdict") or "").strip().lower()
            if verdict and verdict not in VERDICTS:
                raise SystemExit(f"{path}: unknown verdict {verdict!r} for {row}")
            rows.append(
                Judgement(row["repo"].strip(), row["commit"].strip(), row["path"].strip(), int(row["line"]),
                          row["code"].strip(), verdict, (row.get("reason") or "").strip(), int(row.get("cell") or 0))
            )
        return rows


def compare(findings: list[Finding], judged: list[Judgement], repos_run: set[str]) -> Comparison:
    """Each finding with its verdict (None when unjudged); judged rows of the repositories run that no finding
    matched are "gone". A row with an empty verdict is a placeholder: it never counts as gone."""
    by_key: dict[tuple[str, str, int, str], Judgement] = {}
    for j in judged:
        if j.verdict or j.key not in by_key:
            by_key[j.key] = j
    result = Comparison()
    seen = set()
    for f in findings:
        j = by_key.get(f.key)
        if j is None and f.cell:  # a notebook row judged before cells were told apart (see --migrate-cells)
            legacy = (f.repo, f.path, 0, f.line, f.code)
            j = by_key.get(legacy)
            if j is not None:
                seen.add(legacy)
        result.rows.append((f, j))
        seen.add(f.key)
    result.gone = [j for k, j in by_key.items() if k[0] in repos_run and k not in seen and j.verdict]
    return result


def append_unjudged(path: Path, findings: list[Finding]) -> int:
    """Add rows with an empty verdict for ``findings`` not already in the file; returns how many. The file is
    written back whole, in today's columns."""
    rows = load_judged(path)
    known = {j.key for j in rows}
    new = [f for f in findings if f.key not in known]
    rows.extend(Judgement(f.repo, f.commit, f.path, f.line, f.code, "", "", f.cell) for f in new)
    write_judged(path, rows)
    return len(new)


def write_judged(path: Path, rows: list[Judgement]) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(COLUMNS)
        writer.writerows(j.row() for j in rows)


def migrate_cells(path: Path, findings: list[Finding], repos_run: set[str]) -> tuple[int, int]:
    """Give notebook rows of the repositories run the cell of the finding they judged; returns (rows given a
    cell, rows split because findings in several cells matched). The file is rewritten with the cell column."""
    cells: dict[tuple, list[int]] = defaultdict(list)
    for f in findings:
        if f.cell:
            cells[(f.repo, f.path, f.line, f.code)].append(f.cell)
    out: list[Judgement] = []
    given = split = 0
    for j in load_judged(path):
        found = sorted(set(cells.get((j.repo, j.path, j.line, j.code), ()))) if j.repo in repos_run and not j.cell else []
        if not found:
            out.append(j)
            continue
        given += 1
        j.cell = found[0]
        out.append(j)
        if len(found) > 1:
            split += 1
            out.extend(Judgement(j.repo, j.commit, j.path, j.line, j.code, "", "", cell) for cell in found[1:])
    write_judged(path, out)
    return given, split


# --- printing -----------------------------------------------------------------------------------------------


def source_line(checkout: Path, rel: str, line: int, cell: int = 0) -> str:
    try:
        text = (checkout / rel).read_text(encoding="utf-8", errors="replace")
        if cell:
            source = json.loads(text)["cells"][cell - 1]["source"]
            text = source if isinstance(source, str) else "".join(source)
    except (OSError, ValueError, KeyError, IndexError, TypeError):
        return ""
    lines = text.splitlines()
    return lines[line - 1].strip() if 0 < line <= len(lines) else ""


def format_table(comparison: Comparison) -> str:
    table = comparison.counts()
    head = f"{'rule':<8} {'findings':>8} {'right':>6} {'wrong':>6} {'debat.':>6} {'unjudged':>8} {'precision':>9}"
    out = [head, "-" * len(head)]
    codes = sorted(k for k in table if k != "ALL") + (["ALL"] if "ALL" in table else [])
    for code in codes:
        c = table[code]
        p = precision(c)
        ptxt = f"{p:.2f}" if p is not None else "-"
        out.append(f"{code:<8} {c['findings']:>8} {c['right']:>6} {c['wrong']:>6} {c['debatable']:>6} {c['unjudged']:>8} {ptxt:>9}")
    return "\n".join(out)


def strict_failures(comparison: Comparison) -> list[str]:
    problems = []
    if comparison.unjudged:
        problems.append(f"{len(comparison.unjudged)} unjudged finding(s)")
    for code, c in sorted(comparison.counts().items()):
        p = precision(c)
        if code != "ALL" and c["findings"] >= STRICT_MIN_FINDINGS and p is not None and p < STRICT_MIN_PRECISION:
            problems.append(f"{code}: precision {p:.2f} < {STRICT_MIN_PRECISION} on {c['findings']} findings")
    return problems


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    extra: list[str] = []
    if "--" in argv:
        cut = argv.index("--")
        argv, extra = argv[:cut], argv[cut + 1:]
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mirror", type=Path, required=True, help="directory of bare snapshots <owner>+<name>[/repo]")
    ap.add_argument("--repos", type=Path, default=HERE / "real_repos.toml")
    ap.add_argument("--judged", type=Path, default=HERE / "real_repos_judged.csv")
    ap.add_argument("--cache", type=Path, default=Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "ecolint-real-repos")
    ap.add_argument("--only", action="append", default=[], metavar="OWNER/NAME", help="run only these repositories")
    ap.add_argument("--ecolint-args", default="", help="extra ecolint arguments in one string (or put them after --)")
    ap.add_argument("--write-unjudged", type=Path, metavar="FILE", help="append unjudged findings (empty verdict) to FILE")
    ap.add_argument("--strict", action="store_true", help="exit 1 on unjudged findings or a rule below 0.9 precision")
    ap.add_argument("--migrate-cells", action="store_true", help="give judged notebook rows the cell of their finding (rewrites --judged)")
    args = ap.parse_args(argv)
    extra = args.ecolint_args.split() + extra

    repos = [r for r in load_repos(args.repos) if not args.only or r.name in args.only]
    start = time.perf_counter()
    findings: list[Finding] = []
    checkouts: dict[str, Path] = {}
    for repo in repos:
        t0 = time.perf_counter()
        checkout = materialise(repo, args.mirror, args.cache)
        checkouts[repo.name] = checkout
        found = run_ecolint(repo, checkout, extra)
        findings.extend(found)
        print(f"  {repo.name:<45} {repo.kind:<24} {len(found):>4} findings  {time.perf_counter() - t0:6.1f} s", file=sys.stderr)

    if args.migrate_cells:
        given, split = migrate_cells(args.judged, findings, {r.name for r in repos})
        print(f"{given} notebook row(s) given a cell, {split} split (their copies must be judged again)", file=sys.stderr)
    comparison = compare(findings, load_judged(args.judged), {r.name for r in repos})
    print(f"\n{len(repos)} repositories, {len(findings)} findings, {time.perf_counter() - start:.0f} s\n")
    print(format_table(comparison))
    if comparison.debatable:
        print(f"\ndebatable ({len(comparison.debatable)}):")
        for f, j in comparison.debatable:
            print(f"  {f.where} {f.code}  {j.reason}")
    wrong = [(f, j) for f, j in comparison.rows if j is not None and j.verdict == "wrong"]
    if wrong:
        print(f"\nwrong ({len(wrong)}; still reported):")
        for f, j in wrong:
            print(f"  {f.where} {f.code}  {j.reason}")
    if comparison.gone:
        print(f"\ngone since judging ({len(comparison.gone)}; judged but no longer reported):")
        for j in comparison.gone:
            print(f"  {j.where} {j.code} [{j.verdict}] {j.reason}")
    if comparison.unjudged:
        print(f"\nunjudged ({len(comparison.unjudged)}):")
        for f in comparison.unjudged:
            print(f"  {f.where} {f.code} [{f.severity}]")
            print(f"      {source_line(checkouts[f.repo], f.path, f.line, f.cell)[:160]}")
    if args.write_unjudged:
        n = append_unjudged(args.write_unjudged, comparison.unjudged)
        print(f"\n{n} unjudged row(s) appended to {args.write_unjudged}")
    if args.strict:
        problems = strict_failures(comparison)
        for p in problems:
            print(f"strict: {p}", file=sys.stderr)
        return 1 if problems else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
