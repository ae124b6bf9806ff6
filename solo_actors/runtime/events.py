"""The events hub: live turns, tokens, supervisor reports and agents runs for whoever watches.

Actors publish what happened (a `TurnDone`, an `LLMToken`, a supervisor report, an agents
run's `RunProgress` and final `WorkflowRun`, a timer's `SkillFired`) with
``HUB.publish(...)``; the API's ``/events`` (server-sent events) and ``/ws`` (WebSocket)
streams subscribe. Publishing must never slow an actor down, whoever is watching: each
subscriber has its own bounded queue, a full queue drops its *oldest* event (a live view
wants the newest) and counts the drop, and a publish costs a lock, an append and at most one
wake-up call per subscriber. Nothing here blocks or does I/O.

The hub is process-wide (like the name registry), so a publisher needs no reference to the
API actor and keeps working while the API restarts.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Literal

import msgspec

import supervisors
from solo_actors.messages import LLMToken, RunProgress, SkillFired, TurnDone, WorkflowRun

Topic = Literal["turn", "token", "report", "agents", "skills"]
TOPICS: tuple[Topic, ...] = ("turn", "token", "report", "agents", "skills")
Published = TurnDone | LLMToken | supervisors.Report | RunProgress | WorkflowRun | SkillFired


class Event(msgspec.Struct, frozen=True, kw_only=True):
    """One published event as subscribers see it; ``data`` is the message itself."""

    id: int
    """Increases by one per publish across all topics, so a client can spot gaps."""
    topic: Topic
    at: float
    """Wall-clock epoch seconds of the publish."""
    data: Published


def topic_of(message: Published) -> Topic:
    if isinstance(message, TurnDone):
        return "turn"
    if isinstance(message, LLMToken):
        return "token"
    if isinstance(message, RunProgress | WorkflowRun):
        return "agents"
    if isinstance(message, SkillFired):
        return "skills"
    return "report"


class Subscription:
    """One subscriber's bounded queue. ``wake`` is called (from the publishing thread)
    when the queue goes from empty to non-empty, e.g. to set an asyncio event."""

    def __init__(self, hub: EventHub, topics: frozenset[Topic], capacity: int,
                 wake: Callable[[], None]) -> None:  # fmt: skip
        self._hub = hub
        self.topics = topics
        self._queue: deque[Event] = deque(maxlen=capacity)
        self._wake = wake
        self._lock = threading.Lock()
        self.dropped = 0

    def offer(self, event: Event) -> None:
        with self._lock:
            was_empty = not self._queue
            if len(self._queue) == self._queue.maxlen:
                self.dropped += 1
                self._hub.count_drop()
            self._queue.append(event)
        if was_empty:
            self._wake()

    def drain(self) -> list[Event]:
        """Every queued event, oldest first; the queue is left empty."""
        with self._lock:
            events = list(self._queue)
            self._queue.clear()
        return events

    def close(self) -> None:
        self._hub.unsubscribe(self)


class EventHub:
    """Thread-safe publish/subscribe with drop-oldest queues per subscriber."""

    def __init__(self) -> None:
        self._subscriptions: tuple[Subscription, ...] = ()
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self.published = 0
        self.dropped = 0

    def subscribe(self, topics: frozenset[Topic], capacity: int,
                  wake: Callable[[], None]) -> Subscription:  # fmt: skip
        subscription = Subscription(self, topics, capacity, wake)
        with self._lock:
            self._subscriptions = (*self._subscriptions, subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        with self._lock:
            self._subscriptions = tuple(s for s in self._subscriptions if s is not subscription)

    @property
    def subscribers(self) -> int:
        return len(self._subscriptions)

    def count_drop(self) -> None:
        with self._lock:
            self.dropped += 1

    def publish(self, message: Published) -> None:
        """Hand ``message`` to every subscriber of its topic; never blocks on them, and
        never fails because of one: a subscriber whose wake-up raises (its event loop closed
        without unsubscribing) is dropped, so it cannot crash the publishing actor."""
        # The tuple is replaced, never changed, so iterating a stale one is safe and the
        # common case (nobody watching) costs one attribute read.
        subscriptions = self._subscriptions
        if not subscriptions:
            return
        topic = topic_of(message)
        with self._lock:
            self.published += 1
            event_id = next(self._ids)
        event = Event(id=event_id, topic=topic, at=time.time(), data=message)  # type: ignore[arg-type]
        for subscription in subscriptions:
            if topic in subscription.topics:
                try:
                    subscription.offer(event)
                except Exception:  # its reader is gone for good
                    self.unsubscribe(subscription)


HUB = EventHub()
"""The process's hub; publishers and the API use this one."""
