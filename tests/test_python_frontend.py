"""What the libcst front end resolves, checked through the facts it emits and the findings they cause."""

from __future__ import annotations

import textwrap

from helpers import lint_snippet

from ecolint.facts import CERTAIN, DEFAULT, UNKNOWN
from ecolint.sources.python import extract


def facts(code: str):
    return extract("t.py", textwrap.dedent(code))


def codes(code: str, **kw):
    return [(f.span.line, f.code) for f in lint_snippet(textwrap.dedent(code), **kw)]


def test_aliases_and_attribute_calls():
    f = facts("""
        import transformers as tf
        from transformers import BitsAndBytesConfig as BNB
        a = tf.AutoModelForCausalLM.from_pretrained("gpt2", load_in_8bit=True)
        b = BNB(load_in_4bit=True)
        import transformers
        c = transformers.AutoModelForCausalLM.from_pretrained("Qwen/Qwen2.5-0.5B")
    """)
    assert [m.api for m in f.model_loads] == [
        "transformers.AutoModelForCausalLM.from_pretrained",
        "transformers.AutoModelForCausalLM.from_pretrained",
    ]
    assert [s.origin for s in f.quant_specs] == ["from_pretrained", "BitsAndBytesConfig"]
    assert f.model_loads[1].model.params_b == 0.5


def test_config_built_here_passed_there_and_kwargs():
    f = facts("""
        from transformers import AutoModelForCausalLM, BitsAndBytesConfig
        def make():
            return BitsAndBytesConfig(load_in_4bit=True)
        kw = {"load_in_8bit": True, "device_map": "auto"}
        bnb = make()
        m1 = AutoModelForCausalLM.from_pretrained("mistralai/Mistral-7B-v0.1", quantization_config=bnb)
        m2 = AutoModelForCausalLM.from_pretrained("mistralai/Mistral-7B-v0.1", **kw)
        m3 = AutoModelForCausalLM.from_pretrained("x/y", quantization_config=BitsAndBytesConfig.from_dict({"load_in_8bit": True}))
    """)
    m1, m2, m3 = f.model_loads
    assert m1.quant is not None and m1.quant.four_bit.value is True
    assert m2.quant is not None and m2.quant.eight_bit.value is True and m2.on_gpu
    assert m3.quant.origin == "from_dict" and m3.quant.eight_bit.value is True
    assert len(f.quant_specs) == 3  # one per construction site, no duplicates


def test_model_ids_from_constants_defaults_argparse_env():
    f = facts("""
        import argparse, os
        from transformers import AutoModelForCausalLM
        BASE = "Qwen/Qwen2.5-3B-Instruct"
        p = argparse.ArgumentParser()
        p.add_argument("--model-id", default="TinyLlama/TinyLlama-1.1B-Chat-v1.0")
        args = p.parse_args()
        def load(name="microsoft/phi-2"):
            return AutoModelForCausalLM.from_pretrained(name)
        a = AutoModelForCausalLM.from_pretrained(BASE)
        b = AutoModelForCausalLM.from_pretrained(args.model_id)
        c = AutoModelForCausalLM.from_pretrained(os.environ.get("MODEL", "gpt2-xl"))
        d = AutoModelForCausalLM.from_pretrained(os.environ["MODEL"])
    """)
    refs = [(m.model.id, m.model.certainty, m.model.params_b) for m in f.model_loads]
    assert refs == [
        ("microsoft/phi-2", DEFAULT, 2.7),
        ("Qwen/Qwen2.5-3B-Instruct", CERTAIN, 3.0),
        ("TinyLlama/TinyLlama-1.1B-Chat-v1.0", DEFAULT, 1.1),
        ("gpt2-xl", DEFAULT, 1.5),
        (None, UNKNOWN, None),
    ]


def test_reassigned_names_are_unknown():
    f = facts("""
        from transformers import BitsAndBytesConfig
        if cond:
            t = 0.0
        else:
            t = 6.0
        bnb = BitsAndBytesConfig(load_in_8bit=True, llm_int8_threshold=t)
    """)
    assert f.quant_specs[0].threshold.certainty == UNKNOWN


def test_runtime_flag_is_reported_lower_and_conditionally():
    found = lint_snippet(textwrap.dedent("""
        from transformers import BitsAndBytesConfig
        def build(eight_bit):
            return BitsAndBytesConfig(load_in_8bit=eight_bit)
    """))
    # a helper building the config from its caller's flag: the caller's opt-in, info (issue 13, class 6)
    assert [(f.code, f.severity.value) for f in found] == [("ECO101", "info")]
    assert found[0].message.startswith("when `eight_bit` is true")


