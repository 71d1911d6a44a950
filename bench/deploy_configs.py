"""Recall and precision on real deploy configs and launch scripts, against hand-given labels (issue 14).

    python bench/deploy_configs.py [--mirror /work/.mirror] [--repos bench/deploy_configs.toml]
        [--labels bench/deploy_configs_labels.csv] [--cache DIR] [--strict] [-- EXTRA ECOLINT ARGS]

The list (``bench/deploy_configs.toml``) names, per public repository, a pinned ``commit`` and the labelled
``paths``. Only those files are copied out of the bare snapshot ``<mirror>/<owner>+<name>/repo`` (read with
plain ``git show``; no network) into ``<cache>/<owner>+<name>-<commit12>/<path>`` (default cache
``~/.cache/ecolint-deploy-configs``): the fetched files are never committed, only the list and the labels.

The labels (``bench/deploy_configs_labels.csv``, columns ``repo, commit, path, line, code, certainty, reason``)
give every problem in a file, one row each (``certainty`` is ``sure`` or ``debatable``), or one row with code
``clean`` for a file that has none. Every file of the list must be labelled.

ecolint runs as ``python -m ecolint check --no-cache --output-format json --exit-zero <files>`` in each
checkout. A finding matches a label when the file and the code agree and the line is the labelled line, or,
in a shell script or Dockerfile, any line of the same logical command (continuation lines joined). Then:

- recall = sure labels matched by a finding / sure labels;
- precision = findings matching a label (sure or debatable) / findings that do not match only a debatable
  label; a finding on a debatable label counts neither way.

Both are printed per file type (yaml, shell, dockerfile, json, python, other) and overall, followed by the
misses and the false positives with their source lines. Exit status 0, unless ``--strict``: then 1 when recall
< 0.8 or precision < 0.95.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

HERE = Path(__file__).resolve().parent
DEFAULT_CACHE = Path.home() / ".cache" / "ecolint-deploy-configs"
DEFAULT_MIRROR = Path(os.environ.get("ECOLINT_MIRROR", "/work/.mirror"))
COLUMNS = ("repo", "commit", "path", "line", "code", "certainty", "reason")
CERTAINTIES = ("sure", "debatable")
CLEAN = "clean"
STRICT_RECALL = 0.8
STRICT_PRECISION = 0.95
FILE_TYPES = ("yaml", "shell", "dockerfile", "json", "python", "other")


@dataclass(frozen=True)
class Repo:
    name: str  # owner/name
    commit: str
    paths: tuple[str, ...]

    def checkout_dir(self, cache: Path) -> Path:
        return cache / f"{self.name.replace('/', '+')}-{self.commit[:12]}"


@dataclass(frozen=True)
class Label:
    repo: str
    path: str
    line: int  # 0 for a clean file
    code: str  # "clean" for a file without problems
    certainty: str
    reason: str


@dataclass(frozen=True)
class Finding:
    repo: str
    path: str
    line: int
    code: str
    message: str = ""


@dataclass
class Score:
    labels: int = 0  # sure labels
    found: int = 0  # sure labels matched
    findings: int = 0  # findings counted for precision
    matched: int = 0  # of those, matching a label

    def add(self, other: Score) -> None:
        self.labels += other.labels
        self.found += other.found
        self.findings += other.findings
        self.matched += other.matched

    @property
    def recall(self) -> float | None:
        return self.found / self.labels if self.labels else None

    @property
    def precision(self) -> float | None:
        return self.matched / self.findings if self.findings else None


@dataclass
class Result:
    by_type: dict[str, Score]
    misses: list[Label]
    false_positives: list[Finding]
    on_debatable: list[tuple[Finding, Label]]

    @property
    def overall(self) -> Score:
        total = Score()
        for score in self.by_type.values():
            total.add(score)
        return total


# --- inputs ------------------------------------------------------------------------------------------------


def load_repos(path: Path) -> list[Repo]:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    return [Repo(e["name"], e["commit"], tuple(e.get("paths", ()))) for e in data.get("repo", [])]


def load_labels(path: Path) -> list[Label]:
    labels = []
    with path.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            code = row["code"].strip()
            certainty = row["certainty"].strip() or ("" if code == CLEAN else "sure")
            if code != CLEAN and certainty not in CERTAINTIES:
                raise SystemExit(f"{path}: certainty {certainty!r} for {row['path']}:{row['line']}")
            line = int(row["line"]) if row["line"].strip() else 0
            labels.append(Label(row["repo"].strip(), row["path"].strip(), line, code, certainty, row["reason"]))
    return labels


def check_coverage(repos: list[Repo], labels: list[Label]) -> None:
    """Every listed file has a label row, and every label names a listed file."""
    listed = {(r.name, p) for r in repos for p in r.paths}
    labelled = {(lab.repo, lab.path) for lab in labels}
    problems = [f"not labelled: {r} {p}" for r, p in sorted(listed - labelled)]
    problems += [f"labelled but not listed: {r} {p}" for r, p in sorted(labelled - listed)]
    if problems:
        raise SystemExit("\n".join(problems))


# --- materialising the labelled files ----------------------------------------------------------------------


def git_dir(mirror: Path, repo: Repo) -> Path:
    base = mirror / repo.name.replace("/", "+")
    return base / "repo" if (base / "repo").is_dir() else base


def materialise(repo: Repo, mirror: Path, cache: Path) -> Path:
    """Copy the repository's labelled files at its commit into its checkout directory (once)."""
    target = repo.checkout_dir(cache)
    gd = git_dir(mirror, repo)
    for rel in repo.paths:
        dest = target / PurePosixPath(rel)
        if dest.is_file():
            continue
        if not gd.is_dir():
            raise SystemExit(f"no snapshot of {repo.name} under {mirror} (looked for {gd})")
        proc = subprocess.run(["git", "-C", str(gd), "show", f"{repo.commit}:{rel}"], capture_output=True, check=False)
        if proc.returncode != 0:
            raise SystemExit(f"{repo.name}@{repo.commit[:12]}: cannot read {rel}: {proc.stderr.decode().strip()}")
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(proc.stdout)
    return target


