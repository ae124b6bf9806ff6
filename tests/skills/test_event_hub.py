"""The events hub never fails a publisher because of a subscriber: one whose wake-up raises
(an API client's event loop closed without unsubscribing) is dropped, and the timer that
fires next is still announced."""

from __future__ import annotations

from solo_actors.messages import SkillFired, SkillItem
from solo_actors.runtime.events import EventHub


def test_a_subscriber_whose_loop_closed_is_dropped_not_raised() -> None:
    hub = EventHub()

    def closed() -> None:
        raise RuntimeError("Event loop is closed")

    hub.subscribe(frozenset({"skills"}), 8, closed)
    alive = hub.subscribe(frozenset({"skills"}), 8, lambda: None)
    fired = SkillFired(item=SkillItem(kind="timer", label="tea", due_at=0.0), text="done")
    hub.publish(fired)
    assert hub.subscribers == 1
    assert [event.data for event in alive.drain()] == [fired]
