"""The end of a finite input (``--input FILE``, ``--text``): held until answered, then told.

The mic sends `InputEnded` down the pipeline after the input's last frame (or line). tts and
the speaker each hold it until every turn they have open is finished (`HoldsInputEnd`), then
pass it on: tts to the speaker, the speaker to ``input-end``: an inbox
(``supervisors.inbox``) the app holds while the input runs, whose watcher thread wakes the
main thread, which stops the tree: one message, no polling.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pykka

import supervisors
from solo_actors.messages import InputEnded
from solo_actors.names import INPUT_END


class HoldsInputEnd:
    """Mixin for an actor that passes `InputEnded` on only once its own turns are done."""

    held_input_end: InputEnded | None = None

    def turns_open(self) -> bool:
        """True while a turn that came before the input's end is still being handled."""
        raise NotImplementedError

    def pass_input_end(self, ended: InputEnded) -> None:
        """Tell the next stage; called once, when nothing is open any more."""
        raise NotImplementedError

    def hold_input_end(self, ended: InputEnded) -> None:
        self.held_input_end = ended
        self.maybe_end_input()

    def maybe_end_input(self) -> None:
        """Pass the held `InputEnded` on if every turn before it is done (call after each)."""
        ended = self.held_input_end
        if ended is not None and not self.turns_open():
            self.held_input_end = None
            self.pass_input_end(ended)


@dataclass
class InputAnswered:
    """Where `InputEndWatch` leaves the end of the input for the app's main thread."""

    event: threading.Event
    """Set when the input is used up and answered (the app's wake-up event)."""
    ended: InputEnded | None = None
    """None until then; the input's end as the speaker passed it on (its problem, the
    wake words heard)."""


@contextmanager
def watching_input_end(answered: InputAnswered) -> Iterator[None]:
    """An inbox registered as ``input-end`` for the duration of the block, and a thread
    that fills in ``answered`` when the speaker tells it the input is answered. (The main
    thread waits on one event for this, signals and the tree's exit alike.)"""
    with supervisors.inbox(INPUT_END) as box:
        watcher = threading.Thread(target=wait_for_end, args=(box, answered),
                                   name="solo-input-end")  # fmt: skip
        watcher.start()
        try:
            yield
        finally:
            box.close()
            watcher.join()


def wait_for_end(box: supervisors.Inbox, answered: InputAnswered) -> None:
    """The watcher thread: the first `InputEnded` in ``box`` fills in ``answered``."""
    while True:
        try:
            message = box.receive()
        except pykka.ActorDeadError:
            return  # the run ended first: the inbox closed
        if isinstance(message, InputEnded):
            answered.ended = message
            answered.event.set()
            return
