"""The rules of issue 18 on their fixtures (fixtures/new_rules/): pinned findings, and silence on the traps."""

from __future__ import annotations

from pathlib import Path

from helpers import lint_snippet

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "new_rules"
NEW_CODES = ("ECO105", "ECO203", "ECO302")


def pinned(name: str, filename: str = "", select_codes: tuple[str, ...] = NEW_CODES, **kw) -> list[tuple[str, int, int]]:
    text = (FIXTURES / name).read_text(encoding="utf-8")
    found = lint_snippet(text, filename=filename or name, select=select_codes, **kw)
    return sorted((f.code, f.span.line, f.span.col) for f in found)


def test_bnb_4bit_without_compute_dtype_is_flagged_once_in_the_fixture():
    assert pinned("qlora_infer.py") == [("ECO105", 5, 27)]


def test_bnb_4bit_fix_uses_float16_on_a_pre_ampere_gpu():
    found = lint_snippet("from transformers import BitsAndBytesConfig\nb = BitsAndBytesConfig(load_in_4bit=True)\n",
                         select=("ECO105",), gpu="t4")
    assert [f.code for f in found] == ["ECO105"]
    assert "float16" in found[0].fix.message and "bfloat16" not in found[0].fix.message


def test_bnb_4bit_is_silent_when_transformers_loads_the_checkpoint_dtype():
    code = "from transformers import BitsAndBytesConfig\nb = BitsAndBytesConfig(load_in_4bit=True)\n"
    assert lint_snippet(code, select=("ECO105",), transformers_version="5.0.0") == []


def test_eager_and_no_prefix_caching_are_flagged_in_the_serving_fixture():
    assert pinned("serve_chat.sh", select_codes=("ECO203", "ECO302")) == [("ECO203", 6, 3), ("ECO302", 7, 3)]


def test_the_same_launch_in_a_ci_job_or_test_directory_is_silent():
    for name in (".github/workflows/serve_chat.sh", "tests/e2e/serve_chat.sh", ".gitlab-ci.yml"):
        text = (FIXTURES / "serve_chat.sh").read_text(encoding="utf-8")
        if name.endswith(".yml"):
            text = "smoke:\n  script:\n    - vllm serve Qwen/Qwen2.5-7B-Instruct --enforce-eager --no-enable-prefix-caching\n"
        assert lint_snippet(text, filename=name, select=("ECO203", "ECO302")) == [], name


def test_switches_written_false_or_as_flags_are_not_findings():
    code = ("import argparse\nfrom vllm import LLM\np = argparse.ArgumentParser()\np.add_argument('--eager', action='store_true')\n"
            "args = p.parse_args()\nllm = LLM(model='Qwen/Qwen2.5-7B-Instruct', enforce_eager=args.eager, enable_prefix_caching=True)\n")
    assert lint_snippet(code, select=("ECO203", "ECO302")) == []


def test_engine_kwargs_switches_are_read():
    text = ("applications:\n  - args:\n      llm_configs:\n        - model_loading_config:\n            model_id: qwen\n"
            "            model_source: Qwen/Qwen2.5-7B-Instruct\n          engine_kwargs:\n            enforce_eager: true\n")
    found = lint_snippet(text, filename="serve_config.yaml", select=("ECO203",))
    assert [(f.code, f.span.line) for f in found] == [("ECO203", 8)]


def test_empty_cache_per_request_and_per_generated_item_in_the_fixture():
    assert pinned("chat_server.py", select_codes=("ECO303",)) == [("ECO303", 16, 5), ("ECO303", 31, 9)]


def test_empty_cache_between_models_of_a_sweep_is_silent():
    code = ("import torch\nfrom transformers import AutoModelForCausalLM\nfor name in ['gpt2', 'distilgpt2']:\n"
            "    m = AutoModelForCausalLM.from_pretrained(name)\n    del m\n    torch.cuda.empty_cache()\n"
            "out = model.generate(**inputs)\n")
    assert lint_snippet(code, select=("ECO303",)) == []


def test_fp32_chosen_by_an_off_by_default_flag_is_reported_as_the_default():
    code = ("import argparse\nimport torch\nfrom transformers import AutoModelForCausalLM\np = argparse.ArgumentParser()\n"
            "p.add_argument('--fp16', action='store_true')\nargs = p.parse_args()\n"
            "m = AutoModelForCausalLM.from_pretrained('mistralai/Mistral-7B-v0.1', "
            "torch_dtype=torch.float16 if args.fp16 else torch.float32, device_map='auto')\n")
    found = lint_snippet(code, select=("ECO401",))
    assert [(f.code, f.span.line) for f in found] == [("ECO401", 7)]
    assert found[0].message.startswith("by default (without --fp16)") and found[0].fix is None


def test_a_flag_choosing_between_non_dtypes_stays_unknown():
    code = ("import argparse\nfrom transformers import BitsAndBytesConfig\np = argparse.ArgumentParser()\n"
            "p.add_argument('--q', action='store_true')\nargs = p.parse_args()\n"
            "b = BitsAndBytesConfig(load_in_8bit=True, llm_int8_threshold=6.0 if args.q else 0.0)\n")
    assert [f.code for f in lint_snippet(code, select=("ECO101",))] == []


def test_model_loads_per_request_and_per_dialog_in_the_fixture():
    assert pinned("load_per_request.py", select_codes=("ECO204",)) == [("ECO204", 17, 13), ("ECO204", 40, 19)]


