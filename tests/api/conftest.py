"""One running assistant (tree + api) shared by the API tests of a module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.api.apikit import RunningApi, running_assistant


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApi]:
    yield from running_assistant(tmp_path_factory.mktemp("api") / "var")
