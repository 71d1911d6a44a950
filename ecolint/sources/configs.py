"""Config dialects -> facts, over the shared YAML/TOML tree (:mod:`ecolint.sources.tree`).

Recognised, per document:

* **Kubernetes** (any object with ``containers``/``initContainers``: Deployment, StatefulSet, Pod, Job,
  CronJob, KServe …): each container's ``image``, ``command`` + ``args`` and ``env``; node selectors and
  node affinity naming a GPU become GPU hints.
* **docker-compose** (``services:``): ``image``, ``entrypoint`` + ``command`` (string or list) and
  ``environment`` (list of ``NAME=value`` or mapping).
* **fly.io** (``fly.toml``): ``[build] image``, ``[env]``, ``[experimental] cmd``/``entrypoint``,
  ``[processes]``, ``[[vm]] size``/``gpu_kind`` as the GPU hint.
* **SageMaker / HF endpoint** env blocks anywhere (``HF_MODEL_ID``, ``HF_MODEL_QUANTIZE``, ``SM_NUM_GPUS``):
  the LLM container is TGI. ``InstanceType: ml.g4dn.xlarge`` and cloud machine types become GPU hints.
* **vLLM ``--config`` files** (``model:``, ``dtype:``, ``max-num-seqs:``, ``quantization:``).
* **axolotl** (``base_model`` with training keys): a *training* config.
* **LLaMA-Factory** (``model_name_or_path`` with ``template``/``stage``/``quantization_bit`` …): training
  when it trains (``do_train``, or a ``stage`` without ``do_predict``), inference otherwise.
* Any other mapping holding bitsandbytes keys (``load_in_8bit``, ``llm_int8_threshold``, ``bnb_4bit_*``,
  ``quant_method: bnb_8bit``): a quantization config, fixable like ``BitsAndBytesConfig(...)`` kwargs.

A value that merely *mentions* a flag (a NOTES variable, a description) is never read: only the keys and
argument positions above are.
"""

from __future__ import annotations

import re
from typing import Optional

from ecolint.facts import CERTAIN, DEFAULT, BatchSetting, DtypeUse, Edit, FileFacts, FixCandidate, GpuHint, ModelLoad, ModelRef, QuantSpec, Value
from ecolint.sources import launch
from ecolint.sources.launch import Setting
from ecolint.sources.tree import CEntry, CNode, Tree, walk
from ecolint.sources.words import Word, literal_word, split_shell

_MODEL_KEYS = ("model_name_or_path", "pretrained_model_name_or_path", "model_id", "model_name", "base_model", "model")
_BNB_KEYS = {"load_in_8bit", "load_in_4bit", "llm_int8_threshold", "llm_int8_skip_modules", "llm_int8_has_fp16_weight"}
_QUANT_METHOD_KEYS = ("quant_method", "quantization_method", "quantization", "quantize", "quant")
_BNB8_NAMES = {"bnb_8bit", "bnb-8bit", "bnb8", "bitsandbytes_8bit", "bitsandbytes-8bit", "llm.int8", "llm_int8", "int8_bnb"}
_BNB4_NAMES = {"bnb_4bit", "bnb-4bit", "bnb4", "bitsandbytes_4bit", "bitsandbytes-4bit", "bitsandbytes-nf4", "bitsandbytes-fp4", "bnb_nf4", "bnb_fp4"}
_AXOLOTL_MARKERS = {"micro_batch_size", "adapter", "sequence_len", "gradient_accumulation_steps", "num_epochs", "datasets", "lora_r", "output_dir", "load_in_8bit", "load_in_4bit"}
_LLAMAFACTORY_MARKERS = {"template", "stage", "finetuning_type", "quantization_bit", "infer_backend", "do_train", "do_predict", "dataset", "adapter_name_or_path", "infer_dtype"}
_VLLM_KEYS = {"max-num-seqs", "max_num_seqs", "quantization", "tensor-parallel-size", "tensor_parallel_size", "gpu-memory-utilization",
              "gpu_memory_utilization", "max-model-len", "max_model_len", "served-model-name", "served_model_name", "kv-cache-dtype",
              "enforce-eager", "load-format", "load_format", "enable-prefix-caching", "max-num-batched-tokens", "dtype"}