def test_model_load_message_states_the_estimate_and_its_assumptions():
    found = lint_snippet((FIXTURES / "load_per_request.py").read_text(encoding="utf-8"), filename="load_per_request.py",
                         select=("ECO204",))
    handler, factory = sorted(found, key=lambda f: f.span.line)
    assert "once per request" in handler.message and "~14.0 GB" in handler.message
    assert "estimated" in handler.message and "2 GB/s" in handler.message and "300 W" in handler.message
    assert "no measured rows" in handler.message
    assert "once per item of `for dialog in dialogs`" in factory.message
    assert any(sp.line == 34 for _, sp, _ in factory.related)  # the load itself is a related location


def test_model_load_traps_stay_silent():
    traps = {
        "guarded singleton": "from transformers import AutoModelForCausalLM\n_m = None\n\ndef get():\n    global _m\n"
        "    if _m is None:\n        _m = AutoModelForCausalLM.from_pretrained('gpt2')\n    return _m\n\n"
        "for p in prompts:\n    get().generate(p)\n",
        "cache decorator": "from functools import cache\nfrom transformers import pipeline\n\n@cache\ndef pipe():\n"
        "    return pipeline('text-generation', model='gpt2')\n\nfor p in prompts:\n    pipe()(p)\n",
        "dict of models": "from transformers import AutoModelForCausalLM\nmodels = {}\nfor p in prompts:\n"
        "    models['gpt2'] = AutoModelForCausalLM.from_pretrained('gpt2')\n",
        "sweep through a helper": "from transformers import AutoModelForCausalLM\n\ndef load(name):\n"
        "    return AutoModelForCausalLM.from_pretrained(name)\n\nfor name in ['gpt2', 'distilgpt2']:\n    load(name)\n",
        "weights only": "from transformers import AutoModelForCausalLM\nfor p in prompts:\n"
        "    m = AutoModelForCausalLM.from_pretrained('gpt2')\n    m.save_pretrained(p)\n",
        "streamlit cache_data": "import streamlit as st\nfrom transformers import pipeline\n\n@st.cache_data\ndef load():\n"
        "    return pipeline('text-generation', model='gpt2')\n\nst.write(load()('hi'))\n",
        "gradio load button": "import gradio as gr\nfrom transformers import AutoModelForCausalLM\nmodel = None\n\n"
        "def switch(name):\n    global model\n    model = AutoModelForCausalLM.from_pretrained(name)\n\n"
        "gr.Button('Load').click(switch, inputs=[gr.Textbox()])\n",
    }
    for what, code in traps.items():
        assert lint_snippet(code, select=("ECO204",)) == [], what


def test_model_load_in_a_benchmark_loop_is_info():
    code = "from transformers import AutoModelForCausalLM\nfor _ in range(3):\n    m = AutoModelForCausalLM.from_pretrained('gpt2')\n"
    found = lint_snippet(code, filename="bench_load.py", select=("ECO204",))
    assert [(f.code, f.severity.value) for f in found] == [("ECO204", "info")]


def test_beam_search_in_the_serving_fixture():
    assert pinned("beam_server.py", select_codes=("ECO304",)) == [("ECO304", 10, 1), ("ECO304", 17, 36)]


def test_beam_search_traps_stay_silent():
    traps = {
        "offline evaluation": "from transformers import AutoModelForCausalLM\nm = AutoModelForCausalLM.from_pretrained('gpt2')\n"
        "def evaluate(ds):\n    return [m.generate(**x, num_beams=4) for x in ds]\n",
        "a flag left unknown": "from fastapi import FastAPI\napp = FastAPI()\n\n@app.post('/c')\ndef c(req: dict):\n"
        "    return model.generate(**req, num_beams=req['beams'])\n",
        "translation pipeline": "import gradio as gr\nfrom transformers import pipeline\n"
        "tr = pipeline('translation_en_to_de', model='t5-base')\n\ndef go(text):\n    return tr(text, num_beams=4)\n\n"
        "gr.Interface(fn=go, inputs='text', outputs='text')\n",
        "SamplingParams without beam search": "from fastapi import FastAPI\nfrom vllm import SamplingParams\napp = FastAPI()\n\n"
        "@app.post('/c')\ndef c(req: dict):\n    return llm.generate(req['p'], SamplingParams(n=4, temperature=0.8))\n",
    }
    for what, code in traps.items():
        assert lint_snippet(code, select=("ECO304",)) == [], what


def test_old_vllm_beam_search_sampling_params_in_a_handler():
    code = ("from fastapi import FastAPI\nfrom vllm import SamplingParams\napp = FastAPI()\n\n@app.post('/c')\ndef c(req: dict):\n"
            "    return llm.generate(req['p'], SamplingParams(use_beam_search=True, best_of=4, temperature=0))\n")
    found = lint_snippet(code, select=("ECO304",))
    assert [(f.code, f.span.line) for f in found] == [("ECO304", 7)] and "`best_of=4`" in found[0].message


def test_beam_default_of_a_helper_the_handler_overrides_is_silent():
    helper = ("from fastapi import FastAPI\nfrom transformers import GenerationConfig\napp = FastAPI()\n\n"
              "def stream_predict(text, num_beams=4):\n    cfg = GenerationConfig(num_beams=num_beams)\n"
              "    return model.generate(**tok(text, return_tensors='pt'), generation_config=cfg)\n\n"
              "@app.post('/v1/completions')\ndef complete(req: dict):\n")
    assert lint_snippet(helper + "    return stream_predict(req['prompt'], num_beams=req['num_beams'])\n", select=("ECO304",)) == []
    found = lint_snippet(helper + "    return stream_predict(req['prompt'])\n", select=("ECO304",))
    assert [(f.code, f.span.line) for f in found] == [("ECO304", 6)]
    assert "which the POST /v1/completions handler `complete` calls on line 11" in found[0].message
