"""Command line: ``ecolint check [paths]`` (also plain ``ecolint [paths]``), ``ecolint rule CODE``,
``ecolint rules``, and the advisor commands (compare, optimize, estimate, diagnose).

Exit codes: 0 no finding at or above ``--fail-on``; 1 findings; 2 usage, configuration or internal error, or a
report or fix that could not be written.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Optional, Sequence

from ecolint import __version__
from ecolint.errors import UsageError
from ecolint.text import split_lines

if TYPE_CHECKING:  # pragma: no cover
    from ecolint.api import Options, Result
    from ecolint.config import Overrides, Resolver

SUBCOMMANDS = {"check", "rule", "rules", "compare", "optimize", "estimate", "diagnose", "gpus", "clean", "help"}
OUTPUT_FORMATS = ("full", "concise", "json", "sarif", "github", "markdown")
STDIN_NAME = "stdin.py"  # what the path ``-`` (standard input) is linted as without --stdin-filename


def _parser(advisors: bool = True) -> argparse.ArgumentParser:
    """``advisors=False`` leaves out the advisor commands (their import is start-up time a lint run never needs)."""
    parser = argparse.ArgumentParser(
        prog="ecolint",
        description="Find energy waste in LLM inference code and deploy configs, with the measurements that prove it.",
    )
    parser.add_argument("--version", action="version", version=f"ecolint {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    check = sub.add_parser("check", help="lint files and directories (the default command)")
    add_check_arguments(check)
    check.set_defaults(func=cmd_check)

    rule = sub.add_parser("rule", help="explain a rule, with its live evidence rows")
    rule.add_argument("code", help="rule code or name, e.g. ECO101 or int8-default-threshold")
    rule.add_argument("--format", choices=("text", "markdown", "json"), default="text")
    rule.set_defaults(func=cmd_rule)

    clean = sub.add_parser("clean", help="remove the results cache")
    clean.add_argument("--cache-dir", type=Path, help="the cache directory given to `check` (default: the project root's .ecolint_cache)")
    clean.add_argument("--config", type=Path, help="use this ecolint.toml / pyproject.toml instead of discovery")
    clean.add_argument("-q", "--quiet", action="store_true")
    clean.set_defaults(func=cmd_clean)

    rules = sub.add_parser("rules", help="list all rules")
    rules.add_argument("--format", choices=("text", "json"), default="text")
    rules.set_defaults(func=cmd_rules)

    if advisors:
        try:
            from ecolint.protocols import cli as protocols_cli
        except ImportError:  # pragma: no cover - advisor commands not installed
            pass
        else:
            protocols_cli.register(sub)
    return parser


def add_check_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("paths", nargs="*", type=Path, help="files or directories (default: .)")
    p.add_argument("--select", help="comma-separated codes or prefixes to enable (default ALL)")
    p.add_argument("--ignore", help="comma-separated codes or prefixes to disable")
    p.add_argument("--extend-select", help="codes or prefixes to enable on top of the configured selection")
    p.add_argument("--output-format", choices=OUTPUT_FORMATS, default=None, help="output format (default: full)")
    p.add_argument("-o", "--output-file", type=Path, help="write the report to a file instead of stdout")
    p.add_argument("--exit-zero", action="store_true", help="exit 0 even when findings are reported")
    p.add_argument("--fail-on", choices=("red", "yellow", "info"), help="lowest severity that makes the run fail (default yellow)")
    p.add_argument("--gpu", help="the GPU you deploy on (evidence selection, ECO402), e.g. t4, a100, rtx4090d")
    p.add_argument("--config", type=Path, help="use this ecolint.toml / pyproject.toml instead of discovery")
    p.add_argument("--force-exclude", action="store_true", help="apply exclude patterns to files named explicitly too")
    # -- fixes, stdin, statistics
    p.add_argument("--fix", action="store_true", help="apply safe fixes to the files")
    p.add_argument("--unsafe-fixes", action="store_true", help="also apply unsafe fixes (they change numerics or behaviour: review them)")
    p.add_argument("--diff", action="store_true", help="print the fixes as a unified diff and write nothing (exit 1 if there would be changes)")
    p.add_argument("--exit-non-zero-on-fix", action="store_true", help="exit 1 when fixes were applied, even if no finding remains")
    p.add_argument("--stdin-filename", metavar="NAME", help=(
        f"lint standard input as the file NAME (with --fix, print the fixed source); the path - reads standard input too, as {STDIN_NAME} "
        "unless NAME is given"))
    p.add_argument("--statistics", action="store_true", help="print the number of findings per rule instead of the findings")
    # -- speed: results cache and worker processes
    p.add_argument("-n", "--no-cache", action="store_true", help="neither read nor write the results cache")
    p.add_argument("--no-project", action="store_true", help="lint each file on its own: do not read values from the project's other modules and config files")
    p.add_argument("--cache-dir", type=Path, help="where to keep the results cache (in a .ecolint_cache directory there; default: the project root)")
    p.add_argument("-j", "--jobs", type=int, metavar="N", help="worker processes (default and most: one per CPU; 1 runs in-process)")
    p.add_argument("-v", "--verbose", action="store_true", help="show tracebacks of internal errors")
    p.add_argument("-q", "--quiet", action="count", default=0, help="print findings only, nothing on success (-qq: print nothing, the exit code tells)")
    p.add_argument("--show-evidence", action="store_true", help="full format: print each finding's measured rows under it (default: once, at the end)")
    # -- adopting ecolint on an existing repository
    p.add_argument("--add-noqa", action="store_true", help="suppress every finding in place with a `# noqa: CODE` comment on its line, then exit")
    p.add_argument("--baseline", type=Path, metavar="FILE", help="report only findings not recorded in FILE (see --write-baseline)")
    p.add_argument("--write-baseline", type=Path, metavar="FILE", help="record the current findings in FILE and exit 0")


def _split_codes(text: Optional[str]) -> tuple[str, ...]:
    if not text:
        return ()
    return tuple(c.strip().upper() for c in text.split(",") if c.strip())


def _overrides(args) -> "Overrides":
    """The command-line options that override the settings of every file."""
    from ecolint.config import Overrides, validate_selector
    from ecolint.rule import Severity

    codes: dict[str, tuple[str, ...]] = {}
    for name in ("select", "ignore", "extend_select"):
        codes[name] = _split_codes(getattr(args, name))
    errors = [err for name in codes for err in map(validate_selector, codes[name]) if err]
    if errors:
        raise UsageError("\n".join(errors))  # every unknown selector at once, one line each
    gpu = None
    if args.gpu:
        from ecolint.knowledge.gpus import resolve_gpu, suggest_gpu

        info = resolve_gpu(args.gpu)
        if info is None:
            sugg = suggest_gpu(args.gpu)
            hint = f" (did you mean {', '.join(repr(s) for s in sugg)}?)" if sugg else ""
            raise UsageError(f"unknown GPU {args.gpu!r}{hint}")
        gpu = info.id
    if args.jobs is not None and args.jobs < 0:
        raise UsageError("--jobs must be 0 (one per CPU) or more")
    fail_on = Severity(args.fail_on) if args.fail_on else None
    return Overrides(codes["select"], codes["ignore"], codes["extend_select"], gpu, fail_on, args.jobs, project=False if getattr(args, "no_project", False) else None)


def _resolver(args) -> "Resolver":
    from ecolint.config import Resolver

    return Resolver(_overrides(args), config=args.config)


def _options(args) -> "Options":
    from ecolint.api import Options

    return Options(
        force_exclude=args.force_exclude,
        cache=not args.no_cache and not os.environ.get("ECOLINT_NO_CACHE"),
        cache_dir=args.cache_dir,
        output=args.output_file,
        unsafe_fixes=args.unsafe_fixes,
        write=not args.diff,
    )


def cmd_check(args) -> int:
    from ecolint import api

    _check_adoption_options(args)
    if args.stdin_filename is not None or _reads_stdin(args):
        return _check_stdin(args)
    paths = args.paths or [Path(".")]
    missing = [p for p in paths if not p.exists() and not p.is_symlink()]
    if missing:
        raise UsageError(f"path does not exist: {missing[0]}")
    _check_output_place(args.output_file)
    baseline = _load_baseline(args.baseline)
    options = _options(args)
    result = api.lint_paths(paths, _resolver(args), options)
    if args.write_baseline is not None:
        return _write_baseline(args, result)
    if args.add_noqa:
        return _add_noqa(args, _without_baselined(result, baseline))
    output = _open_output(args.output_file, args.diff)  # before any file is fixed: an unwritable report stops the run here
    if args.fix or args.diff:
        result = api.fix_result(result, options)
    return _report(args, _without_baselined(result, baseline), output, colour=_colour(args))


def _reads_stdin(args) -> bool:
    """The path ``-`` names standard input (as for ruff)."""
    return any(str(p) == "-" for p in args.paths)


# -- adoption: --add-noqa, --baseline, --write-baseline -------------------------------------------------------
def _check_adoption_options(args) -> None:
    """Refuse combinations that have no meaning: --add-noqa and --write-baseline write something and exit."""
    for flag, on in (("--add-noqa", args.add_noqa), ("--write-baseline", args.write_baseline is not None)):
        if not on:
            continue
        others = [name for name, given in (
            ("--fix", args.fix), ("--diff", args.diff), ("--statistics", args.statistics), ("-o", args.output_file is not None),
            ("--stdin-filename or -", args.stdin_filename is not None or _reads_stdin(args)),
            ("--add-noqa", args.add_noqa and flag != "--add-noqa"),
        ) if given]
        if others:
            raise UsageError(f"{flag} cannot be combined with {others[0]}")
    if args.baseline is not None and args.write_baseline is not None:
        raise UsageError("--baseline cannot be combined with --write-baseline (write a new baseline from the whole run instead)")


def _load_baseline(path: Optional[Path]) -> Optional[frozenset[str]]:
    """The fingerprints of ``--baseline FILE``, read before anything is linted; an unreadable file is a usage
    error."""
    if path is None:
        return None
    from ecolint.baseline import BaselineError, load_baseline

    try:
        return load_baseline(path)
    except BaselineError as exc:
        raise UsageError(str(exc)) from None


def _without_baselined(result: "Result", baseline: Optional[frozenset[str]]) -> "Result":
    """``result`` reporting only the findings whose fingerprint is not in ``baseline``."""
    if baseline is not None:
        from ecolint.baseline import filter_new

        result.findings = filter_new(result.findings, result.texts, baseline)
    return result


def _write_baseline(args, result: "Result") -> int:
    """``--write-baseline FILE``: record every finding of the run; exit 0. An existing file that is not a baseline
    (a source file named by mistake) is never overwritten."""
    from ecolint.baseline import BaselineError, load_baseline, write_baseline

    path = args.write_baseline
    if path.is_dir():
        raise UsageError(f"cannot write the baseline to {path}: it is a directory")
    if path.exists() or path.is_symlink():
        try:
            load_baseline(path)
        except BaselineError:
            raise UsageError(f"refusing to overwrite {path} with a baseline: it exists and is not an ecolint baseline") from None
    try:
        count = write_baseline(result.findings, result.texts, path)
    except OSError as exc:
        raise UsageError(f"cannot write the baseline to {path}: {exc.strerror or exc}") from None
    if not args.quiet:
        print(f"Recorded {count} finding{'s' if count != 1 else ''} in the baseline {path}.")
    return 0


def _add_noqa(args, result: "Result") -> int:
    """``--add-noqa``: a ``# noqa: CODE`` comment on the line of each finding, written with the same care as
    fixes; the findings that could not be suppressed are printed (exit 1 if they fail the run)."""
    from ecolint.add_noqa import add_noqa_files

    done = add_noqa_files(result.findings, result.texts, result.settings_for)
    for error in done.errors:
        print(f"ecolint: error: {error}", file=sys.stderr)
    if args.quiet < 2:
        for refusal in done.refusals:
            f = refusal.finding
            cell = f"cell {f.span.cell}:" if f.span.cell is not None else ""
            print(f"{f.filename}:{cell}{f.span.line}:{f.span.col}: {f.code} not suppressed: {refusal.reason}")
    if not args.quiet:
        n, files = done.suppressed, done.files
        print(f"Added noqa comments for {n} finding{'s' if n != 1 else ''} in {files} file{'s' if files != 1 else ''}.")
    if done.errors:
        return 2
    result.findings = [r.finding for r in done.refusals]
    return _exit_code(args, result)


def _colour(args) -> bool:
    if args.output_file is not None:
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return (args.output_format or "full") == "full" and sys.stdout.isatty() and "NO_COLOR" not in os.environ


def _report(args, result: "Result", output, colour: bool = False, content_to_stdout: bool = False, rest=None) -> int:
    """Print the errors, then the report (or with ``--diff`` the diff) to ``output`` (None: standard output;
    with ``content_to_stdout``, standard error, standard output carrying the fixed content followed by what is
    left of the binary stream ``rest``); the exit code."""
    from ecolint.report import ReportContext

    for error in result.errors:
        print(f"ecolint: error: {error}", file=sys.stderr)
    if args.diff:
        code = _report_diff(args, output, result.diff, result.fixed, result.changed)
        return 2 if result.errors else code
    fmt = args.output_format or "full"
    texts = result.texts
    report_stream = sys.stderr if content_to_stdout else sys.stdout
    ctx = ReportContext(
        files_checked=result.files_checked,
        root=result.run_settings.root,
        colour=colour,
        width=_width(),
        verbose=args.verbose,
        source_lines=lambda p: split_lines(texts[p]) if p in texts else None,
        unsafe_fixes=args.unsafe_fixes,
        fixed=result.fixed,
        terminal=output is None and _isatty(report_stream),
        show_evidence=args.show_evidence,
    )
    report = _report_text(args, fmt, result.findings, ctx)
    if content_to_stdout:
        assert result.content is not None
        sys.stdout.buffer.write(result.content)
        if rest is not None:  # standard input over max-file-size: the part not read goes through unchanged
            shutil.copyfileobj(rest, sys.stdout.buffer)
        sys.stdout.flush()
    if content_to_stdout and output is None:
        sys.stderr.write(report)
    else:
        _emit(output, args.output_file, report)
    if result.internal_error:
        return 2  # a file that could not be fixed (or written) is an error, whatever the findings
    return _exit_code(args, result)


def _check_output_place(path: Optional[Path]) -> None:
    """Refuse, before anything is linted or fixed, an output file that cannot be one: a directory, or a file in
    a directory that does not exist."""
    if path is None:
        return
    if path.is_dir():
        raise UsageError(f"cannot write the report to {path}: it is a directory")
    if not path.parent.is_dir():
        raise UsageError(f"cannot write the report to {path}: there is no directory {path.parent}")


def _open_output(path: Optional[Path], diff: bool = False):
    """The ``-o`` file opened for writing (None: standard output); an error here is a usage error (exit 2)."""
    if path is None:
        return None
    try:
        return open(path, "w", encoding="utf-8", newline="" if diff else None)
    except OSError as exc:
        raise UsageError(f"cannot write the report to {path}: {exc.strerror or exc}") from None


def _emit(output, path: Optional[Path], text: str) -> None:
    """Write the report to the opened ``-o`` file, or to standard output."""
    if output is None:
        sys.stdout.write(text)
        return
    try:
        with output:
            output.write(text)
    except OSError as exc:
        raise UsageError(f"cannot write the report to {path}: {exc.strerror or exc}") from None


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.realpath(a) == os.path.realpath(b) or os.path.samefile(a, b)
    except (OSError, ValueError):
        return False


def _report_text(args, fmt: str, findings, ctx) -> str:
    """The report in the chosen format (or the per-rule statistics): under ``-q`` without the summary and fix
    hints (nothing at all when there is no finding), under ``-qq`` nothing."""
    from ecolint.report import render, summary_line

    if args.quiet >= 2:
        return ""
    if args.statistics:
        from ecolint.report import statistics

        text = statistics.render(findings, "json" if fmt == "json" else "text", args.unsafe_fixes)
        if args.quiet and fmt != "json":
            text = _first_lines(text, len(statistics.rows(findings, args.unsafe_fixes)))
        return text
    text = render(fmt, findings, ctx)
    if args.quiet and fmt in ("full", "concise"):
        lines = text.rstrip("\n").splitlines()
        text = _first_lines(text, len(lines) - len(summary_line(findings, ctx).splitlines()))
    return text


def _first_lines(text: str, n: int) -> str:
    """The first ``n`` lines of ``text``, trailing blank lines dropped ("" when none is left)."""
    lines = text.splitlines()[: max(n, 0)]
    while lines and not lines[-1].strip():
        lines.pop()
    return "\n".join(lines) + "\n" if lines else ""


def _exit_code(args, result: "Result") -> int:
    if args.exit_zero:
        return 0
    if args.exit_non_zero_on_fix and result.fixed:
        return 1
    return 1 if result.fails() else 0


def _report_diff(args, output, diff: str, fixed: int, files: int) -> int:
    """``--diff``: the diff on stdout (or -o, opened by :func:`_open_output`), a one-line summary on stderr;
    exit 1 if anything would change."""
    if args.quiet < 2:
        _emit(output, args.output_file, diff)
    elif output is not None:
        output.close()
    if not args.quiet:
        if fixed:
            print(f"Would fix {fixed} finding{'s' if fixed != 1 else ''} in {files} file{'s' if files != 1 else ''}.", file=sys.stderr)
        else:
            print("No fixes to apply." + ("" if args.unsafe_fixes else " (Unsafe fixes are applied only with --unsafe-fixes.)"), file=sys.stderr)
    return 1 if diff and not args.exit_zero else 0


def _check_stdin(args) -> int:
    """``--stdin-filename NAME``: lint standard input as NAME, under the settings that govern NAME. With
    ``--fix`` the (fixed) source goes to stdout and the report to stderr, so editors and pipes can replace the
    buffer with stdout."""
    from ecolint import api

    if any(str(p) != "-" for p in args.paths):
        if args.stdin_filename is not None:
            raise UsageError("--stdin-filename reads standard input; do not also name paths")
        raise UsageError("the path - reads standard input; it cannot be combined with other paths")
    if args.stdin_filename is not None and not args.stdin_filename:
        raise UsageError("--stdin-filename needs the name standard input is linted as (it decides the file type and the settings)")
    name = Path(args.stdin_filename if args.stdin_filename is not None else STDIN_NAME)
    _check_output_place(args.output_file)
    if args.output_file is not None and _same_file(name, args.output_file):
        raise UsageError(f"the output file {args.output_file} is the file named by --stdin-filename; refusing to overwrite it with the report")
    baseline = _load_baseline(args.baseline)
    resolver = _resolver(args)
    from ecolint.runner import read_limit
    from ecolint.sources import kind_for

    limit = read_limit(kind_for(name), resolver.for_file(name))
    data = sys.stdin.buffer.read(limit + 1)  # never more than the limit (+1 to know it is over)
    result = api.lint_bytes(name, data, resolver, _options(args), fix=args.fix or args.diff)
    over = len(data) > limit
    if over:
        for f in result.findings:
            if f.code == "ECO904":
                f.message = f"standard input is over the {limit:,}-byte limit; not analysed (raise max-file-size to include it)"
    output = _open_output(args.output_file, args.diff)
    fix = args.fix and not args.diff
    return _report(args, _without_baselined(result, baseline), output, content_to_stdout=fix, rest=sys.stdin.buffer if fix and over else None)


def cmd_clean(args) -> int:
    """Remove ecolint's own cache files (see :func:`ecolint.cache.clean`); nothing else is deleted."""
    from ecolint.cache import clean, default_dir, own_dir
    from ecolint.config import load_settings

    if args.cache_dir is not None:
        directory = args.cache_dir
    else:
        directory = default_dir(load_settings(Path.cwd(), args.config))
    removed = clean(directory)
    if not args.quiet:
        print(f"removed the cache in {own_dir(directory)}" if removed else f"no cache at {own_dir(directory)}")
    return 0


