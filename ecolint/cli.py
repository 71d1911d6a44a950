"""Command line: ``ecolint check [paths]`` (also plain ``ecolint [paths]``), ``ecolint rule CODE``,
``ecolint rules``, and the advisor commands (compare, optimize, estimate, diagnose).

Exit codes: 0 no finding at or above ``--fail-on``; 1 findings; 2 usage, configuration or internal error, or a
report or fix that could not be written.
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import replace
from pathlib import Path
from typing import Optional, Sequence

from ecolint import __version__
from ecolint.text import split_lines

SUBCOMMANDS = {"check", "rule", "rules", "compare", "optimize", "estimate", "diagnose", "gpus", "clean", "help"}
OUTPUT_FORMATS = ("full", "concise", "json", "sarif", "github", "markdown")


class UsageError(Exception):
    pass


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

    protocols_cli = None
    try:
        if advisors:
            from ecolint.protocols import cli as protocols_cli
    except ImportError:  # pragma: no cover - advisor commands not installed
        protocols_cli = None
    if protocols_cli is not None:
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
    p.add_argument("--stdin-filename", metavar="NAME", help="lint standard input as the file NAME (with --fix, print the fixed source)")
    p.add_argument("--statistics", action="store_true", help="print the number of findings per rule instead of the findings")
    # -- speed: results cache and worker processes
    p.add_argument("-n", "--no-cache", action="store_true", help="neither read nor write the results cache")
    p.add_argument("--cache-dir", type=Path, help="where to keep the results cache (in a .ecolint_cache directory there; default: the project root)")
    p.add_argument("-j", "--jobs", type=int, metavar="N", help="worker processes (default and most: one per CPU; 1 runs in-process)")
    p.add_argument("-v", "--verbose", action="store_true", help="show tracebacks of internal errors")
    p.add_argument("-q", "--quiet", action="store_true", help="print findings only, no summary")


def _split_codes(text: Optional[str]) -> tuple[str, ...]:
    if not text:
        return ()
    return tuple(c.strip().upper() for c in text.split(",") if c.strip())


def _settings_for(args) -> "object":
    from ecolint.config import load_settings, validate_selector
    from ecolint.rule import Severity

    start = args.paths[0] if args.paths else Path.cwd()
    settings = load_settings(start if start.exists() else Path.cwd(), args.config)
    changes: dict = {}
    for name in ("select", "ignore", "extend_select"):
        codes = _split_codes(getattr(args, name))
        for c in codes:
            err = validate_selector(c)
            if err:
                raise UsageError(err)
        if codes:
            changes[name] = codes if name != "extend_select" else settings.extend_select + codes
    if args.gpu:
        from ecolint.knowledge.gpus import resolve_gpu, suggest_gpu

        info = resolve_gpu(args.gpu)
        if info is None:
            sugg = suggest_gpu(args.gpu)
            hint = f" (did you mean {', '.join(repr(s) for s in sugg)}?)" if sugg else ""
            raise UsageError(f"unknown GPU {args.gpu!r}{hint}")
        changes["gpu"] = info.id
    if args.fail_on:
        changes["fail_on"] = Severity(args.fail_on)
    return replace(settings, **changes)


def cmd_check(args) -> int:
    from ecolint.report import ReportContext
    from ecolint.runner import Engine, OutputIsInput, lint_paths

    if args.stdin_filename is not None:
        return _check_stdin(args)
    paths = args.paths or [Path(".")]
    missing = [p for p in paths if not p.exists() and not p.is_symlink()]
    if missing:
        raise UsageError(f"path does not exist: {missing[0]}")
    _check_output_place(args.output_file)
    settings = _settings_for(args)
    engine = Engine.create(settings)
    try:
        run = lint_paths(
            list(paths), engine, force_exclude=args.force_exclude, jobs=_jobs(args, settings), cache=_cache_for(args, engine), output=args.output_file
        )
    except OutputIsInput as exc:
        raise UsageError(str(exc)) from None
    output = _open_output(args.output_file, args.diff)  # before any file is fixed: an unwritable report stops the run here
    findings, texts, files = run.findings, run.texts, run.files_checked
    fixed = 0
    fix_failed = False
    if args.fix or args.diff:
        from ecolint.fix import fix_run

        fixes = fix_run(run, engine, unsafe=args.unsafe_fixes, write=not args.diff)
        for error in fixes.errors:
            print(f"ecolint: error: {error}", file=sys.stderr)
        fix_failed = bool(fixes.errors)
        if args.diff:
            code = _report_diff(args, output, fixes.diff(), fixes.fixed, len(fixes.changed))
            return 2 if fix_failed else code
        findings, fixed = fixes.findings, fixes.fixed

    fmt = args.output_format or "full"
    out_stream = sys.stdout
    colour = fmt == "full" and args.output_file is None and out_stream.isatty() and "NO_COLOR" not in os.environ
    if os.environ.get("FORCE_COLOR") and args.output_file is None:
        colour = True
    ctx = ReportContext(
        files_checked=files,
        root=settings.root,
        colour=colour,
        width=_width(),
        verbose=args.verbose,
        source_lines=lambda p: split_lines(texts[p]) if p in texts else None,
        unsafe_fixes=args.unsafe_fixes,
        fixed=fixed,
    )
    _emit(output, args.output_file, _report_text(args, fmt, findings, ctx))
    if fix_failed or any(f.code == "ECO903" for f in findings):
        return 2  # a file that could not be fixed (or written) is an error, whatever the findings
    return _exit_code(args, settings, findings, fixed)


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
    """The report in the chosen format (or the per-rule statistics), without the summary under --quiet."""
    from ecolint.report import render

    if args.statistics:
        from ecolint.report import statistics

        text = statistics.render(findings, "json" if fmt == "json" else "text", args.unsafe_fixes)
    else:
        text = render(fmt, findings, ctx)
    if args.quiet and fmt in ("full", "concise"):
        text = "\n".join(text.rstrip("\n").splitlines()[:-1]) + "\n" if findings else ""
    return text


def _exit_code(args, settings, findings, fixed: int) -> int:
    if args.exit_zero:
        return 0
    if args.exit_non_zero_on_fix and fixed:
        return 1
    threshold = settings.fail_on.rank
    return 1 if any(f.severity.rank >= threshold for f in findings) else 0


def _report_diff(args, output, diff: str, fixed: int, files: int) -> int:
    """``--diff``: the diff on stdout (or -o, opened by :func:`_open_output`), a one-line summary on stderr;
    exit 1 if anything would change."""
    _emit(output, args.output_file, diff)
    if not args.quiet:
        if fixed:
            print(f"Would fix {fixed} finding{'s' if fixed != 1 else ''} in {files} file{'s' if files != 1 else ''}.", file=sys.stderr)
        else:
            print("No fixes to apply." + ("" if args.unsafe_fixes else " (Unsafe fixes are applied only with --unsafe-fixes.)"), file=sys.stderr)
    return 1 if diff and not args.exit_zero else 0


def _check_stdin(args) -> int:
    """``--stdin-filename NAME``: lint standard input as NAME. With ``--fix`` the (fixed) source goes to stdout
    and the report to stderr, so editors and pipes can replace the buffer with stdout."""
    from ecolint.discovery import discover
    from ecolint.fix import applicable, fix_text, source_encoding, unified_diff
    from ecolint.report import ReportContext
    from ecolint.runner import Engine, display_path, lint_bytes
    from ecolint.sources import kind_for

    if any(str(p) != "-" for p in args.paths):
        raise UsageError("--stdin-filename reads standard input; do not also name paths")
    if not args.stdin_filename:
        raise UsageError("--stdin-filename needs the name standard input is linted as (it decides the file type and the settings)")
    name = Path(args.stdin_filename)
    _check_output_place(args.output_file)
    if args.output_file is not None and _same_file(name, args.output_file):
        raise UsageError(f"the output file {args.output_file} is the file named by --stdin-filename; refusing to overwrite it with the report")
    args.paths = [name if name.exists() else name.parent]
    settings = _settings_for(args)
    engine = Engine.create(settings)
    data = sys.stdin.buffer.read()
    display = display_path(name)
    kind = kind_for(name)
    excluded = args.force_exclude and not list(discover([name], settings, force_exclude=True))
    findings, text, original, out = [], None, None, data
    fixed = 0
    fix_failed = False
    if kind is not None and not excluded:
        result = lint_bytes(display, data, kind, engine)
        findings, text = result.findings, result.text
        original = text
        if (args.fix or args.diff) and text is not None and any(applicable(f.fix, args.unsafe_fixes) for f in findings):
            fix = fix_text(display, text, kind, engine, args.unsafe_fixes, findings=findings)
            if fix.error:
                print(f"ecolint: error: {fix.error}", file=sys.stderr)
                fix_failed = True
            elif fix.changed:
                try:
                    out = fix.fixed.encode(source_encoding(data, kind))
                    findings, fixed, text = fix.findings, fix.applied, fix.fixed
                except UnicodeEncodeError as exc:
                    print(f"ecolint: error: the fixed source cannot be encoded ({exc.reason}); left unchanged", file=sys.stderr)
                    fix_failed = True
    output = _open_output(args.output_file, args.diff)
    if args.diff:
        diff = unified_diff(original, text, display, bom=data.startswith(b"\xef\xbb\xbf")) if fixed else ""
        code = _report_diff(args, output, diff, fixed, 1 if fixed else 0)
        return 2 if fix_failed else code
    fmt = args.output_format or "full"
    ctx = ReportContext(
        files_checked=0 if kind is None or excluded else 1,
        root=settings.root,
        width=_width(),
        verbose=args.verbose,
        source_lines=lambda p: split_lines(text) if p == display and text is not None else None,
        unsafe_fixes=args.unsafe_fixes,
        fixed=fixed,
    )
    report = _report_text(args, fmt, findings, ctx)
    if args.fix:
        sys.stdout.buffer.write(out)
        sys.stdout.flush()
        if output is None:
            sys.stderr.write(report)
        else:
            _emit(output, args.output_file, report)
    else:
        _emit(output, args.output_file, report)
    if fix_failed or any(f.code == "ECO903" for f in findings):
        return 2
    return _exit_code(args, settings, findings, fixed)


def _jobs(args, settings) -> Optional[int]:
    jobs = args.jobs if getattr(args, "jobs", None) is not None else settings.jobs
    if jobs is not None and jobs < 0:
        raise UsageError("--jobs must be 0 (one per CPU) or more")
    return jobs or None


def _cache_for(args, engine):
    if getattr(args, "no_cache", False) or os.environ.get("ECOLINT_NO_CACHE"):
        return None
    from ecolint.cache import ResultsCache

    return ResultsCache.for_engine(engine, getattr(args, "cache_dir", None))


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
    try:
        return max(60, min(os.get_terminal_size().columns, 140))
    except OSError:
        return 100


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
    from ecolint.registry import rule_by_code
    from ecolint.rule_docs import live_evidence

    rule = rule_by_code(args.code)
    if rule is None:
        from difflib import get_close_matches

        from ecolint.registry import all_rules

        names = [r.code for r in all_rules()] + [r.name for r in all_rules()]
        close = get_close_matches(args.code.upper() if args.code[:3].lower() == "eco" else args.code, names, n=2, cutoff=0.5)
        hint = f" (did you mean {' or '.join(close)}?)" if close else ""
        raise UsageError(f"unknown rule {args.code!r}{hint}; `ecolint rules` lists them")
    evidence = live_evidence(rule)
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
    from ecolint.config import ConfigError

    argv = _normalise_argv(list(sys.argv[1:] if argv is None else argv))
    parser = _parser(advisors=argv[0] != "check" or "-h" in argv or "--help" in argv)
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0) if exc.code in (0, None) else 2
    try:
        return int(args.func(args))
    except UsageError as exc:
        print(f"ecolint: error: {exc}", file=sys.stderr)
        return 2
    except ConfigError as exc:
        print(f"ecolint: configuration error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("ecolint: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 1
    except Exception as exc:  # noqa: BLE001 - last resort: a clear message, exit 2, traceback only with -v
        from ecolint.knowledge.data import DataError
        from ecolint.registry import RuleLoadError

        if isinstance(exc, (DataError, RuleLoadError)):
            print(f"ecolint: error: {exc}", file=sys.stderr)
            return 2
        if getattr(args, "verbose", False):
            import traceback

            traceback.print_exc()
        print(f"ecolint: internal error: {type(exc).__name__}: {exc} (run with -v for the traceback)", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
