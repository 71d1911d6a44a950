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
# Every match of GPU_WORDS holds one of these (the leading \b and optional prefix keep the regex engine from
# searching for a literal: testing for them first is many times faster on text that names no GPU).
GPU_STEMS = ("T4", "V100", "P100", "P40", "K80", "A10", "A800", "H100", "H200", "L4", "RTX")


def has_gpu_stem(text: str) -> bool:
    """False when ``GPU_WORDS`` cannot match in ``text`` (no stem occurs)."""
    return any(stem in text for stem in GPU_STEMS)


def names_gpu(text: str) -> bool:
    """``GPU_WORDS.search(text) is not None``, answered fast when no stem occurs."""
    return has_gpu_stem(text) and GPU_WORDS.search(text) is not None

# ``Owner.from_pretrained(...)`` loads a model when the owner is a model class and not a tokenizer, config, ...
MODEL_CLASS = re.compile(r"^(Auto)?[A-Za-z0-9]*(Model|ForCausalLM|LMHeadModel|ForConditionalGeneration|ForSeq2SeqLM|For[A-Za-z]+)$")
NOT_MODEL = re.compile(r"(Tokenizer|Config|Processor|FeatureExtractor|ImageProcessor|PeftModel)")
# Libraries whose from_pretrained loads in a dtype of their own choosing when none is given (auto_gptq and
# AutoAWQ load the model to quantize in float16; unsloth picks bf16 or fp16).
OWN_DTYPE_LOADERS = {"auto_gptq", "awq", "gptqmodel", "unsloth"}
# Model classes that generate text.
CAUSAL = re.compile(r"(CausalLM|LMHeadModel|ForConditionalGeneration|Seq2SeqLM)$")
# Model classes of speech and vision architectures: they may be "ForConditionalGeneration", but the energy rows
# measure LLM decoding, so their quantization and dtype are not judged.
NON_LLM_CLASS = re.compile(r"^(?:Whisper|Wav2Vec2|Hubert|Speech\w*|Seamless\w*|Musicgen\w*|Bark|Clap|Clip|CLIP|Siglip|ViT|Detr|Sam|Dinov2)[A-Z]")

# ``pipeline(task)`` tasks that generate text (None: no task given).
GENERATIVE_TASKS = {None, "text-generation", "text2text-generation", "summarization", "translation", "conversational", "image-text-to-text"}

# What marks a file as training code.
TRAINER_CLASSES = {"Trainer", "Seq2SeqTrainer", "SFTTrainer", "DPOTrainer", "PPOTrainer", "ORPOTrainer", "KTOTrainer", "RewardTrainer", "GRPOTrainer"}
TRAIN_CALLS = {"gradient_checkpointing_enable", "prepare_model_for_kbit_training", "backward", "zero_grad",
               "get_peft_model", "setup_chat_format"}  # new, untrained adapters or chat tokens: fine-tuning set-up

# Loops over batches rather than single prompts: helpers that cut a list into batches, words in the names.
BATCHING_CALLS = {"chunked", "batched", "batch", "chunks", "ichunked", "array_split", "grouper", "sliced", "batchify", "iter_batches", "make_batches", "get_batches"}
BATCH_WORDS = ("batch", "chunk", "shard", "bucket", "partition", "slice")
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

# Keyword arguments that only image, video or audio generators take (diffusers, stable-diffusion back ends):
# a ``generate`` call with one of them is not language-model decoding.
NON_LLM_KEYWORDS = {"num_inference_steps", "guidance_scale", "negative_prompt", "height", "width", "num_frames",
                    "cfg_scale", "sample_steps", "sampler_name", "strength", "image_guidance_scale"}
# Receivers whose name says they hold a language model (``model``, ``llm``, ``base_model``, ``self.lm``).
# Names of model inputs (their ``.to(dtype)`` casts the data, not the model).
INPUT_NAMES = re.compile(r"(?i)^(?:\w*_)?(?:inputs?|pixel_values|input_ids|attention_mask|\w*embeds|tensors?|batch|images?|audio|features|encodings?|tokenized|x)$")
MODEL_NAMES = re.compile(r"(?:^|[._])(?:\w*model|llm|lm|\w*_lm|generator|policy)$", re.IGNORECASE)
# Receivers that are clients of a server, whose ``generate`` sends requests (no decoding here).
CLIENT_NAMES = re.compile(r"client|api|session|endpoint", re.IGNORECASE)

# What marks a file as a test module or a measurement script (path parts, file names, imports).
TEST_DIRS = {"test", "tests", "testing", "unit_tests", "integration_tests"}
TEST_FRAMEWORKS = {"pytest", "unittest"}
BENCH_DIRS = {"bench", "benchmark", "benchmarks", "benchmarking"}

# What a loaded model is used for when it is only its weights: methods called on it, or functions it is passed to
# whose name says so.
WEIGHT_METHODS = {"state_dict", "named_parameters", "parameters", "save_pretrained", "push_to_hub", "merge_and_unload",
                  "load_state_dict", "named_buffers", "save_model"}
WEIGHT_FUNCTIONS = re.compile(r"weight|param|state_dict|save|push|merge|export|convert|diff|recover|checkpoint|broadcast", re.IGNORECASE)
# What a loaded model is used for when it runs: methods that decode or run forward.
RUN_METHODS = {"generate", "forward", "__call__", "chat", "stream_chat", "sample", "greedy_search", "beam_search"}

# An ``if`` test that checks whether something was loaded already: ``_model is None``, ``not self.model``,
# ``name not in cache``, ``"llm" not in st.session_state``, ``hasattr(self, "model")``, ``name != current``.
MEMO_TEST = re.compile(r"\bis\s+None\b|\bis\s+not\s+None\b|\bnot\s+in\b|\bin\b|^\s*not\b|\bhasattr\(|!=|==\s*None\b")
# Encoder-decoder translation/summarisation models (their checkpoints decode with beam search by design).
SEQ2SEQ = re.compile(
    r"Seq2SeqLM$|^(?:T5|MT5|UMT5|Bart|MBart|Marian|MarianMT|Pegasus|PegasusX|M2M100|Nllb|NllbMoe|LED|FSMT|ProphetNet|"
    r"BigBirdPegasus|Blenderbot|BlenderbotSmall|LongT5|SwitchTransformers)(?:ForConditionalGeneration|MTModel|Model)$"
)
SEQ2SEQ_TASKS = {"translation", "summarization", "text2text-generation"}

# Checkpoints quantized before upload (GPTQ, AWQ, ...): transformers loads them in half precision.
PREQUANTIZED = re.compile(r"(?i)[-_./](?:gptq|awq|exl2|gguf|int4|int8|fp8|bnb|4bit|8bit|w4a16|w8a8|nf4)(?:$|[-_./])")

# The words of an ``if`` test that chooses CPU or GPU, and of one that chooses quantization (a user's opt-in).
CPU_TEST = re.compile(r"(?i)cpu")
GPU_TEST = re.compile(r"(?i)cuda|gpu")
QUANT_TEST = re.compile(r"(?i)8.?bit|int8|eight|quant|bits\b|bnb|bitsandbytes|load_in")