# --- running ecolint ---------------------------------------------------------------------------------------


def run_ecolint(repo: str, checkout: Path, paths: list[str], extra: list[str]) -> list[Finding]:
    if not paths:
        return []
    cmd = [sys.executable, "-m", "ecolint", "check", "--no-cache", "--output-format", "json", "--exit-zero",
           *extra, *paths]
    proc = subprocess.run(cmd, cwd=checkout, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"ecolint failed on {repo} (exit {proc.returncode}):\n{proc.stderr}")
    root = checkout.resolve()
    findings = []
    for item in json.loads(proc.stdout or "[]"):
        rel = (checkout / item["filename"]).resolve().relative_to(root).as_posix()
        findings.append(Finding(repo, rel, int(item["location"]["row"]), item["code"], item.get("message", "")))
    return findings


# --- scoring -----------------------------------------------------------------------------------------------


def file_type(path: str) -> str:
    name = PurePosixPath(path).name.lower()
    if name.endswith((".yaml", ".yml")):
        return "yaml"
    if name.endswith((".sh", ".bash")):
        return "shell"
    if name == "dockerfile" or name.startswith("dockerfile.") or name.endswith(".dockerfile"):
        return "dockerfile"
    if name.endswith(".json"):
        return "json"
    if name.endswith(".py"):
        return "python"
    return "other"


def logical_commands(text: str) -> dict[int, int]:
    """Line number -> first line of its logical command (lines joined by a trailing backslash)."""
    first: dict[int, int] = {}
    start = None
    for number, line in enumerate(text.splitlines(), start=1):
        if start is None:
            start = number
        first[number] = start
        if not line.rstrip().endswith("\\"):
            start = None
    return first


def same_place(ftype: str, text: str | None, label_line: int, finding_line: int) -> bool:
    if label_line == finding_line:
        return True
    if ftype in ("shell", "dockerfile") and text is not None:
        commands = logical_commands(text)
        return commands.get(label_line, -1) == commands.get(finding_line, -2)
    return False


def score(labels: list[Label], findings: list[Finding], texts: dict[tuple[str, str], str]) -> Result:
    """Match findings to labels; ``texts`` maps (repo, path) to the file's text (for logical commands)."""
    by_file: dict[tuple[str, str], list[Label]] = defaultdict(list)
    for lab in labels:
        if lab.code != CLEAN:
            by_file[(lab.repo, lab.path)].append(lab)
    by_type = {t: Score() for t in FILE_TYPES}
    matched_labels: set[Label] = set()
    false_positives: list[Finding] = []
    on_debatable: list[tuple[Finding, Label]] = []
    for finding in findings:
        ftype = file_type(finding.path)
        text = texts.get((finding.repo, finding.path))
        hits = [lab for lab in by_file.get((finding.repo, finding.path), [])
                if lab.code == finding.code and same_place(ftype, text, lab.line, finding.line)]
        sure = [lab for lab in hits if lab.certainty == "sure"]
        if hits and not sure:
            on_debatable.append((finding, hits[0]))
            continue
        by_type[ftype].findings += 1
        if sure:
            by_type[ftype].matched += 1
            matched_labels.update(sure)
        else:
            false_positives.append(finding)
    misses = []
    for lab in labels:
        if lab.code == CLEAN or lab.certainty != "sure":
            continue
        by_type[file_type(lab.path)].labels += 1
        if lab in matched_labels:
            by_type[file_type(lab.path)].found += 1
        else:
            misses.append(lab)
    return Result(by_type, misses, false_positives, on_debatable)


