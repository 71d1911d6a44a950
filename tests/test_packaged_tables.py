"""The packaged measurement tables: where they live, and that they follow the curated set byte for byte."""

from __future__ import annotations

import importlib
import os
from importlib import resources
from pathlib import Path

import pytest

from ecolint.knowledge import data

TABLES = resources.files("ecolint.knowledge").joinpath("tables")
CURATED = Path(os.environ.get("ECOLINT_CURATED_DATA", "/work/shared/data"))
NAMES = sorted(p.name for p in Path(str(TABLES)).glob("*.csv"))


def test_tables_folder_does_not_shadow_the_loader_module():
    # The folder once shared the dotted name ecolint.knowledge.data with data.py.
    assert Path(data.__file__).name == "data.py"
    assert not (Path(data.__file__).parent / "data").exists()
    assert importlib.import_module("ecolint.knowledge.data") is data
    assert {"measurements.csv", "hardware.csv", "grid.csv", "serving.csv"} <= set(NAMES)


@pytest.mark.parametrize("name", ["measurements.csv", "hardware.csv", "grid.csv", "serving.csv", "gpu_variants.csv"])
def test_every_loader_reads_its_table(name):
    assert data.read_builtin(name).splitlines()[0]


@pytest.mark.skipif(not CURATED.is_dir(), reason="the curated data set is not on this machine")
@pytest.mark.parametrize("name", NAMES)
def test_packaged_table_follows_the_curated_set(name):
    curated = CURATED / name
    if not curated.exists():
        pytest.skip(f"{name} is derived, not curated")
    assert (TABLES / name).read_bytes() == curated.read_bytes(), f"ecolint/knowledge/tables/{name} differs from {curated}"


def test_pyproject_ships_the_tables():
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib
    root = Path(__file__).resolve().parent.parent
    setup = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    assert "ecolint.knowledge.data" not in setup["packages"]
    globs = setup["package-data"]["ecolint.knowledge"]
    shipped = {p.name for g in globs for p in (root / "ecolint" / "knowledge").glob(g)}
    assert set(NAMES) <= shipped
