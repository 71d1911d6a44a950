"""SageMaker / Hugging Face endpoint environment blocks, anywhere in a document (CloudFormation, CDK output,
an endpoint config): a mapping with ``HF_MODEL_ID``, ``HF_MODEL_QUANTIZE`` or ``SM_NUM_GPUS`` is the
environment of a TGI container (the LLM container those endpoints run); its TGI variables are the launch's
settings. Blocks that a container dialect already read as a container's environment are skipped."""

from __future__ import annotations

from typing import ClassVar

from ecolint.sources import launch
from ecolint.sources.dialects.base import ENV_BLOCK, Ctx, Dialect, Tokens, env_from_map
from ecolint.sources.tree import CNode, walk

# The variable a finding about the whole block points at: the first of these present.
MARKER_ORDER = ("HF_MODEL_ID", "HF_MODEL_QUANTIZE", "SM_NUM_GPUS")


def _for_setting(setting: str) -> tuple[str, ...]:
    return tuple(sorted(name for name, key in launch.TGI_ENV.items() if key == setting))


def _blocks(doc: CNode, ctx: Ctx) -> list[CNode]:
    return [node for _, node in walk(doc) if node.kind == "map" and not ctx.claimed(node) and not launch.TGI_ENV_MARKERS.isdisjoint(node.entries)]


class EndpointEnv(Dialect):
    name = "sagemaker"
    stage = ENV_BLOCK
    tokens: ClassVar[Tokens] = {
        "model_loads": tuple(sorted(launch.TGI_ENV_MARKERS)),
        "servings": tuple(sorted(launch.TGI_ENV_MARKERS)),
        "quant_specs": _for_setting("quantize"),
        "dtype_uses": _for_setting("dtype"),
        "batch_settings": _for_setting("max_batch") + _for_setting("max_concurrent"),
    }

    def recognise(self, doc: CNode, ctx: Ctx) -> bool:
        return bool(_blocks(doc, ctx))

    def extract(self, doc: CNode, ctx: Ctx) -> None:
        for node in _blocks(doc, ctx):
            env = env_from_map(ctx, node)
            marker = next(k for k in MARKER_ORDER if k in node.entries)
            launch.emit(ctx.facts, "tgi", "text-generation-launcher", node.entries[marker].key_span, launch.env_settings(env), ctx.overrides)


DIALECT = EndpointEnv()
