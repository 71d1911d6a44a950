"""What the code around a fact is: the file's role (a test module, a measurement script), the run-time condition a
piece of code runs under (an ``if`` that picks the CPU, or a user's quantization opt-in), what a loaded model is
used for (only its weights?) and what a ``generate`` receiver holds.

The rules judge inference code; these facts let them stay silent (a test whose subject is 8-bit loading, a model
loaded only to push its weights) or say less (a user's opt-in inside a library helper) where the surrounding code
is something else.
"""

from __future__ import annotations

from pathlib import PurePath
from typing import Iterable, Optional

import libcst as cst

from ecolint.sources.cst_walk import walk
from ecolint.sources.python.vocab import (
    BENCH_DIRS,
    CLIENT_NAMES,
    CPU_TEST,
    GPU_TEST,
    MEMO_TEST,
    MODEL_NAMES,
    NON_LLM_KEYWORDS,
    QUANT_TEST,
    RUN_METHODS,
    TEST_DIRS,
    TEST_FRAMEWORKS,
    WEIGHT_FUNCTIONS,
    WEIGHT_METHODS,
)


def file_role(path: str, imported: Iterable[str], test_definitions: int) -> tuple[str, str]:
    """("test" | "benchmark" | "", why) from the path, the imported modules and the number of ``test_*``
    functions / ``TestCase`` classes the file defines."""
    p = PurePath(path.replace("\\", "/"))
    name = p.name.lower()
    dirs = [part.lower() for part in p.parts[:-1]]
    if name.startswith("test_") or name.endswith("_test.py") or name in ("conftest.py", "tests.py"):
        return "test", f"a test module ({p.name})"
    test_dir = next((d for d in dirs if d in TEST_DIRS), None)
    if test_dir is not None:
        return "test", f"under a `{test_dir}/` directory"
    frameworks = {m.split(".", 1)[0] for m in imported} & TEST_FRAMEWORKS
    if frameworks and test_definitions:
        return "test", f"a {sorted(frameworks)[0]} test module"
    bench_dir = next((d for d in dirs if d in BENCH_DIRS), None)
    if bench_dir is not None:
        return "benchmark", f"under a `{bench_dir}/` directory"
    if "benchmark" in name or name.startswith("bench_"):
        return "benchmark", f"a benchmark script ({p.name})"
    return "", ""


class Guards:
    """The ``if`` branches enclosing the node being visited: ``(test source, polarity)``, outermost first
    (polarity False: the ``else``/``elif`` side of the test)."""

    def __init__(self, code):
        self.code = code  # node -> its source text
        self.stack: list[tuple[str, bool]] = []
        self._branches: dict[int, tuple[str, bool]] = {}

    def visit_if(self, node: cst.If) -> None:
        test = self.code(node.test).strip()
        self._branches[id(node.body)] = (test, True)
        if isinstance(node.orelse, cst.Else):
            self._branches[id(node.orelse.body)] = (test, False)
        elif isinstance(node.orelse, cst.If):
            self._branches[id(node.orelse)] = (test, False)

    def enter(self, node: cst.CSTNode) -> None:
        branch = self._branches.get(id(node))
        if branch is not None:
            self.stack.append(branch)

    def leave(self, node: cst.CSTNode) -> None:
        if id(node) in self._branches:
            self.stack.pop()

    def cpu(self) -> str:
        """The enclosing condition that picks the CPU (``if cpu:``, the ``else`` of ``if device == "cuda":``), as
        ``if ...`` / ``else of ...``; empty when none does."""
        for test, positive in reversed(self.stack):
            lowered = test.lower()
            if positive and CPU_TEST.search(lowered) and not GPU_TEST.search(lowered) and not lowered.startswith("not "):
                return f"`if {test}`"
            if not positive and GPU_TEST.search(lowered) and not CPU_TEST.search(lowered) and not lowered.startswith("not "):
                return f"the else branch of `if {test}`"
        return ""

    def memo(self) -> str:
        """The innermost enclosing condition that checks whether something was loaded before (``if _model is
        None``, ``if name not in cache``), as ``if ...``; empty when none does."""
        for test, _positive in reversed(self.stack):
            if MEMO_TEST.search(test):
                return f"if {test}"
        return ""

    def opt_in(self) -> str:
        """The innermost enclosing condition that asks for quantization (``if args.load_in_8bit``,
        ``if quantization_bit == 8``), as ``if ...``; empty when none does."""
        for test, positive in reversed(self.stack):
            if positive and QUANT_TEST.search(test):
                return f"if {test}"
        return ""


def receiver_kind(receiver: Optional[str], held: Optional[str], keywords: Iterable[str]) -> str:
    """What ``receiver.generate(...)`` decodes with: see :attr:`ecolint.facts.Generation.receiver`. ``held`` is
    what the file says the receiver holds (the analyzer's kinds table), ``keywords`` the call's keywords."""
    if NON_LLM_KEYWORDS.intersection(keywords):
        return "non-llm"
    if held == "vllm":
        return "vllm"
    if held == "hf-model":
        return "causal-lm"
    if held == "pipeline":
        return "pipeline"
    last = (receiver or "").rsplit(".", 1)[-1]
    if CLIENT_NAMES.search(last):
        return "api"
    if receiver and MODEL_NAMES.search(receiver):
        return "unknown-model"
    return "unknown"


def model_purpose(scope_node: cst.CSTNode, name: str, code) -> str:
    """"weights" when every use of the variable ``name`` in ``scope_node`` reads or ships its weights
    (``state_dict()``, ``save_pretrained``, ``update_model_params(model)``) and none runs it; "" otherwise."""
    uses = _Uses(name, code)
    walk(scope_node, uses)
    if uses.runs or uses.opaque or not uses.weights:
        return ""
    return "weights"


class _Uses(cst.CSTVisitor):
    def __init__(self, name: str, code):
        self.name = name
        self.code = code
        self.weights = 0
        self.runs = 0
        self.opaque = 0  # passed to something we cannot judge

    def _is(self, node: cst.CSTNode) -> bool:
        return isinstance(node, cst.Name) and node.value == self.name

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if self._is(func):
            self.runs += 1  # model(**inputs): a forward pass
            return
        if isinstance(func, cst.Attribute) and self._is(func.value):
            method = func.attr.value
            if method in WEIGHT_METHODS:
                self.weights += 1
            elif method in RUN_METHODS:
                self.runs += 1
            return
        if any(self._is(arg.value) for arg in node.args):
            callee = self.code(func).strip().rsplit(".", 1)[-1]
            if WEIGHT_FUNCTIONS.search(callee):
                self.weights += 1
            elif callee not in ("print", "len", "type", "isinstance", "id", "str", "repr"):
                self.opaque += 1
