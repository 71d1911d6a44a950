"""argparse wiring for ``ecolint compare | optimize | estimate | diagnose``.

Only argparse and the standard library are imported at module level: the core CLI calls :func:`register` on
every start-up, and rich, the tables and the estimator are loaded only when one of these commands runs.
Numbers are taken as strings and checked by the shared validator, so every problem is reported at once.
Exit codes: 0 success, 2 usage / configuration / data errors.
"""

from __future__ import annotations

import argparse
import sys
from typing import Callable

FORMATS = ("text", "markdown", "json")

_DESCRIPTIONS = {
    "compare": "Compare FP16, NF4, NF4 double-quant, default INT8 and pure INT8 for one model on one GPU: "
               "energy per 1k tokens, Δ vs FP16, throughput, power, VRAM, perplexity where measured, and a "
               "recommendation. Every number is marked measured (with row ids) or extrapolated (with method "
               "and confidence).",
    "optimize": "Recommend a precision and batch size for a model on a GPU from the measurements, with energy, "
                "monthly cost and carbon, insights, pitfalls and a measurement-transparency section.",
    "estimate": "Monthly kWh, cost and CO2 for a configuration and for the optimized one, and the savings.",
    "diagnose": "Compare an observed throughput (and power or energy) with what the measurements predict, match a "
                "known waste pattern (default INT8, NF4 on small models, NF4 double quant, batch size 1) and list "
                "fixes in priority order.",
}


def _common(sp: argparse.ArgumentParser) -> None:
    sp.add_argument("--model", "-m", metavar="ID", help="Hugging Face id or short name (e.g. Qwen/Qwen2-7B)")
    sp.add_argument("--gpu", "-g", metavar="GPU", help="GPU id or alias (a800, rtx4090d, 'RTX 4090 D', a100, t4 …)")
    sp.add_argument("--params-b", metavar="N", help="parameter count in billions, when the name does not tell")
    sp.add_argument("--format", "-f", choices=FORMATS, default="text", help="output format (default: text)")
    sp.add_argument("--engine", "-e", choices=("hf", "vllm", "tgi"), default="hf",
                    help="hf: Hugging Face eager generate (default); vllm/tgi: serving with continuous batching, "
                         "from the ML.ENERGY Benchmark rows (batch size = max_num_seqs)")
    sp.add_argument("--num-gpus", metavar="N", help="GPUs in the deployment (serving; default: the fewest that fit)")
    sp.add_argument("--active-params-b", metavar="N", help="active parameters per token in billions (MoE)")
    sp.add_argument("--verbose", "-v", action="store_true", help="show where every number comes from")
    sp.add_argument("--measurements", metavar="FILE", action="append", default=[],
                    help="extra measurement table (same columns as the built-in one); its rows win for the same "
                         "configuration; may be repeated")


def register(subparsers) -> None:
    """Add the four advisor subcommands to an ``argparse`` subparsers object."""
    sp = subparsers.add_parser("compare", help="compare quantization methods for a model on a GPU",
                               description=_DESCRIPTIONS["compare"])
    _common(sp)
    sp.add_argument("--batch-size", "-b", metavar="B", default="1", help="sequences per generate call (default 1)")
    sp.set_defaults(func=_runner("compare"))

    sp = subparsers.add_parser("optimize", help="recommend precision and batch size",
                               description=_DESCRIPTIONS["optimize"])
    _common(sp)
    sp.add_argument("--quant", "-q", metavar="Q", help="current precision: fp16, bf16, fp32, nf4, nf4_dq, "
                                                       "int8_default, int8_pure")
    sp.add_argument("--batch-size", "-b", metavar="B", help="current batch size")
    sp.add_argument("--seq-len", metavar="N", default="512", help="prompt tokens (default 512)")
    sp.add_argument("--gen-len", metavar="N", default="256", help="generated tokens per request (default 256)")
    sp.add_argument("--use-case", choices=("api", "chat", "batch"), default="api",
                    help="api: BS 16, chat: BS 4, batch: BS 64 (default api)")
    sp.add_argument("--requests-per-month", metavar="N", help="requests per month for the cost section")
    sp.add_argument("--max-latency-s", metavar="S", help="latency bound per request in seconds: the batch size is "
                                                         "lowered until the estimated latency stays under it")
    sp.set_defaults(func=_runner("optimize"))

    sp = subparsers.add_parser("estimate", help="monthly energy, cost and carbon",
                               description=_DESCRIPTIONS["estimate"])
    _common(sp)
    sp.add_argument("--quant", "-q", metavar="Q", help="precision (required)")
    sp.add_argument("--batch-size", "-b", metavar="B", help="batch size (required)")
    sp.add_argument("--requests-per-month", metavar="N", help="requests per month (required)")
    sp.add_argument("--region", metavar="R", default="us", help="grid: us, cn, eu, fr, no, in (default us)")
    sp.add_argument("--pue", metavar="P", help="power usage effectiveness (default 1.0 workstation, 1.1 data centre)")
    sp.add_argument("--usd-per-kwh", metavar="X", help="electricity price (default: the region's)")
    sp.add_argument("--gco2-per-kwh", metavar="Y", help="grid carbon intensity (default: the region's)")
    sp.add_argument("--usd-per-gpu-hour", metavar="X", help="GPU rental price: adds the monthly GPU cost of the fleet")
    sp.add_argument("--seq-len", metavar="N", default="512", help="prompt tokens (default 512)")
    sp.add_argument("--gen-len", metavar="N", default="256", help="generated tokens per request (default 256)")
    sp.add_argument("--use-case", choices=("api", "chat", "batch"), default="api",
                    help="use case for the optimized configuration (default api)")
    sp.set_defaults(func=_runner("estimate"))

    sp = subparsers.add_parser("diagnose", help="explain slow or energy-hungry inference",
                               description=_DESCRIPTIONS["diagnose"])
    _common(sp)
    sp.add_argument("--quant", "-q", metavar="Q", help="precision in use (required)")
    sp.add_argument("--batch-size", "-b", metavar="B", help="batch size in use (required)")
    sp.add_argument("--throughput", "-t", metavar="T", help="observed generated tokens per second (required)")
    sp.add_argument("--power", metavar="W", help="observed average GPU board power, W")
    sp.add_argument("--energy", metavar="J", help="observed energy per 1,000 generated tokens, J")
    sp.add_argument("--seq-len", metavar="N", default="512", help="prompt tokens (default 512)")
    sp.add_argument("--gen-len", metavar="N", default="256", help="generated tokens per request (default 256)")
    sp.set_defaults(func=_runner("diagnose"))

    _register_gpus(subparsers)