def evaluate(checkouts: dict[str, Path], labels: list[Label], extra: list[str] = ()) -> Result:
    """Run ecolint over the labelled files of each checkout (repo name -> directory) and score the findings."""
    files: dict[str, list[str]] = defaultdict(list)
    for lab in labels:
        if lab.path not in files[lab.repo]:
            files[lab.repo].append(lab.path)
    findings: list[Finding] = []
    texts: dict[tuple[str, str], str] = {}
    for repo, paths in files.items():
        checkout = checkouts[repo]
        findings += run_ecolint(repo, checkout, paths, list(extra))
        for rel in paths:
            texts[(repo, rel)] = (checkout / rel).read_text(encoding="utf-8", errors="replace")
    return score(labels, findings, texts)


# --- report ------------------------------------------------------------------------------------------------


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def source_line(checkouts: dict[str, Path], repo: str, path: str, line: int) -> str:
    try:
        lines = (checkouts[repo] / path).read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return ""
    return lines[line - 1].strip()[:100] if 0 < line <= len(lines) else ""


def report(result: Result, checkouts: dict[str, Path], out=sys.stdout) -> None:
    print(f"{'type':<11} {'labels':>6} {'found':>6} {'recall':>7} {'findings':>9} {'matched':>8} {'precision':>9}",
          file=out)
    rows = [(t, s) for t, s in result.by_type.items() if s.labels or s.findings] + [("overall", result.overall)]
    for name, s in rows:
        print(f"{name:<11} {s.labels:>6} {s.found:>6} {_fmt(s.recall):>7} {s.findings:>9} {s.matched:>8} "
              f"{_fmt(s.precision):>9}", file=out)
    print(f"\nmisses ({len(result.misses)}):", file=out)
    for lab in result.misses:
        print(f"  {lab.repo} {lab.path}:{lab.line} {lab.code}  {lab.reason}", file=out)
        print(f"      | {source_line(checkouts, lab.repo, lab.path, lab.line)}", file=out)
    print(f"\nfalse positives ({len(result.false_positives)}):", file=out)
    for f in result.false_positives:
        print(f"  {f.repo} {f.path}:{f.line} {f.code}  {f.message[:100]}", file=out)
        print(f"      | {source_line(checkouts, f.repo, f.path, f.line)}", file=out)
    if result.on_debatable:
        print(f"\non debatable labels, not counted ({len(result.on_debatable)}):", file=out)
        for f, lab in result.on_debatable:
            print(f"  {f.repo} {f.path}:{f.line} {f.code}  ({lab.reason})", file=out)


def failed_strict(result: Result) -> bool:
    overall = result.overall
    recall = overall.recall if overall.recall is not None else 1.0
    precision = overall.precision if overall.precision is not None else 1.0
    return recall < STRICT_RECALL or precision < STRICT_PRECISION


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    extra: list[str] = []
    if "--" in argv:
        cut = argv.index("--")
        argv, extra = argv[:cut], argv[cut + 1:]
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mirror", type=Path, default=DEFAULT_MIRROR)
    ap.add_argument("--repos", type=Path, default=HERE / "deploy_configs.toml")
    ap.add_argument("--labels", type=Path, default=HERE / "deploy_configs_labels.csv")
    ap.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    ap.add_argument("--strict", action="store_true", help=f"exit 1 when recall < {STRICT_RECALL} or "
                    f"precision < {STRICT_PRECISION}")
    args = ap.parse_args(argv)
    repos = load_repos(args.repos)
    labels = load_labels(args.labels)
    check_coverage(repos, labels)
    checkouts = {repo.name: materialise(repo, args.mirror, args.cache) for repo in repos}
    files = sum(len(r.paths) for r in repos)
    print(f"{files} labelled files from {len(repos)} repositories\n")
    result = evaluate(checkouts, labels, extra)
    report(result, checkouts)
    return 1 if args.strict and failed_strict(result) else 0


if __name__ == "__main__":
    sys.exit(main())