_GPU_LABELS = ("nvidia.com/gpu.product", "cloud.google.com/gke-accelerator", "karpenter.k8s.aws/instance-gpu-name", "accelerator",
               "gpu-type", "gpu_type", "node.kubernetes.io/instance-type", "beta.kubernetes.io/instance-type", "karpenter.k8s.aws/instance-family")
_INSTANCE_KEYS = re.compile(r"^(instance[_-]?type|machine[_-]?type|vm[_-]?size|gpu[_-]?kind|accelerator[_-]?type|gpu[_-]?type)$", re.IGNORECASE)
# Cloud instance families -> the GPU they carry (AWS, SageMaker ``ml.`` prefix, GCP).
_INSTANCE_GPUS = {
    "g4dn": "t4", "g5": "a10g", "g6": "l4", "g6e": "l40s", "p2": "k80", "p3": "v100", "p3dn": "v100", "p4d": "a100",
    "p4de": "a100", "p5": "h100", "p5e": "h200", "p5en": "h200", "a2": "a100", "a3": "h100", "g2": "l4",
}


class _Ctx:
    def __init__(self, tree: Tree, facts: FileFacts, path: str, overrides: dict):
        self.tree = tree
        self.facts = facts
        self.path = path
        self.overrides = overrides
        self.consumed: set[int] = set()
        self.parents: dict[int, CNode] = {}

    # -- values -------------------------------------------------------------------------------------------
    def setting(self, entry: CEntry, how: str = "") -> Setting:
        node = entry.node
        value = node.value if node.kind == "scalar" else None
        certainty = CERTAIN
        if isinstance(value, str) and "$" in value:
            w = self.word(node)
            v = launch.word_value(w, 0, len(w.text)) if w else Value(None, "unknown", entry.span, value)
            value, certainty = v.value, v.certainty
        v = Value(value, certainty, entry.span, how or entry.key)
        return Setting(v, entry.span, lambda new, _n=node: _local(self.tree.replace_scalar(_n, new), [entry]) if certainty == CERTAIN else None, how or entry.key)

    def word(self, node: CNode) -> Optional[Word]:
        if node.kind != "scalar" or node.value is None or isinstance(node.value, (dict, list)):
            return None
        if node.word is not None:
            w = node.word
        else:
            w = literal_word(self.tree.source, node.begin, node.end, _text(node.value))
        if "$" in w.text:
            w.expands = True
        return w

    def words(self, node: Optional[CNode]) -> list[Word]:
        """A command given as a list (each item one argument) or as one string (split like a shell)."""
        if node is None:
            return []
        if node.kind == "seq":
            return [w for w in (self.word(n) for n in node.items) if w is not None]
        w = self.word(node)
        if w is None:
            return []
        cmds = split_shell(self.tree.source, chars=w)
        return [x for c in cmds for x in c.words]

    def gpu(self, text, span, source: str) -> None:
        from ecolint.knowledge.gpus import resolve_gpu

        if not isinstance(text, str) or not text:
            return
        gid = _instance_gpu(text)
        info = resolve_gpu(gid or text)
        if info is None:
            return
        if not any(h.gpu == info.id for h in self.facts.gpu_hints):
            self.facts.gpu_hints.append(GpuHint(info.id, span, source))

    def training(self, reason: str) -> None:
        if not self.facts.training:
            self.facts.training = True
            self.facts.training_reason = reason


def _text(value) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    return str(value)


def _instance_gpu(text: str) -> Optional[str]:
    t = text.strip().lower()
    if t.startswith("ml."):
        t = t[3:]
    fam = re.split(r"[.\-]", t, maxsplit=1)[0]
    if fam in _INSTANCE_GPUS and ("." in t or "-" in t):
        return _INSTANCE_GPUS[fam]
    return None


