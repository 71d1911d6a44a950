"""bitsandbytes option names, for every front end.

``BitsAndBytesConfig(...)`` in Python, a ``quantization_config:`` mapping in YAML, axolotl's ``bnb_config_kwargs``
and the generic config dialect all spell the options the same way; this is the one list of them.
"""

from __future__ import annotations

# The options of ``BitsAndBytesConfig`` (and the ones ``from_pretrained`` accepts directly).
BNB_OPTIONS = (
    "load_in_8bit",
    "load_in_4bit",
    "llm_int8_threshold",
    "llm_int8_skip_modules",
    "llm_int8_enable_fp32_cpu_offload",
    "llm_int8_has_fp16_weight",
    "bnb_4bit_compute_dtype",
    "bnb_4bit_quant_type",
    "bnb_4bit_use_double_quant",
    "bnb_4bit_quant_storage",
)
# Every 4-bit option starts with this prefix (config front ends accept any ``bnb_4bit_*`` key).
BNB_4BIT_PREFIX = "bnb_4bit_"
# The options that are not 4-bit ones: the switches and the LLM.int8() settings.
BNB_KEYS = frozenset(k for k in BNB_OPTIONS if not k.startswith(BNB_4BIT_PREFIX))