def _register_gpus(subparsers) -> None:
    sp = subparsers.add_parser("gpus", help="list the GPU table (ids, memory, bandwidth, power, source)",
                               description="Every GPU ecolint knows: canonical id, name, architecture, VRAM, memory "
                                           "bandwidth, board power, whether it has measurements, and the source of "
                                           "its figures. Cloud instance types (g5.xlarge, p4d.24xlarge, ...) and "
                                           "spellings such as A100-SXM4-40GB resolve to these ids.")
    sp.add_argument("--format", "-f", choices=FORMATS, default="text", help="output format (default: text)")
    sp.set_defaults(func=run_gpus)


def gpu_table() -> list[dict]:
    from ecolint.knowledge.gpus import known_gpu_ids, spec_row
    from ecolint.knowledge.specs import transfer_spec

    out = []
    for gid in known_gpu_ids():
        spec = transfer_spec(gid)
        if spec is None:
            continue
        row = spec_row(gid)
        out.append({"id": gid, "name": spec.name, "arch": spec.arch, "vram_gb": spec.vram_gb,
                    "mem_bw_gb_s": spec.mem_bw_gb_s, "tdp_w": spec.tdp_w, "measured": spec.measured,
                    "source": row.source if row is not None else spec.source})
    return out


def run_gpus(args: argparse.Namespace, out=None) -> int:
    import json

    from ecolint.protocols.render import Document, render_text, to_markdown

    out = out or sys.stdout
    rows = gpu_table()
    if args.format == "json":
        out.write(json.dumps(rows, indent=2) + "\n")
        return 0
    doc = Document("GPUs")
    doc.table(["id", "name", "arch", "VRAM GB", "GB/s", "W", "measured"],
              [[r["id"], r["name"], r["arch"], f"{r['vram_gb']:g}", f"{r['mem_bw_gb_s']:g}", f"{r['tdp_w']:g}",
                "yes" if r["measured"] else ""] for r in rows], "lllrrrl",
              caption="Sources per row: ecolint gpus --format json. Measured: rows of the Hugging Face eager table; "
                      "the serving rows (--engine vllm) cover h100 and b200.")
    if args.format == "markdown":
        out.write(to_markdown(doc))
    else:
        render_text(doc, file=out)
    return 0


def _runner(command: str) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        return run_command(command, args)

    run.__name__ = f"run_{command}"
    return run


def run_command(command: str, args: argparse.Namespace, out=None, err=None) -> int:
    """Validate, build the report and print it. Returns the exit code."""
    import importlib

    from ecolint.protocols.context import UsageError, load_context
    from ecolint.protocols.render import dump_json, render_text, to_markdown
    from ecolint.protocols.validate import ERROR, validate

    out = out or sys.stdout
    err = err or sys.stderr
    try:
        ctx = load_context(getattr(args, "measurements", None) or ())
    except UsageError as exc:
        print(f"ecolint {command}: error: {exc}", file=err)
        return 2
    params = validate(args, command, ctx.default_gpu, tuple(ctx.estimator.measured_gpus()),
                      ctx.model_overrides)
    for issue in params.issues:
        if issue.level == ERROR or getattr(args, "format", "text") == "text":
            print(f"ecolint {command}: {issue.line()}", file=err)
    if params.errors:
        n = len(params.errors)
        print(f"ecolint {command}: {n} error{'s' if n != 1 else ''}; nothing estimated", file=err)
        return 2
    ctx.engine, ctx.num_gpus, ctx.active_params_b = params.engine, params.num_gpus, params.active_params_b
    module = importlib.import_module(f"ecolint.protocols.{command}")
    try:
        report = module.build(ctx, params)
    except UsageError as exc:
        print(f"ecolint {command}: error: {exc}", file=err)
        return 2
    fmt = getattr(args, "format", "text")
    if fmt == "json":
        out.write(dump_json(report))
    elif fmt == "markdown":
        out.write(to_markdown(module.document(report, verbose=params.verbose)))
    else:
        render_text(module.document(report, verbose=params.verbose), file=out)
    return 0


def main(argv=None) -> int:
    """Stand-alone entry for these four commands (the core ``ecolint`` CLI registers them itself)."""
    parser = argparse.ArgumentParser(prog="ecolint")
    sub = parser.add_subparsers(dest="command", required=True)
    register(sub)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    raise SystemExit(main())