def _truthy(node: Optional[CNode]) -> bool:
    return node is not None and node.kind == "scalar" and (node.value is True or (isinstance(node.value, str) and node.value.lower() in ("true", "yes", "1")))


def extract(tree: Tree, facts: FileFacts, path: str, overrides: dict) -> None:
    ctx = _Ctx(tree, facts, path, overrides)
    for doc in tree.docs:
        for entry, node in walk(doc):
            if entry is not None:
                ctx.parents[id(node)] = entry.parent
            elif node.kind == "seq":
                for item in node.items:
                    ctx.parents.setdefault(id(item), node)
        if doc.kind == "map":
            _document(ctx, doc)
        _scan(ctx, doc)


def _document(ctx: _Ctx, doc: CNode) -> None:
    keys = set(doc.entries)
    if "base_model" in keys and keys & _AXOLOTL_MARKERS:
        _axolotl(ctx, doc)
    elif "model_name_or_path" in keys and keys & _LLAMAFACTORY_MARKERS:
        _llamafactory(ctx, doc)
    elif "services" in keys and doc.get("services") is not None and doc.get("services").kind == "map":
        for entry in doc.get("services").entries.values():
            if entry.node.kind == "map":
                _compose_service(ctx, entry.node)
    elif _is_fly(ctx, doc):
        _fly(ctx, doc)
    elif "model" in keys and "apiVersion" not in keys and "kind" not in keys and _vllm_config(ctx, doc):
        _vllm_file(ctx, doc)


# -- containers (Kubernetes, compose, fly) ----------------------------------------------------------------

def _env_from_map(ctx: _Ctx, node: Optional[CNode]) -> dict[str, Setting]:
    out: dict[str, Setting] = {}
    if node is None:
        return out
    ctx.consumed.add(id(node))
    if node.kind == "map":
        for name, entry in node.entries.items():
            if entry.node.kind == "scalar":
                out[name] = ctx.setting(entry, name)
    elif node.kind == "seq":
        for item in node.items:
            if item.kind == "map":  # Kubernetes: {name: X, value: Y} / valueFrom
                name = item.scalar("name")
                if not isinstance(name, str):
                    continue
                ve = item.entries.get("value")
                if ve is not None:
                    out[name] = ctx.setting(ve, name)
                elif "valueFrom" in item.entries:
                    e = item.entries["valueFrom"]
                    out[name] = Setting(Value(None, "unknown", e.key_span, name), e.key_span, None, name)
            elif item.kind == "scalar" and isinstance(item.value, str) and "=" in item.value:  # compose: NAME=value
                w = ctx.word(item)
                name = item.value.split("=", 1)[0]
                i = len(name) + 1
                v = launch.word_value(w, i, len(w.text)) if w else Value(item.value[i:], CERTAIN)
                v.span = item.span
                v.source = name
                out[name] = Setting(v, item.span, (lambda new, _w=w, _i=i: _fc(_w.replace(_i, len(_w.text), new)) if _w else None), name)
    return out


def _local(candidate: Optional[FixCandidate], entries: list[CEntry]) -> Optional[FixCandidate]:
    """An edit of an anchored node, or of a mapping that is merged or aliased elsewhere, changes every place
    that uses it (and deleting an anchor breaks its aliases): advice only."""
    if candidate is not None and any(e.node.shared or e.parent.shared for e in entries):
        candidate.advice_only = "a YAML anchor shares it with other places"
    return candidate


def _fc(edit: Optional[Edit]) -> Optional[FixCandidate]:
    return FixCandidate([edit]) if edit else None


def _container(ctx: _Ctx, image_node: Optional[CNode], words: list[Word], env: dict[str, Setting], anchor_span=None) -> None:
    image = image_node.value if image_node is not None and isinstance(image_node.value, str) else None
    image_span = image_node.span if image_node is not None else anchor_span
    facts = ctx.facts
    if launch.launch_from_words(facts, words, ctx.overrides, image=image, image_span=image_span, env=env) is not None:
        return
    if not words and launch.is_tgi_env(env) and image_span is not None:
        launch.emit(facts, "tgi", "text-generation-launcher", image_span, launch.env_settings(env), ctx.overrides)


