"""trap_exits: a supervisor's shutdown waits behind mail already queued."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, ClassVar

import pytest

from supervisors import SHUTDOWN, ChildSpec, SupervisedActor, SupFlags, start_supervisor
from supervisors._reasons import ExitSignal

WAIT = 10.0


class Writer(SupervisedActor):
    """Records every message it handles, slowly, so mail piles up; the first one is held
    until ``release`` is set."""

    def __init__(self, handled: list[Any], busy: threading.Event, release: threading.Event) -> None:
        super().__init__()
        self.handled = handled
        self.busy = busy
        self.release = release

    def on_receive(self, message: Any) -> None:
        self.busy.set()
        self.release.wait(WAIT)
        time.sleep(0.02)
        self.handled.append(message)


class TrappingWriter(Writer):
    trap_exits: ClassVar[bool] = True


@pytest.mark.parametrize(("actor", "drained"), [(TrappingWriter, True), (Writer, False)])
def test_shutdown_drains_the_mailbox_only_when_trapping_exits(
    actor: type[Writer], drained: bool, wait_until: Callable[..., None]
) -> None:
    handled: list[Any] = []
    busy, release = threading.Event(), threading.Event()
    spec = ChildSpec("writer", actor.start, args=(handled, busy, release), shutdown=30.0)
    root = start_supervisor(SupFlags(), [spec], name="trap")
    stopping = threading.Thread(target=root.terminate_child, args=("writer",))
    try:
        ref = root.which_children()[0].ref
        assert ref is not None
        for number in range(10):
            ref.tell(number)
        assert busy.wait(WAIT)
        stopping.start()  # terminate_child returns once the writer exited
        lifecycle = ref.lifecycle

        def signalled() -> bool:
            return lifecycle.exit_request is not None or lifecycle.mailbox.holds(
                lambda message: isinstance(message, ExitSignal)
            )

        # The shutdown must reach the writer while 1..9 still wait: else a loaded machine
        # could let it handle them all before the shutdown came, trapping or not.
        wait_until(signalled, what="the shutdown signalled to the writer")
        release.set()
        assert ref.wait(WAIT) == SHUTDOWN
        assert (handled == list(range(10))) is drained
        assert len(handled) < 10 or drained
    finally:
        release.set()
        if stopping.is_alive():
            stopping.join(WAIT)
        root.stop()
