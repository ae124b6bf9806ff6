"""trap_exits: a supervisor's shutdown waits behind mail already queued."""

from __future__ import annotations

import threading
import time
from typing import Any, ClassVar

import pytest

from supervisors import SHUTDOWN, ChildSpec, SupervisedActor, SupFlags, start_supervisor


class Writer(SupervisedActor):
    """Records every message it handles, slowly, so mail piles up."""

    def __init__(self, handled: list[Any], busy: threading.Event) -> None:
        super().__init__()
        self.handled = handled
        self.busy = busy

    def on_receive(self, message: Any) -> None:
        self.busy.set()
        time.sleep(0.02)
        self.handled.append(message)


class TrappingWriter(Writer):
    trap_exits: ClassVar[bool] = True


@pytest.mark.parametrize(("actor", "drained"), [(TrappingWriter, True), (Writer, False)])
def test_shutdown_drains_the_mailbox_only_when_trapping_exits(
    actor: type[Writer], drained: bool
) -> None:
    handled: list[Any] = []
    busy = threading.Event()
    spec = ChildSpec("writer", actor.start, args=(handled, busy), shutdown=5.0)
    root = start_supervisor(SupFlags(), [spec], name="trap")
    try:
        ref = root.which_children()[0].ref
        assert ref is not None
        for number in range(10):
            ref.tell(number)
        assert busy.wait(5)
        root.terminate_child("writer")
        assert ref.wait(5) == SHUTDOWN
        assert (handled == list(range(10))) is drained
        assert len(handled) < 10 or drained
    finally:
        root.stop()
