"""Fixtures every test folder may use: a test config in a temporary var/, and real models.

Real-model tests rely on `make test` having run ``solo models pull --defaults``. A missing
model fails the test with the command that fixes it; it is never skipped, because a suite
that silently skips its real-model tests proves nothing.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TypeVar

import pytest

from solo_actors.config import Config, load_config
from solo_actors.models import ModelError, ResolvedModel, resolve_model

ConfigFactory = Callable[..., Config]
T = TypeVar("T")


def wait_for(
    condition: Callable[[], T], what: str, timeout: float = 60.0, every: float = 0.02
) -> T:
    """Poll ``condition`` every ``every`` seconds until it returns something true, and
    return that; fail the test naming ``what`` after ``timeout`` seconds. Wait for what must
    happen rather than sleep: a loaded machine can hold any thread up for seconds, and a
    passing test never waits the deadline out."""
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(every)
    return value


def config_environment(var_dir: Path, overrides: Mapping[str, object]) -> dict[str, str]:
    """SOLO__ variables for a config whose run-time state lives in ``var_dir``;
    ``overrides`` maps dotted keys (``"llm.n_ctx"``) to values."""
    environ = {"SOLO__SOLO__VAR_DIR": str(var_dir)}
    for key, value in overrides.items():
        rendered = str(value).lower() if isinstance(value, bool) else str(value)
        environ["SOLO__" + key.replace(".", "__").upper()] = rendered
    return environ


@pytest.fixture
def make_config(tmp_path: Path) -> ConfigFactory:
    """Build a `test`-profile config (or another profile) with var/ under tmp_path."""

    def make(profile: str = "test", **overrides: object) -> Config:
        dotted = {key.replace("__", "."): value for key, value in overrides.items()}
        return load_config(profile, environ=config_environment(tmp_path / "var", dotted))

    return make


@pytest.fixture(scope="session")
def pulled_model() -> Callable[[str], ResolvedModel]:
    """Resolve a real catalog model, failing (not skipping) with the fix when it's absent."""
    models = load_config("test", environ={}).models

    def resolve(model_id: str) -> ResolvedModel:
        try:
            return resolve_model(model_id, models)
        except ModelError as error:
            pytest.fail(f"{error} (make test pulls the defaults first)")

    return resolve
