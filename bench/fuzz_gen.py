"""Input generators for ``bench/fuzz.py``.

Every generator is a function ``(rng, index, seed) -> Input`` (``grammar`` draws its programs in one batch,
see :func:`grammar_inputs`). An :class:`Input` is a file name and its bytes plus ``meta``, facts the generator
knows by construction and the oracles check:

* ``live``    option names that are live in the program (a run-time flag or a later mutation may enable
              them): no safe fix may delete them;
* ``expect``  ``[code, line]`` pairs ecolint must report (a directive inside a string is not a directive;
              a Unicode line separator is not a line break);
* ``fs``      a file-system scenario instead of a file (see :func:`fs_objects`);
* ``sleep``   test hook: the worker sleeps this long before checking (proves the budget kills it).
"""

from __future__ import annotations

import random
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator, Optional

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Input:
    generator: str
    index: int
    name: str
    data: bytes
    meta: dict = field(default_factory=dict)


# -- the historical generators: byte mutations and assembled programs ---------------------------------------

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
    "\u2028".encode(), "\u2029".encode(), "\u0085".encode(), b"\x0c", b"# fmt: off\n", b"# fmt: on\n", b"(dt := 1)",
)

# Repeated by the mutator to build very deep nesting (with the matching closer most of the time).
DEEP_TOKENS: tuple[bytes, ...] = (
    b"(", b"[", b"{", b"-", b"not ", b"a and ", b"a or ", b"a + ", b"2 ** ", b"lambda: ", b"1 if a else ", b".b", b"()",
    b"[0]", b'f"{', b"elif a:\n    pass\n", b"- ", b"  ", b"a: ", b"[[", b"{a = ", b"&x [", b"*x, ", b"\"a\" ", b"(1)", b"[0:1]",
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

_SEEDS: Optional[list[tuple[str, bytes]]] = None


def seed_corpus() -> list[tuple[str, bytes]]:
    """(file name, bytes) for every fixture file and every rule example (computed once)."""
    global _SEEDS
    if _SEEDS is None:
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
        _SEEDS = seeds
    return _SEEDS


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
            del buf[pos : min(n, pos + rng.randint(1, 40))]
        elif op == 5 and n:  # duplicate a range
            start = rng.randrange(n)
            buf[pos:pos] = buf[start : start + rng.randint(1, 200)] * rng.randint(1, 4)
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
    if rng.random() < 0.3:  # nest some of it in a function
        body = "".join(parts[1:])
        lines = body.split("\n")[:-1]
        parts = parts[:1] + ["def main():\n" + ("".join("    " + ln + "\n" if ln else "\n" for ln in lines) or "    pass\n")]
    text = "".join(parts)
    if rng.random() < 0.2:
        text = text.replace("'", '"')
    if rng.random() < 0.2:
        text = text.replace("\n", "\r\n")
    if rng.random() < 0.1:
        text = text.replace("    ", "\t")
    if rng.random() < 0.1:
        return ("# -*- coding: latin-1 -*-\n# café\n" + text).encode("latin-1")
    data = text.encode("utf-8")
    if rng.random() < 0.1:
        data = b"\xef\xbb\xbf" + data
    return data


def program(rng: random.Random, i: int, seed: int) -> Input:
    data = assemble_program(rng)
    if rng.random() < 0.3:
        data = mutate(data, rng, rng.randint(1, 4), [d for _, d in seed_corpus()])
    return Input("program", i, f"program_{seed}_{i}.py", data)


def mutant(rng: random.Random, i: int, seed: int) -> Input:
    seeds = seed_corpus()
    name, data = rng.choice(seeds)
    return Input("mutant", i, name, mutate(data, rng, rng.choice((1, 1, 2, 3, 5, 8, 20)), [d for _, d in seeds]))


def config(rng: random.Random, i: int, seed: int) -> Input:
    seeds = [(n, d) for n, d in seed_corpus() if n.endswith((".yaml", ".yml", ".toml"))]
    name, data = rng.choice(seeds)
    return Input("config", i, name, mutate(data, rng, rng.choice((1, 1, 2, 3, 5, 8, 20)), [d for _, d in seeds]))


def grammar_inputs(count: int, seed: int) -> Iterator[Input]:
    """Programs from hypothesmith's grammar strategy, drawn with a fixed seed (no example database)."""
    try:
        import hypothesmith
        from hypothesis import HealthCheck, Phase, given, settings
        from hypothesis import seed as hyp_seed
    except ImportError:  # pragma: no cover - the test extra is not installed
        print("hypothesmith is not installed: grammar inputs replaced by assembled programs", file=sys.stderr)
        rng = random.Random(seed)
        for i in range(count):
            yield Input("grammar", i, f"grammar_{seed}_{i}.py", assemble_program(rng))
        return
    out: list[str] = []

    @hyp_seed(seed)
    @settings(max_examples=count, deadline=None, database=None, phases=[Phase.generate], suppress_health_check=list(HealthCheck))
    @given(hypothesmith.from_grammar() | hypothesmith.from_node())
    def collect(source: str) -> None:
        out.append(source)

    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        collect()
    for i in range(count):
        source = out[i % len(out)] if out else "pass\n"
        yield Input("grammar", i, f"grammar_{seed}_{i}.py", source.encode("utf-8", "surrogatepass"))


# -- building blocks of the semantic generators -------------------------------------------------------------

DTYPE = ("torch.bfloat16", "torch.float16", '"bfloat16"')
HEAD = "import torch\nfrom transformers import AutoModelForCausalLM, BitsAndBytesConfig\n"
FOUR_BIT = ("bnb_4bit_quant_type", "bnb_4bit_compute_dtype")


def _call(rng: random.Random, func: str, args: list[str], indent: str, unit: str) -> str:
    """``func(args)`` on one line or one argument per line (trailing comma or not, comments on arguments)."""
    if rng.random() < 0.35:
        return f"{func}({', '.join(args)})"
    inner = indent + unit
    lines = []
    for k, a in enumerate(args):
        comma = "," if k < len(args) - 1 or rng.random() < 0.7 else ""
        comment = f"  # {rng.choice(('keep', 'note', 'was 6.0', 'see docs'))} {k}" if rng.random() < 0.3 else ""
        lines.append(f"{inner}{a}{comma}{comment}")
    close = indent if rng.random() < 0.8 else inner
    return f"{func}(\n" + "\n".join(lines) + f"\n{close})"


def _bnb_args(rng: random.Random) -> list[str]:
    """Arguments of a BitsAndBytesConfig that ecolint has something to say about."""
    choice = rng.randrange(4)
    if choice == 0:
        args = ["load_in_8bit=True"]
    elif choice == 1:
        args = ["load_in_8bit=True", 'bnb_4bit_quant_type="nf4"', f"bnb_4bit_compute_dtype={rng.choice(DTYPE)}"]
    elif choice == 2:
        args = ["load_in_4bit=False", 'bnb_4bit_quant_type="nf4"']
    else:
        args = ["load_in_8bit=True", "llm_int8_threshold=6.0"]
    rng.shuffle(args)
    return args


def _statement(rng: random.Random, indent: str, unit: str) -> str:
    """One statement with a fixable finding, at ``indent``."""
    kind = rng.randrange(5)
    if kind == 0:
        return indent + "bnb = " + _call(rng, "BitsAndBytesConfig", _bnb_args(rng), indent, unit)
    if kind == 1:
        args = ["**inputs", f"max_new_tokens={rng.choice((16, 64, 256))}", "use_cache=False"]
        rng.shuffle(args)
        return indent + "out = " + _call(rng, "model.generate", args, indent, unit)
    if kind == 2:
        args = [f'"{rng.choice(MODELS[:4])}"', 'device_map="cuda"'] + (["torch_dtype=torch.float32"] if rng.random() < 0.5 else [])
        return indent + "model = " + _call(rng, "AutoModelForCausalLM.from_pretrained", args, indent, unit)
    if kind == 3:
        items = ['"load_in_8bit": True', '"bnb_4bit_quant_type": "nf4"', '"bnb_4bit_compute_dtype": torch.float16']
        rng.shuffle(items)
        body = _call(rng, "", items, indent, unit)[1:-1]
        return indent + "kw = {" + body + "}\n" + indent + "bnb = BitsAndBytesConfig(**kw)"
    return indent + "bnb = " + _call(rng, "BitsAndBytesConfig", ["load_in_8bit=True"], indent, unit) + "  # trailing"


def indented(rng: random.Random, i: int, seed: int) -> Input:
    """Fixable calls and dicts inside functions, methods and nested blocks, indented with spaces or tabs."""
    unit = rng.choice(("    ", "  ", "\t", "        "))
    out = [HEAD]
    for _ in range(rng.randint(1, 3)):
        wrapper = rng.randrange(5)
        if wrapper == 0:
            out.append("def load(name):\n" + _statement(rng, unit, unit) + f"\n{unit}return bnb\n")
        elif wrapper == 1:
            out.append(f"class Loader:\n{unit}def build(self):\n" + _statement(rng, unit * 2, unit) + f"\n{unit * 2}return None\n")
        elif wrapper == 2:
            out.append(f"for p in prompts:\n{unit}if p:\n{unit * 2}with torch.no_grad():\n" + _statement(rng, unit * 3, unit) + "\n")
        elif wrapper == 3:
            out.append("try:\n" + _statement(rng, unit, unit) + f"\nexcept ImportError:\n{unit}pass\n")
        else:
            out.append(_statement(rng, "", unit) + "\n")
        if rng.random() < 0.5:
            out.append(f"x = 1\n{unit if rng.random() < 0.3 else ''}# a comment\n")
    return Input("indented", i, f"indented_{seed}_{i}.py", "".join(out).encode())


def shared(rng: random.Random, i: int, seed: int) -> Input:
    """A dict / ``**kw`` shared by an 8-bit and a 4-bit config: the 4-bit options are live."""
    opts = f'bnb_4bit_quant_type="nf4", bnb_4bit_compute_dtype={rng.choice(DTYPE)}'
    style = rng.randrange(3)
    if style == 0:
        common = f"common = dict({opts})\n"
    elif style == 1:
        common = 'common = {"bnb_4bit_quant_type": "nf4", "bnb_4bit_compute_dtype": torch.bfloat16}\n'
    else:
        common = "common = dict(\n    " + opts.replace(", ", ",\n    ") + ",\n)\n"
    eight = "eight = BitsAndBytesConfig(load_in_8bit=True, llm_int8_threshold=0.0, **common)\n"
    four = "four = BitsAndBytesConfig(load_in_4bit=True, **common)\n"
    calls = [eight, four]
    rng.shuffle(calls)
    tail = 'm = AutoModelForCausalLM.from_pretrained("gpt2", quantization_config=four)\n' if rng.random() < 0.5 else ""
    return Input("shared", i, f"shared_{seed}_{i}.py", (HEAD + common + "".join(calls) + tail).encode(), {"live": list(FOUR_BIT)})


def mutated(rng: random.Random, i: int, seed: int) -> Input:
    """Options whose config is switched to 4-bit later (item assignment, ``update``, attribute assignment)."""
    style = rng.randrange(4)
    if style == 0:
        body = 'kw = {"bnb_4bit_quant_type": "nf4", "bnb_4bit_compute_dtype": torch.bfloat16}\nkw["load_in_4bit"] = True\nbnb = BitsAndBytesConfig(**kw)\n'
    elif style == 1:
        body = 'kw = dict(bnb_4bit_quant_type="nf4", bnb_4bit_compute_dtype=torch.float16)\nkw.update(load_in_4bit=True)\nbnb = BitsAndBytesConfig(**kw)\n'
    elif style == 2:
        body = 'import sys\nbnb = BitsAndBytesConfig(load_in_4bit=False, bnb_4bit_quant_type="nf4")\nif "--four" in sys.argv:\n    bnb.load_in_4bit = True\n'
    else:
        body = 'kw = dict(bnb_4bit_quant_type="nf4")\nkw.setdefault("load_in_4bit", True)\nbnb = BitsAndBytesConfig(**kw)\n'
    return Input("mutated", i, f"mutated_{seed}_{i}.py", (HEAD + body).encode(), {"live": list(FOUR_BIT)})


def flags(rng: random.Random, i: int, seed: int) -> Input:
    """The 4-bit switch is a run-time flag: argparse ``store_true``, a parameter default, a ``global``."""
    opts = f'bnb_4bit_quant_type="nf4", bnb_4bit_compute_dtype={rng.choice(DTYPE)}'
    style = rng.randrange(4)
    if style == 0:
        body = (
            'import argparse\np = argparse.ArgumentParser()\np.add_argument("--load-in-4bit", action="store_true")\n'
            f"args = p.parse_args()\nbnb = BitsAndBytesConfig(load_in_4bit=args.load_in_4bit, {opts})\n"
        )
    elif style == 1:
        body = (
            "def load_model(name, load_in_4bit=False):\n    bnb = BitsAndBytesConfig(\n        load_in_4bit=load_in_4bit,\n"
            "        " + opts.replace(", ", ",\n        ") + ",\n    )\n"
            "    return AutoModelForCausalLM.from_pretrained(name, quantization_config=bnb)\n"
            'model = load_model("mistralai/Mistral-7B-v0.1", load_in_4bit=True)\n'
        )
    elif style == 2:
        body = f"FOUR = False\ndef enable():\n    global FOUR\n    FOUR = True\ndef make():\n    return BitsAndBytesConfig(load_in_4bit=FOUR, {opts})\n"
    else:
        body = f"def make(four=False):\n    return BitsAndBytesConfig(load_in_4bit=four, {opts})\ncfg = make(True)\n"
    return Input("flags", i, f"flags_{seed}_{i}.py", (HEAD + body).encode(), {"live": list(FOUR_BIT)})


def side_effects(rng: random.Random, i: int, seed: int) -> Input:
    """Removable options whose values have side effects (walrus, ``pop``, calls)."""
    value = rng.choice(('(dt := torch.float16)', 'opts.pop("quant_type")', "pick_dtype()", "next(it)", '(q := "nf4")'))
    opt = "bnb_4bit_compute_dtype" if "dt" in value or "pick" in value or "next" in value else "bnb_4bit_quant_type"
    args = ["load_in_8bit=True", "llm_int8_threshold=0.0", f"{opt}={value}"]
    rng.shuffle(args)
    unit = rng.choice(("    ", "\t"))
    call = _call(rng, "BitsAndBytesConfig", args, "", unit)
    body = 'opts = {"quant_type": "nf4"}\nit = iter([torch.float16])\ndef pick_dtype():\n    return torch.float16\n'
    body += f"bnb = {call}\nprint(opts, {'dt' if 'dt' in value else ('q' if 'q :=' in value else 'opts')})\n"
    return Input("side_effects", i, f"side_{seed}_{i}.py", (HEAD + body).encode())


def comments(rng: random.Random, i: int, seed: int) -> Input:
    """Comments on arguments, and ``# fmt: off`` regions around fixable calls."""
    style = rng.randrange(4)
    if style == 0:
        body = "bnb = BitsAndBytesConfig(\n    load_in_8bit=True,  # keep 8-bit\n)\n"
    elif style == 1:
        body = "out = model.generate(\n    **inputs,\n    max_new_tokens=64,\n    use_cache=False,  # debugging\n)\n"
    elif style == 2:
        body = "# fmt: off\nbnb = BitsAndBytesConfig( load_in_8bit = True )\nx = [1,2,\n     3]\n# fmt: on\n"
    else:
        body = (
            "def f():\n    # fmt: off\n    out = model.generate(**inputs,  max_new_tokens=64,   use_cache=False)\n"
            "    # fmt: on\n    return out\n"
        )
    if rng.random() < 0.5:
        body = body.replace("\n", "  # tail\n", 1) if not body.startswith("#") else body
    return Input("comments", i, f"comments_{seed}_{i}.py", (HEAD + body).encode())


def yaml_anchors(rng: random.Random, i: int, seed: int) -> Input:
    """YAML anchors, aliases and merge keys around fixable options."""
    style = rng.randrange(4)
    if style == 0:
        text = (
            "base: &base\n  load_in_8bit: true\n  llm_int8_threshold: 0.0\n  bnb_4bit_quant_type: nf4\n"
            "a:\n  <<: *base\nb:\n  <<: *base\n  load_in_8bit: false\n  load_in_4bit: true\n"
        )
    elif style == 1:
        text = (
            "model_id: mistralai/Mistral-7B-v0.1\nquantization_config:\n  load_in_8bit: true\n"
            "  bnb_4bit_quant_type: &qt nf4\nother:\n  quant: *qt\n"
        )
    elif style == 2:
        text = (
            "defaults: &d\n  bnb_4bit_quant_type: nf4\n  bnb_4bit_compute_dtype: bfloat16\n"
            "eight:\n  quantization_config:\n    <<: *d\n    load_in_8bit: true\n"
            "four:\n  quantization_config:\n    <<: *d\n    load_in_4bit: true\n"
        )
    else:
        text = "q: &q\n  load_in_8bit: true\nmodels:\n  - quantization_config: *q\n  - quantization_config: *q\n"
    return Input("yaml_anchors", i, f"anchors_{seed}_{i}.yaml", text.encode())


def noqa_strings(rng: random.Random, i: int, seed: int) -> Input:
    """``noqa`` text inside strings and block scalars is not a directive: the finding must still be reported."""
    style = rng.randrange(6)
    directive = rng.choice(("# ecolint: noqa", "# noqa", "# noqa: ECO101", "# ecolint: noqa: ECO401"))
    if style == 0:
        text = f"model_id: mistralai/Mistral-7B-v0.1\nquantization_config:\n  load_in_8bit: true\nnotes: |\n  To silence ecolint, add   {directive}\n"
        return Input("noqa_strings", i, f"noqa_{seed}_{i}.yaml", text.encode(), {"expect": [["ECO101", 3]]})
    if style == 1:
        text = f'description: "see {directive} in docs"\nquantization_config:\n  load_in_8bit: true\n'
        return Input("noqa_strings", i, f"noqa_{seed}_{i}.yaml", text.encode(), {"expect": [["ECO101", 3]]})
    if style == 2:
        text = f'notes = "see {directive}"\nload_in_8bit = true\n'
        return Input("noqa_strings", i, f"noqa_{seed}_{i}.toml", text.encode(), {"expect": [["ECO101", 2]]})
    if style == 3:
        text = f"notes = '''\n{directive}\n'''\nload_in_8bit = true\n"
        return Input("noqa_strings", i, f"noqa_{seed}_{i}.toml", text.encode(), {"expect": [["ECO101", 4]]})
    if style == 4:
        text = f'echo "{directive}"\nvllm serve mistralai/Mistral-7B-v0.1 --dtype float32\n'
        return Input("noqa_strings", i, f"noqa_{seed}_{i}.sh", text.encode(), {"expect": [["ECO401", 2]]})
    text = f"vllm serve mistralai/Mistral-7B-v0.1 --dtype float32 --served-model-name 'x{directive}'\n"
    return Input("noqa_strings", i, f"noqa_{seed}_{i}.sh", text.encode(), {"expect": [["ECO401", 1]]})


SEPARATORS = ("\u2028", "\u2029", "\u0085", "\x0c", "\x1c", "\x1d", "\x1e")


def separators(rng: random.Random, i: int, seed: int) -> Input:
    """Unicode line separators inside strings and comments: they are not line breaks."""
    style = rng.randrange(4)
    # TOML and YAML refuse C0 control characters in strings: only the Unicode separators go there.
    sep = rng.choice(SEPARATORS if style == 3 else SEPARATORS[:3])
    if style == 0:  # a stand-alone noqa two lines up must not reach the finding
        text = f'x = 1\nmodel = "a{sep}b"\n\n# noqa: ECO101\nload_in_8bit = true\n'
        return Input("separators", i, f"sep_{seed}_{i}.toml", text.encode(), {"expect": [["ECO101", 5]]})
    if style == 1:  # a same-line noqa must suppress it and leave no ECO902
        text = f'model = "a{sep}b"\nx = 1\n\nload_in_8bit = true  # noqa: ECO101\n'
        return Input("separators", i, f"sep_{seed}_{i}.toml", text.encode(), {"expect_not": ["ECO101", "ECO902"]})
    if style == 2:
        text = f'notes: "a{sep}b"\nquantization_config:\n  load_in_8bit: true\n'
        return Input("separators", i, f"sep_{seed}_{i}.yaml", text.encode(), {"expect": [["ECO101", 3]]})
    text = HEAD + f'# a comment{sep}with a separator\ns = "more{sep} and"\nbnb = BitsAndBytesConfig(load_in_8bit=True)\n'
    return Input("separators", i, f"sep_{seed}_{i}.py", text.encode(), {"expect": [["ECO101", 5]]})


def newlines(rng: random.Random, i: int, seed: int) -> Input:
    """LF, CRLF and CR mixed in one file, around a multi-line fixable call."""
    lines = [
        "import torch",
        "from transformers import BitsAndBytesConfig",
        "bnb = BitsAndBytesConfig(",
        "    load_in_8bit=True,",
        '    bnb_4bit_quant_type="nf4",',
        "    bnb_4bit_compute_dtype=torch.float16,",
        ")",
        "out = model.generate(",
        "    **inputs,",
        "    use_cache=False,",
        ")",
        "x = 1",
    ]
    eols = ["\n"] + [rng.choice(("\n", "\r\n", "\r")) for _ in lines[1:]]
    if all(e == "\n" for e in eols):
        eols[rng.randrange(1, len(eols))] = "\r\n"
    text = "".join(ln + eol for ln, eol in zip(lines, eols))
    return Input("newlines", i, f"newlines_{seed}_{i}.py", text.encode())


FS_SCENARIOS = ("fifo", "dev_zero", "loop", "readonly", "fifo_requirements", "fifo_yaml")


def fs_objects(rng: random.Random, i: int, seed: int) -> Input:
    """A file-system object in a linted place (built by the worker in its temp dir): the run must end quickly,
    reporting ECO901 for what it cannot read, and ``--fix`` must not rewrite a read-only file."""
    scenario = FS_SCENARIOS[i % len(FS_SCENARIOS)] if rng.random() < 0.7 else rng.choice(FS_SCENARIOS)
    return Input("fs_objects", i, f"fs_{scenario}", scenario.encode(), {"fs": scenario})


def hang(rng: random.Random, i: int, seed: int) -> Input:
    """Test hook (never in the default mix): an input whose worker sleeps far past any budget."""
    return Input("hang", i, f"hang_{seed}_{i}.py", b"x = 1\n", {"sleep": 3600})


GENERATORS: dict[str, Callable[[random.Random, int, int], Input]] = {
    "program": program,
    "mutant": mutant,
    "config": config,
    "indented": indented,
    "shared": shared,
    "mutated": mutated,
    "flags": flags,
    "side_effects": side_effects,
    "comments": comments,
    "yaml_anchors": yaml_anchors,
    "noqa_strings": noqa_strings,
    "separators": separators,
    "newlines": newlines,
    "fs_objects": fs_objects,
    "hang": hang,
}

# Shares of the default mix ("grammar" is drawn in a batch by hypothesmith, "hang" is a test hook).
MIX = {
    "grammar": 0.14, "program": 0.14, "mutant": 0.2, "config": 0.08, "indented": 0.1, "shared": 0.03, "mutated": 0.03,
    "flags": 0.04, "side_effects": 0.04, "comments": 0.04, "yaml_anchors": 0.04, "noqa_strings": 0.03, "separators": 0.03,
    "newlines": 0.04, "fs_objects": 0.02,
}


def inputs(counts: dict[str, int], seed: int) -> Iterator[Input]:
    """Every generator's inputs, interleaved (so a short campaign still sees them all), reproducible from
    ``seed`` and each input's generator and index."""
    streams = []
    for g, (name, count) in enumerate(counts.items()):
        if count <= 0:
            continue
        gseed = seed * 1_000_003 + g * 7919
        if name == "grammar":
            streams.append(grammar_inputs(count, gseed))
        else:
            streams.append(_stream(name, count, gseed))
    while streams:
        for s in list(streams):
            try:
                yield next(s)
            except StopIteration:
                streams.remove(s)


def _stream(name: str, count: int, gseed: int) -> Iterator[Input]:
    make = GENERATORS[name]
    for i in range(count):
        yield make(random.Random(gseed * 100_003 + i), i, gseed)
