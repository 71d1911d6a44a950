"""Rule discovery: the built-in rules (one per module in ``ecolint.rules``) and third-party rules registered
under the entry-point group ``ecolint.rules`` (the entry point names a :class:`~ecolint.rule.Rule` subclass)."""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import pkgutil
import sys
from functools import lru_cache
from pathlib import Path
from types import ModuleType

from ecolint.errors import UsageError
from ecolint.rule import Rule

ENTRY_POINT_GROUP = "ecolint.rules"


class RuleLoadError(UsageError, RuntimeError):
    """A rule plugin that cannot be loaded, or two rules with one code."""


def _builtin_package() -> ModuleType:
    try:
        return importlib.import_module("ecolint.rules")
    except ModuleNotFoundError:
        # Running from a source checkout without installing: the rules live in ../rules.
        path = Path(__file__).resolve().parent.parent / "rules" / "__init__.py"
        spec = importlib.util.spec_from_file_location("ecolint.rules", path, submodule_search_locations=[str(path.parent)])
        if spec is None or spec.loader is None:
            raise
        module = importlib.util.module_from_spec(spec)
        sys.modules["ecolint.rules"] = module
        spec.loader.exec_module(module)
        return module


def _rules_in(module: ModuleType) -> list[type[Rule]]:
    return [
        obj
        for _, obj in inspect.getmembers(module, inspect.isclass)
        if issubclass(obj, Rule) and obj is not Rule and obj.__module__ == module.__name__ and obj.code
    ]


@lru_cache(maxsize=None)
def builtin_rules() -> tuple[type[Rule], ...]:
    pkg = _builtin_package()
    found: list[type[Rule]] = []
    for info in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda i: i.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{pkg.__name__}.{info.name}")
        found.extend(_rules_in(module))
    return tuple(found)


def _no_plugins_installed() -> bool:
    """True when no installed distribution on ``sys.path`` declares the ``ecolint.rules`` group: a directory
    scan that spares the start-up the import of ``importlib.metadata`` (tens of milliseconds). Anything unusual
    (a zip or egg on the path, an unreadable directory) answers False and the full lookup runs."""
    import os

    for entry in sys.path:
        if not entry:
            entry = "."
        if not os.path.isdir(entry):
            if os.path.exists(entry):
                return False
            continue
        try:
            names = os.listdir(entry)
        except OSError:
            return False
        for name in names:
            if not name.endswith((".dist-info", ".egg-info", ".egg")):
                continue
            ep = os.path.join(entry, name, "entry_points.txt")
            if name.endswith(".egg") and not os.path.isdir(os.path.join(entry, name)):
                return False
            if not os.path.isfile(ep):
                ep = os.path.join(entry, name, "EGG-INFO", "entry_points.txt")
                if not os.path.isfile(ep):
                    continue
            try:
                with open(ep, encoding="utf-8", errors="replace") as fh:
                    if ENTRY_POINT_GROUP in fh.read():
                        return False
            except OSError:
                return False
    return True


@lru_cache(maxsize=None)
def plugin_rules() -> tuple[type[Rule], ...]:
    if _no_plugins_installed():
        return ()
    from importlib.metadata import entry_points

    found: list[type[Rule]] = []
    for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
        try:
            obj = ep.load()
        except Exception as exc:  # noqa: BLE001 - a broken plugin must not take the linter down silently
            raise RuleLoadError(f"cannot load rule plugin {ep.name!r} ({ep.value}): {exc}") from exc
        if inspect.ismodule(obj):
            found.extend(_rules_in(obj))
        elif inspect.isclass(obj) and issubclass(obj, Rule) and obj.code:
            found.append(obj)
        else:
            raise RuleLoadError(f"rule plugin {ep.name!r} ({ep.value}) is not an ecolint Rule subclass")
    return tuple(found)


@lru_cache(maxsize=None)
def all_rules() -> tuple[type[Rule], ...]:
    rules: dict[str, type[Rule]] = {}
    for rule in builtin_rules() + plugin_rules():
        if rule.code in rules and rules[rule.code] is not rule:
            raise RuleLoadError(f"rule code {rule.code} is defined twice: {rules[rule.code].__module__} and {rule.__module__}")
        rules[rule.code] = rule
    return tuple(sorted(rules.values(), key=lambda r: r.code))


def rule_by_code(code: str) -> type[Rule] | None:
    code = code.upper()
    for rule in all_rules():
        if rule.code == code or rule.name == code.lower():
            return rule
    return None