def _k8s_container(ctx: _Ctx, c: CNode) -> None:
    ctx.consumed.add(id(c))
    env = _env_from_map(ctx, c.get("env"))
    words = ctx.words(c.get("command")) + ctx.words(c.get("args"))
    variables = {k: s.value.value for k, s in env.items() if s.value.known and isinstance(s.value.value, str)}
    for w in words:  # ``$(NAME)`` refers to the container's own env
        m = re.fullmatch(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)", w.text)
        if m and m.group(1) in variables:
            w.text = variables[m.group(1)]
            w.starts = [w.begin] * len(w.text)
            w.ends = [w.end] * len(w.text)
            w.expands = False
    _container(ctx, c.get("image"), words, env, c.span)


def _compose_service(ctx: _Ctx, svc: CNode) -> None:
    ctx.consumed.add(id(svc))
    env = _env_from_map(ctx, svc.get("environment"))
    words = ctx.words(svc.get("entrypoint")) + ctx.words(svc.get("command"))
    _container(ctx, svc.get("image"), words, env, svc.span)


def _is_fly(ctx: _Ctx, doc: CNode) -> bool:
    keys = set(doc.entries)
    return ctx.path.rsplit("/", 1)[-1].startswith("fly") or ("app" in keys and bool(keys & {"primary_region", "vm", "http_service", "env", "build"}))


def _fly(ctx: _Ctx, doc: CNode) -> None:
    env = _env_from_map(ctx, doc.get("env")) if doc.get("env") is not None else {}
    build = doc.get("build")
    image = build.get("image") if build is not None and build.kind == "map" else None
    vms = doc.get("vm")
    for vm in (vms.items if vms is not None and vms.kind == "seq" else [vms] if vms is not None else []):
        if vm.kind == "map":
            for key in ("gpu_kind", "size"):
                e = vm.entries.get(key)
                if e is not None:
                    ctx.gpu(e.node.value, e.span, "fly.io vm")
    if doc.get("vm_size") is not None:
        ctx.gpu(doc.scalar("vm_size"), doc.entries["vm_size"].span, "fly.io vm")
    commands: list[list[Word]] = []
    exp = doc.get("experimental")
    if exp is not None and exp.kind == "map":
        w = ctx.words(exp.get("entrypoint")) + ctx.words(exp.get("cmd"))
        if w:
            commands.append(w)
    procs = doc.get("processes")
    if procs is not None and procs.kind == "map":
        for e in procs.entries.values():
            commands.append(ctx.words(e.node))
    if not commands:
        commands.append([])
    anchor = doc.entries["env"].key_span if "env" in doc.entries else None
    for words in commands:
        _container(ctx, image, words, env, anchor)


# -- single-purpose config files ----------------------------------------------------------------------

def _vllm_config(ctx: _Ctx, doc: CNode) -> bool:
    keys = set(doc.entries)
    has_dash = any("-" in k for k in keys & _VLLM_KEYS)
    return bool(keys & (_VLLM_KEYS - {"dtype"})) and (has_dash or "vllm" in ctx.path.lower() or "max_num_seqs" in keys or "gpu_memory_utilization" in keys)


def _vllm_file(ctx: _Ctx, doc: CNode) -> None:
    ctx.consumed.add(id(doc))
    names = {"model": "model", "dtype": "dtype", "max-num-seqs": "max_batch", "max_num_seqs": "max_batch",
             "quantization": "quantize", "load-format": "load_format", "load_format": "load_format"}
    settings = {}
    for key, entry in doc.entries.items():
        if key in names and entry.node.kind == "scalar":
            settings[names[key]] = ctx.setting(entry, key)
    span = doc.entries["model"].span
    launch.emit(ctx.facts, "vllm", "vllm serve --config", span, settings, ctx.overrides)


