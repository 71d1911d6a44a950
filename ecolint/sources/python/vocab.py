"""Words the Python front end recognises, shared with the prefilter (which must agree with the front end on what
can become a fact). Only the standard library and word tables are imported here: the prefilter loads this module on runs that
parse nothing."""

from __future__ import annotations

import re

from ecolint.bnb import BNB_OPTIONS  # noqa: F401  (re-exported: the front end and the prefilter read it here)

# GPU names as the front ends recognise them in comments and strings.
GPU_WORDS = re.compile(
    r"\b(?:(?:Tesla|NVIDIA)[\s-]+)?(T4|V100|P100|P40|K80|A100|A800|H100|H200|L4|L40S?|A10G?|RTX[\s-]?(?:20[6-8]0(?:[\s-]?Ti)?|30[6-9]0|40[6-9]0D?|5090))\b"
)

# ``Owner.from_pretrained(...)`` loads a model when the owner is a model class and not a tokenizer, config, ...
MODEL_CLASS = re.compile(r"^(Auto)?[A-Za-z0-9]*(Model|ForCausalLM|LMHeadModel|ForConditionalGeneration|ForSeq2SeqLM|For[A-Za-z]+)$")
NOT_MODEL = re.compile(r"(Tokenizer|Config|Processor|FeatureExtractor|ImageProcessor|PeftModel)")
# Model classes that generate text.
CAUSAL = re.compile(r"(CausalLM|LMHeadModel|ForConditionalGeneration|Seq2SeqLM)$")

# ``pipeline(task)`` tasks that generate text (None: no task given).
GENERATIVE_TASKS = {None, "text-generation", "text2text-generation", "summarization", "translation", "conversational", "image-text-to-text"}

# What marks a file as training code.
TRAINER_CLASSES = {"Trainer", "Seq2SeqTrainer", "SFTTrainer", "DPOTrainer", "PPOTrainer", "ORPOTrainer", "KTOTrainer", "RewardTrainer", "GRPOTrainer"}
TRAIN_CALLS = {"gradient_checkpointing_enable", "prepare_model_for_kbit_training", "backward", "zero_grad"}

# Loops over batches rather than single prompts: helpers that cut a list into batches, words in the names.
BATCHING_CALLS = {"chunked", "batched", "batch", "chunks", "ichunked", "array_split", "grouper", "sliced", "batchify", "iter_batches", "make_batches", "get_batches"}
BATCH_WORDS = ("batch", "chunk", "shard", "bucket", "partition")
# Keyword arguments of a generation call that carry the prompts.
INPUT_KEYWORDS = {"input_ids", "inputs", "attention_mask", "inputs_embeds", "pixel_values", "input_features", "prompts",
                  "prompt", "prompt_token_ids", "messages", "text_inputs", "text", "images", "conversations"}

# Methods that return the model itself (``model.eval().to("cuda")``).
PASS_THROUGH = {"to", "cuda", "half", "bfloat16", "float", "eval", "train", "requires_grad_"}
# Methods that change a dict in place.
MUTATORS = {"update", "setdefault", "pop", "popitem", "clear", "__setitem__", "__delitem__"}

# Libraries whose ``from_pretrained``/``generate`` are not LLM inference.
FOREIGN_ROOTS = {"peft", "sentence_transformers", "diffusers", "openai", "anthropic", "random", "numpy", "np", "uuid", "secrets", "jinja2"}

# A sentence that states the GPU a file targets ("runs on an A100"), up to the end of its clause.
CLAUSE_END = re.compile(r"[.;!?]\s|\n")
TARGET_WORDS = re.compile(
    r"\b(?:targets?|targeting|targeted|runs? on|running on|deploy(?:ed|s|ing)?(?: on| to)?|tested on|served on|"
    r"designed for|built for|meant for|intended for|made for|requires?)\b",
    re.IGNORECASE,
)
