"""A LanceDB recall writes nothing on stderr: it used to print LanceDB's deprecation warning
about ``_distance`` at every recall, into the middle of a terminal conversation."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from solo_actors.config import Config
from solo_actors.memory.index import LanceIndex
from solo_actors.messages import MemoryFilter, Remember

DIMENSIONS = 8


def test_a_lance_recall_is_silent_and_scored(
    make_config: Callable[..., Config], capfd: pytest.CaptureFixture[str]
) -> None:
    index = LanceIndex(make_config(), DIMENSIONS)
    index.open()
    try:
        vectors = np.eye(DIMENSIONS, dtype=np.float32)[:3]
        index.add([Remember(text=f"fact {i}") for i in range(3)], vectors)
        capfd.readouterr()
        [nearest, *_] = index.search(vectors[1], 3, MemoryFilter(), 0.0)
    finally:
        index.close()
    assert nearest.text == "fact 1" and nearest.similarity == pytest.approx(1.0)
    assert capfd.readouterr().err == ""  # Rust's logger writes to fd 2 directly