def test_training_context_changes_severity_and_silences():
    code = """
        from transformers import AutoModelForCausalLM, BitsAndBytesConfig, Trainer
        bnb = BitsAndBytesConfig(load_in_8bit=True)
        model = AutoModelForCausalLM.from_pretrained("Qwen/Qwen2.5-1.5B", quantization_config=bnb)
        model.gradient_checkpointing_enable()
        out = model.generate(**batch, use_cache=False)
        Trainer(model=model).train()
    """
    found = lint_snippet(textwrap.dedent(code))
    assert [(f.code, f.severity.value) for f in found] == [("ECO101", "yellow")]
    assert "training context" in found[0].message


def test_per_item_loops():
    assert codes("""
        for i in range(0, len(prompts), 8):
            batch = tok(prompts[i:i + 8], return_tensors="pt", padding=True)
            model.generate(**batch)
    """) == []
    assert codes("""
        for chunk in chunked(prompts, 16):
            model.generate(**tok(chunk, return_tensors="pt", padding=True))
    """) == []
    assert codes("""
        outs = {p: pipe(p) for p in prompts}
    """) == []  # pipe is not known to be a pipeline here
    assert codes("""
        from transformers import pipeline
        pipe = pipeline("text-generation", model="gpt2")
        outs = list(map(str, (pipe(p) for p in prompts)))
    """) == [(4, "ECO201")]
    assert codes("""
        class Bot:
            def reply(self, text):
                return self.model.generate(**self.tok(text, return_tensors="pt"))
            def run(self, texts):
                return [self.reply(t) for t in texts]
    """) == [(6, "ECO201")]


def test_strings_comments_docstrings_are_not_code():
    assert codes('''
        """load_in_8bit=True and use_cache=False and pipeline(batch_size=1)"""
        # BitsAndBytesConfig(load_in_8bit=True)
        x = "model.generate(**inputs, use_cache=False)"
    ''') == []


def test_fp32_rules_respect_pins_and_conversion():
    code = """
        from transformers import AutoModelForCausalLM
        m = AutoModelForCausalLM.from_pretrained("gpt2", device_map="auto")
    """
    assert codes(code, transformers_version="4.46.3") == [(3, "ECO401")]
    assert codes(code, transformers_version=">=5.0") == []
    assert [f.severity.value for f in lint_snippet(textwrap.dedent(code), transformers_version=">=4.30")] == ["info"]
    assert codes(textwrap.dedent(code) + "m.half()\n", transformers_version="4.46.3") == []
    assert codes(code.replace('device_map="auto"', 'torch_dtype="auto", device_map="auto"')) == []


def test_gpu_named_in_comment_is_a_hint():
    f = facts("""
        # Deployed on NVIDIA V100 nodes
        import torch
    """)
    assert [h.gpu for h in f.gpu_hints] == ["v100"]


def test_a_pipeline_task_that_resolves_to_a_dict_is_no_crash():
    """``pipeline(task)`` where ``task`` is a dict (seen in a real notebook) was a TypeError in the front end."""
    from helpers import lint_snippet

    code = "from transformers import pipeline\ntask = {'name': 'text-to-image'}\npipe = pipeline(task, model='gpt2', batch_size=1)\n"
    assert all(f.code != "ECO903" for f in lint_snippet(code))


def test_a_linted_files_tree_is_freed_without_the_cyclic_collector():
    """Once a file's findings are made, its libcst tree goes with reference counting (FileFacts.release); left in
    reference cycles it would cost a walk by the collector per file (see ecolint.heap)."""
    import gc
    from pathlib import Path

    import libcst

    from ecolint.config import Settings
    from ecolint.runner import Engine, lint_bytes

    root = Path(__file__).resolve().parent.parent
    engine = Engine.create(Settings(root=root))
    path = root / "fixtures" / "chat_int8.py"
    data = path.read_bytes()
    assert lint_bytes(str(path), data, "python", engine).findings  # findings with fixes: the fix builders ran
    gc.collect()
    was_enabled = gc.isenabled()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        result = lint_bytes(str(path), data, "python", engine)
        gc.collect()
        garbage = list(gc.garbage)
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        if was_enabled:
            gc.enable()
    assert result.parsed and result.findings
    assert not [o for o in garbage if isinstance(o, libcst.Module)]
    nodes = sum(1 for o in garbage if isinstance(o, libcst.CSTNode))
    assert nodes < 50, nodes  # (a few expressions a small cycle of facts still holds)
