"""``/memories`` with memory turned off (``memory.enabled = false``): a listing and a forget
answer 503 naming the setting, so the user learns why nothing is listed; a recall finds
nothing, as the llm's recall before a reply does. Its own assistant: the setting is read at
start."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.api.apikit import RunningApi, running_assistant


@pytest.fixture(scope="module")
def memory_off(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApi]:
    yield from running_assistant(
        tmp_path_factory.mktemp("memory-off") / "var", {"memory.enabled": False}
    )


@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/memories"), ("DELETE", "/memories/m-any"), ("DELETE", "/memories?all=true"),
    ("DELETE", "/memories?kind=told"),
])  # fmt: skip
def test_listing_and_forgetting_say_memory_is_off(
    memory_off: RunningApi, method: str, path: str
) -> None:
    answer = memory_off.request(method, path, scope="control")
    assert answer.status_code == 503, answer.text
    assert "memory.enabled = false" in answer.json()["error"], answer.text


def test_a_recall_with_memory_off_finds_nothing(memory_off: RunningApi) -> None:
    recalled = memory_off.get("/memories?q=anything", scope="read")
    assert recalled.status_code == 200 and recalled.json()["memories"] == []
