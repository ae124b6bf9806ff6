"""The turn router's monitor bookkeeping, which lets a /v1 chat request fail at once when
the llm exits: a `Down` reaches the request it was watched for, whether it arrives after
`watch` or before it (an llm already gone answers a monitor at once), and never another."""

from __future__ import annotations

import asyncio

import supervisors
from solo_actors.api.state import TurnRouter
from solo_actors.messages import LLMToken


def down(ref: supervisors.MonitorRef) -> supervisors.Down:
    return supervisors.Down(ref, "llm", supervisors.NOPROC)


async def next_message(queue: asyncio.Queue[object]) -> object:
    return await asyncio.wait_for(queue.get(), 5)


def test_a_down_reaches_its_turn_before_or_after_watch() -> None:
    async def scenario() -> None:
        router = TurnRouter()
        late, early, other = (router.expect(turn) for turn in ("late", "early", "other"))
        router.watch(supervisors.MonitorRef(1), "late")
        router.deliver(down(supervisors.MonitorRef(1)))
        assert isinstance(await next_message(late), supervisors.Down)
        router.deliver(down(supervisors.MonitorRef(2)))  # before its watch
        router.watch(supervisors.MonitorRef(2), "early")
        assert isinstance(await next_message(early), supervisors.Down)
        router.deliver(LLMToken(request_id="r", text="hi", index=0, turn_id="other"))
        assert isinstance(await next_message(other), LLMToken)
        assert late.empty() and early.empty()

    asyncio.run(scenario())


def test_a_forgotten_turn_gets_no_down() -> None:
    async def scenario() -> None:
        router = TurnRouter()
        queue = router.expect("gone")
        router.watch(supervisors.MonitorRef(3), "gone")
        router.forget("gone")
        router.deliver(down(supervisors.MonitorRef(3)))
        await asyncio.sleep(0.05)
        assert queue.empty()

    asyncio.run(scenario())
