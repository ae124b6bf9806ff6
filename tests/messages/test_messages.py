"""The message module's own guarantees: encodable messages and an ordered wall clock."""

from __future__ import annotations

import itertools

import msgspec

from solo_actors.messages import LLMRequest, RecordEvent, StageTimes, TurnDone, UserTurn
from solo_actors.runtime.clock import WALL_CLOCK_STEP, wall_clock


def test_wall_clock_is_strictly_increasing_beyond_the_databases_resolution() -> None:
    readings = [wall_clock() for _ in range(10_000)]
    steps = [later - earlier for earlier, later in itertools.pairwise(readings)]
    assert min(steps) > WALL_CLOCK_STEP / 2  # float spacing near 1.8e9 s is 0.24 µs
    # Rows of one burst keep their order at microsecond resolution, as stored.
    assert len({round(reading * 1_000_000) for reading in readings}) == len(readings)


def test_rows_built_in_a_burst_have_distinct_times() -> None:
    events = [RecordEvent(kind="wake", source="voice") for _ in range(100)]
    assert sorted(event.at for event in events) == [event.at for event in events]
    assert len({event.at for event in events}) == 100


def test_messages_round_trip_through_json_by_their_tag() -> None:
    union = UserTurn | TurnDone | LLMRequest
    messages = [
        UserTurn(conversation_id="c", text="hi", source="voice", times=StageTimes(wake=1.0)),
        LLMRequest(prompt="hi", conversation_id="c"),
        TurnDone(turn_id="t", conversation_id="c", source="api", text="a", reply="b",
                 times=StageTimes()),
    ]  # fmt: skip
    for message in messages:
        assert msgspec.json.decode(msgspec.json.encode(message), type=union) == message
