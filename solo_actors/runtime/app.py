"""The running assistant: start the tree, wait for a signal or the tree's end, stop in order.

SIGINT and SIGTERM stop the tree in reverse start order, each actor given its shutdown time,
and the process exits 0. If the root supervisor gives up (restart intensity exceeded), the
tree is already down; the process exits 1 and says why, so a service manager restarts it.
A finite input (``--input FILE``, ``--text``) ends the run once everything it asked has been
answered (the speaker tells the ``input-end`` watcher, see `voice.input_end`): exit 0, 1
when the input itself could not be used, or 3 when a file asked nothing: no wake word was
heard in it, or no question after one (said on stderr, with the wake word listened for,
since the run would otherwise end in silence).
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from types import FrameType

import supervisors
from solo_actors.config import Config
from solo_actors.messages import InputEnded
from solo_actors.names import ROOT_NAME
from solo_actors.reports import ReportForwarder
from solo_actors.runtime.logs import configure_logging, get_logger
from solo_actors.runtime.private import private_var_dir
from solo_actors.runtime.trace import configure_tracing
from solo_actors.runtime.tree import root_children, root_flags
from solo_actors.voice.input_end import InputAnswered, watching_input_end
from solo_actors.voice.options import RunOptions
from solo_actors.voice.wake_engines import wake_word

EXIT_OK = 0
EXIT_TREE_FAILED = 1
"""The tree gave up, could not start, or the input could not be used."""
EXIT_NOTHING_ASKED = 3
"""``--input FILE``: no wake word was heard in the file, or no question after it."""


def start_tree(
    config: Config,
    options: RunOptions | None = None,
    forwarder: ReportForwarder | None = None,
) -> supervisors.SupervisorRef:
    private_var_dir(config)
    configure_tracing(config)
    forwarder = forwarder or ReportForwarder(config.reports.pending_max)
    sinks: list[supervisors.Sink] = [supervisors.StructlogSink(), forwarder]
    return supervisors.start_supervisor(
        root_flags(config), root_children(config, options), name=ROOT_NAME, sinks=sinks
    )


def run(config: Config, options: RunOptions | None = None) -> int:
    options = options or RunOptions()
    configure_logging(config.log)
    log = get_logger(ROOT_NAME)
    wake = threading.Event()
    received: list[int] = []

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        received.append(signum)
        wake.set()

    stop_signals = (signal.SIGINT, signal.SIGTERM)
    previous = {signum: signal.signal(signum, on_signal) for signum in stop_signals}
    forwarder = ReportForwarder(config.reports.pending_max)
    answered = InputAnswered(event=wake)  # the speaker's word that a finite input is answered
    watching = contextlib.ExitStack()
    if options.finite:
        # Registered before the tree starts, so the speaker always finds it.
        watching.enter_context(watching_input_end(answered))
    try:
        try:
            root = start_tree(config, options, forwarder)
        except supervisors.StartError as error:
            log.error("start failed", error=str(error))
            print(f"solo: could not start: {error}", file=sys.stderr)
            return EXIT_TREE_FAILED
        log.info("solo running", pid=os.getpid(), profile=config.profile)
        # The root's exit wakes the main thread too; a waiting thread instead of polling.
        watcher = threading.Thread(target=watch_root, args=(root, wake), name="solo-root-watch")
        watcher.start()
        wake.wait()
        if root.exit_reason is not None:
            log.error("the supervision tree gave up", reason=str(root.exit_reason))
            print(f"solo: stopped: {root.exit_reason}", file=sys.stderr)
            watcher.join()
            return EXIT_TREE_FAILED
        if received:
            log.info("stopping", signal=signal.Signals(received[0]).name)
        else:
            log.info("stopping: the input is used up and answered")
        root.stop()
        watcher.join()
        log.info("stopped", reason=str(root.exit_reason))
        return input_status(answered.ended, config)
    finally:
        watching.close()
        # Whatever ended the run, the tree is down now: the reports emitted after the
        # reports actor stopped go to the files from here.
        forwarder.write_pending(config)
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def watch_root(root: supervisors.SupervisorRef, wake: threading.Event) -> None:
    """The root's exit wakes the main thread too: a waiting thread instead of polling."""
    root.lifecycle.wait(None)
    wake.set()


def input_status(ended: InputEnded | None, config: Config) -> int:
    """The exit status of a run stopped in order: by a signal (`ended` None) or at the end
    of its input. A file with no wake word is said here; a bad input, by the mic already."""
    if ended is None:
        return EXIT_OK
    if ended.problem:
        return EXIT_TREE_FAILED
    if ended.wake_words == 0:
        print(
            f"solo: no wake word heard in {ended.source} (listened for "
            f"{wake_word(config.voice.wake)}); say it before the question, or use --no-wake "
            "to take the whole file as the question",
            file=sys.stderr,
        )
        return EXIT_NOTHING_ASKED
    if ended.wake_words and not ended.turns:
        seconds = config.voice.vad.listen_timeout
        print(
            f"solo: the wake word was heard in {ended.source} but no question after it; "
            f"ask within {seconds:g} s of it (voice.vad.listen_timeout), or use --no-wake to "
            "take the whole file as the question",
            file=sys.stderr,
        )
        return EXIT_NOTHING_ASKED
    return EXIT_OK