def _width() -> int:
    """The terminal's width (``COLUMNS`` wins, as for other tools; 100 when unknown), at least 40."""
    return max(40, shutil.get_terminal_size((100, 24)).columns)


def _isatty(stream) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def cmd_rules(args) -> int:
    from ecolint.registry import all_rules

    rules = all_rules()
    if args.format == "json":
        import json

        print(json.dumps([r.describe() for r in rules], indent=2))
        return 0
    width = max(len(r.name) for r in rules)
    for r in rules:
        print(f"{r.code}  {r.name:<{width}}  {r.severity.value:<6}  {r.fix_applicability.value:<12}  {r.summary}")
    return 0


def cmd_rule(args) -> int:
    from ecolint.knowledge import Knowledge
    from ecolint.registry import rule_by_code

    rule = rule_by_code(args.code)
    if rule is None:
        from difflib import get_close_matches

        from ecolint.registry import all_rules

        names = [r.code for r in all_rules()] + [r.name for r in all_rules()]
        close = get_close_matches(args.code.upper() if args.code[:3].lower() == "eco" else args.code, names, n=2, cutoff=0.5)
        hint = f" (did you mean {' or '.join(close)}?)" if close else ""
        raise UsageError(f"unknown rule {args.code!r}{hint}; `ecolint rules` lists them")
    evidence = rule.live_evidence(Knowledge.load())
    if args.format == "json":
        import json

        print(json.dumps({**rule.describe(), "documentation": rule.documentation(), "evidence": evidence}, indent=2))
        return 0
    print(f"# {rule.code} {rule.name}\n")
    print(f"Severity: {rule.severity.value}. Fix: {rule.fix_applicability.value}.\n")
    print(rule.documentation())
    if evidence:
        print("\n## Live evidence (from the packaged measurement table)\n")
        for line in evidence:
            print(f"- {line}")
    return 0