def _model_ref(ctx: _Ctx, entry: Optional[CEntry]) -> Optional[ModelRef]:
    from ecolint.knowledge.models import lookup_model

    if entry is None:
        return None
    v = entry.node.value
    if not isinstance(v, str) or not v or "$" in v:
        return ModelRef(None, "unknown", entry.span)
    info = lookup_model(v, ctx.overrides)
    return ModelRef(v, CERTAIN, entry.span, info.params_b if info else None, info.how if info else "")


def _spec_from_entries(ctx: _Ctx, origin: str, entries: dict[str, CEntry], fixable: bool, anchor: CEntry) -> QuantSpec:
    options = {name: Value(e.node.value, CERTAIN, e.span, _text(e.node.value)) for name, e in entries.items()}
    spec = QuantSpec(span=anchor.span, origin=origin, options=options, engine="transformers")
    tree = ctx.tree

    def remove(names: list[str]) -> Optional[FixCandidate]:
        if any(n not in entries for n in names):
            return None
        doomed = [entries[n] for n in names]
        return _local(tree.remove_entries(doomed), doomed)

    spec.remove_options = remove
    if fixable:
        def set_option(name: str, literal: str) -> Optional[FixCandidate]:
            if name in entries:
                return _local(tree.replace_scalar(entries[name].node, literal), [entries[name]])
            after = entries.get("load_in_8bit") or anchor
            return _local(tree.insert_after(after, name, literal), [after])

        spec.set_option = set_option
    return spec


def _axolotl(ctx: _Ctx, doc: CNode) -> None:
    ctx.consumed.add(id(doc))
    facts = ctx.facts
    marker = next((k for k in ("micro_batch_size", "adapter", "num_epochs", "datasets") if k in doc.entries), "base_model")
    ctx.training(f"axolotl training config (`{marker}` on line {doc.entries[marker].key_span.line})")
    load = ModelLoad(span=doc.entries["base_model"].span, api="axolotl base_model", engine="transformers", causal_lm=True, on_gpu=True)
    load.model = _model_ref(ctx, doc.entries["base_model"])
    load.dtype = Value("auto", DEFAULT)
    entries = {k: e for k, e in doc.entries.items() if k in ("load_in_8bit", "load_in_4bit") or k.startswith("bnb_4bit_")}
    kw = doc.get("bnb_config_kwargs")
    if kw is not None and kw.kind == "map":
        ctx.consumed.add(id(kw))
        entries.update({k: e for k, e in kw.entries.items() if k.startswith("bnb_4bit_") or k in _BNB_KEYS})
    if entries:
        anchor = min(entries.values(), key=lambda e: e.key_begin)
        spec = _spec_from_entries(ctx, "axolotl", entries, False, anchor)
        facts.quant_specs.append(spec)
        load.quant = spec
    facts.model_loads.append(load)
    mbs = doc.entries.get("micro_batch_size")
    if mbs is not None and mbs.node.kind == "scalar":
        facts.batch_settings.append(BatchSetting(mbs.span, Value(mbs.node.value, CERTAIN, mbs.span), "axolotl micro_batch_size", feeds_generation=False))
    bf = doc.entries.get("bf16")
    if bf is not None and bf.node.value is True:
        facts.dtype_uses.append(DtypeUse(bf.span, "bf16", "axolotl `bf16: true`", replace_with=lambda new, _d=doc, _e=bf: _flip_bf16(ctx, _d, _e, new)))


def _flip_bf16(ctx: _Ctx, doc: CNode, bf: CEntry, new: str) -> Optional[FixCandidate]:
    """``bf16: true`` -> ``bf16: false`` plus ``fp16: true`` (set, or added on the next line)."""
    if new != "float16":
        return None
    first = ctx.tree.replace_scalar(bf.node, "false")
    if first is None:
        return None
    fp = doc.entries.get("fp16")
    if fp is not None:
        second = ctx.tree.replace_scalar(fp.node, "true") if fp.node.value is not True else FixCandidate([])
    else:
        second = ctx.tree.insert_after(bf, "fp16", "true")
    if second is None:
        return None
    return FixCandidate(first.edits + second.edits)


