"""The text tokens from which the YAML and TOML front ends can produce each fact list (stage 1 of the prefilter).

Computed from the vocabulary tables the config dialects read (:mod:`ecolint.sources.configs`) and the launch
vocabulary they share with the shell and Dockerfile front ends (:mod:`ecolint.sources.launch`): a key, a value
spelling or a flag the dialects map to a fact is listed here without anyone writing it twice, so a synonym added
to a table reaches the prefilter by itself. Tokens are matched case-insensitively.
"""

from __future__ import annotations

from ecolint.sources import configs, launch


def _tokens() -> dict[str, tuple[str, ...]]:
    quant = (
        sorted(configs._BNB_KEYS)  # load_in_8bit, llm_int8_threshold ... (any mapping, axolotl, bnb_config_kwargs)
        + ["bnb_4bit_"]  # bnb_4bit_* options
        + sorted(configs._BNB8_NAMES | configs._BNB4_NAMES)  # quant_method: llm.int8, quant: bnb4 ...
        + ["quantization_bit"]  # LLaMA-Factory
    )
    model = list(configs._MODEL_KEYS)  # generic mappings, vLLM config files, axolotl, LLaMA-Factory
    batch = ["micro_batch_size", "per_device_eval_batch_size"] + sorted(k for k in configs._VLLM_KEYS if "num_seqs" in k or "num-seqs" in k)
    dtype = ["dtype", "bf16"]  # torch_dtype, dtype, infer_dtype; axolotl / LLaMA-Factory ``bf16`` / ``pure_bf16``
    training = ["base_model", "model_name_or_path"]  # axolotl, LLaMA-Factory
    own = {
        "quant_specs": quant,
        "model_loads": model,
        "servings": [],
        "batch_settings": batch,
        "dtype_uses": dtype,
        "generations": [],
        "training": training,
    }
    return {fact: tuple(dict.fromkeys(own.get(fact, []) + list(launch.TOKENS.get(fact, ())))) for fact in set(own) | set(launch.TOKENS)}


#: Fact list -> tokens for the YAML and TOML front ends.
TOKENS: dict[str, tuple[str, ...]] = _tokens()