def _normalise_argv(argv: list[str]) -> list[str]:
    """``ecolint path/`` and ``ecolint --select X path/`` mean ``ecolint check ...``."""
    if not argv:
        return ["check"]
    if argv[0] in ("-h", "--help", "--version"):
        return argv
    if argv[0] not in SUBCOMMANDS:
        return ["check", *argv]
    if argv[0] == "help":
        return ["--help"]
    return argv


def main(argv: Optional[Sequence[str]] = None) -> int:
    argv = _normalise_argv(list(sys.argv[1:] if argv is None else argv))
    parser = _parser(advisors=argv[0] != "check" or "-h" in argv or "--help" in argv)
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0) if exc.code in (0, None) else 2
    try:
        return int(args.func(args))
    except UsageError as exc:  # options, configuration, measurement tables, rule plugins
        for line in str(exc).splitlines() or [""]:  # one line per problem (a configuration's are reported together)
            print(f"ecolint: {exc.label}: {line}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("ecolint: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 1
    except Exception as exc:  # noqa: BLE001 - last resort: a clear message, exit 2, traceback only with -v
        if getattr(args, "verbose", False):
            import traceback

            traceback.print_exc()
        print(f"ecolint: internal error: {type(exc).__name__}: {exc} (run with -v for the traceback)", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