def _llamafactory(ctx: _Ctx, doc: CNode) -> None:
    ctx.consumed.add(id(doc))
    facts = ctx.facts
    e = doc.entries
    predicting = _truthy(doc.get("do_predict")) or _truthy(doc.get("predict_with_generate")) or _truthy(doc.get("do_eval")) and not _truthy(doc.get("do_train"))
    if _truthy(doc.get("do_train")):
        ctx.training(f"LLaMA-Factory training config (`do_train` on line {e['do_train'].key_span.line})")
    elif "stage" in e and not predicting and not (doc.get("do_train") is not None and doc.get("do_train").value is False):
        ctx.training(f"LLaMA-Factory training config (`stage` on line {e['stage'].key_span.line})")
    backend = doc.scalar("infer_backend")
    engine = "vllm" if isinstance(backend, str) and backend.lower() == "vllm" else "transformers"
    load = ModelLoad(span=e["model_name_or_path"].span, api="llamafactory model_name_or_path", engine=engine, causal_lm=True, on_gpu=True)
    load.model = _model_ref(ctx, e["model_name_or_path"])
    if "infer_dtype" in e:
        s = ctx.setting(e["infer_dtype"])
        load.dtype = s.value
        load.set_dtype = s.replace
        dt = launch.canonical_dtype(s.value.value)
        if dt:
            facts.dtype_uses.append(DtypeUse(s.span, dt, "LLaMA-Factory infer_dtype", replace_with=s.replace))
    else:
        load.dtype = Value("auto", DEFAULT)  # LLaMA-Factory's default infer_dtype
    qb = e.get("quantization_bit")
    method = doc.scalar("quantization_method", "bitsandbytes")
    if qb is not None and str(method).lower() in ("bitsandbytes", "bnb"):
        bits = qb.node.value
        try:
            bits = int(bits)
        except (TypeError, ValueError):
            bits = None
        opts: dict[str, Value] = {}
        if bits == 8:
            opts["load_in_8bit"] = Value(True, CERTAIN, qb.span, "quantization_bit: 8")
        elif bits == 4:
            opts["load_in_4bit"] = Value(True, CERTAIN, qb.span, "quantization_bit: 4")
        if opts:
            extra = {"quantization_type": "bnb_4bit_quant_type", "double_quantization": "bnb_4bit_use_double_quant"}
            named = {}
            for key, option in extra.items():
                if key in e:
                    opts[option] = Value(e[key].node.value, CERTAIN, e[key].span, _text(e[key].node.value))
                    named[option] = e[key]
            if bits == 4 and "bnb_4bit_use_double_quant" not in opts:
                opts["bnb_4bit_use_double_quant"] = Value(True, DEFAULT, qb.span, "double_quantization (default true)")
            spec = QuantSpec(span=qb.span, origin="llamafactory", options=opts)
            spec.remove_options = lambda names, _n=named: _local(ctx.tree.remove_entries([_n[x] for x in names]), [_n[x] for x in names]) if all(x in _n for x in names) else None
            facts.quant_specs.append(spec)
            load.quant = spec
    facts.model_loads.append(load)
    bs = e.get("per_device_eval_batch_size")
    if bs is not None and bs.node.kind == "scalar":
        facts.batch_settings.append(BatchSetting(bs.span, Value(bs.node.value, CERTAIN, bs.span), "LLaMA-Factory per_device_eval_batch_size",
                                                 feeds_generation=predicting or "stage" not in e))
    for key in ("bf16", "pure_bf16"):
        bf = e.get(key)
        if bf is not None and bf.node.value is True:
            facts.dtype_uses.append(DtypeUse(bf.span, "bf16", f"LLaMA-Factory `{key}: true`"))


# -- whole-tree scans ------------------------------------------------------------------------------------

def _scan(ctx: _Ctx, doc: CNode) -> None:
    for entry, node in walk(doc):
        if entry is not None and entry.key in ("containers", "initContainers") and node.kind == "seq":
            for c in node.items:
                if c.kind == "map" and id(c) not in ctx.consumed and ("image" in c.entries or "command" in c.entries):
                    _k8s_container(ctx, c)
    for entry, node in walk(doc):
        if node.kind == "map":
            _gpu_labels(ctx, node)
            if id(node) not in ctx.consumed:
                _generic_map(ctx, node)
        elif entry is not None and node.kind == "scalar" and isinstance(node.value, str) and _INSTANCE_KEYS.match(entry.key):
            ctx.gpu(node.value, entry.span, entry.key)


def _gpu_labels(ctx: _Ctx, node: CNode) -> None:
    for key in _GPU_LABELS:
        e = node.entries.get(key)
        if e is not None and e.node.kind == "scalar":
            ctx.gpu(e.node.value, e.span, "node selector")
    if node.scalar("key") in _GPU_LABELS and node.get("values") is not None and node.get("values").kind == "seq":
        for item in node.get("values").items:  # node affinity matchExpressions
            ctx.gpu(item.value, item.span, "node affinity")
            break


def _generic_map(ctx: _Ctx, node: CNode) -> None:
    e = node.entries
    keys = set(e)
    # A SageMaker / HF endpoint / custom container environment block for TGI.
    if keys & launch.TGI_ENV_MARKERS:
        env = _env_from_map(ctx, node)
        marker = next(k for k in ("HF_MODEL_ID", "HF_MODEL_QUANTIZE", "SM_NUM_GPUS") if k in e)
        launch.emit(ctx.facts, "tgi", "text-generation-launcher", e[marker].key_span, launch.env_settings(env), ctx.overrides)
        return
    bnb = {k: v for k, v in e.items() if (k in _BNB_KEYS or k.startswith("bnb_4bit_")) and v.node.kind == "scalar"}
    method = next((e[k] for k in _QUANT_METHOD_KEYS if k in e and isinstance(e[k].node.value, str)), None)
    if method is not None:
        name = method.node.value.strip().lower()
        if name in _BNB8_NAMES:
            bnb.setdefault("load_in_8bit", method)
        elif name in _BNB4_NAMES:
            bnb.setdefault("load_in_4bit", method)
    dtype = e.get("torch_dtype") or e.get("dtype")
    model_entry = _nearby_model(ctx, node)
    if not bnb and not (dtype is not None and model_entry is not None and node is model_entry.parent):
        return
    spec = None
    if bnb:
        anchor = min(bnb.values(), key=lambda x: x.key_begin)
        spec = _spec_from_entries(ctx, "dict", dict(bnb), True, anchor)
        for k, v in bnb.items():
            if v is method:
                spec.options[k] = Value(True, CERTAIN, v.span, f"{v.key}: {v.node.value}")
        ctx.facts.quant_specs.append(spec)
    if model_entry is None:
        return
    load = ModelLoad(span=model_entry.span, api="config", engine="transformers", causal_lm=True, quant=spec)
    load.model = _model_ref(ctx, model_entry)
    dm = model_entry.parent.get("device_map") or node.get("device_map")
    dev = model_entry.parent.get("device") or node.get("device")
    load.on_gpu = (dm is not None and dm.value != "cpu") or (dev is not None and isinstance(dev.value, str) and "cuda" in dev.value)
    if dtype is not None:
        s = ctx.setting(dtype)
        load.dtype = s.value
        load.set_dtype = s.replace
        dt = launch.canonical_dtype(s.value.value)
        if dt:
            ctx.facts.dtype_uses.append(DtypeUse(s.span, dt, dtype.key, replace_with=s.replace))
    else:
        load.dtype = Value(None, "unknown")
    ctx.facts.model_loads.append(load)


def _nearby_model(ctx: _Ctx, node: CNode) -> Optional[CEntry]:
    """A model id key in this mapping or up to two mappings above it."""
    cur: Optional[CNode] = node
    for _ in range(3):
        if cur is None:
            return None
        if cur.kind == "map":
            for k in _MODEL_KEYS:
                e = cur.entries.get(k)
                if e is not None and e.node.kind == "scalar" and isinstance(e.node.value, str):
                    return e
        cur = ctx.parents.get(id(cur))
    return None
