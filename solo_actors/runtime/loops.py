"""Ending an actor's own asyncio event loop (the API's, Wyoming's and each room's thread)
the way `asyncio.run` ends its loop.

Every task still pending is cancelled and given a moment to finish, async generators are
closed, then the loop. A task left pending is destroyed with its loop, and asyncio then logs
"Task was destroyed but it is pending!" as an error: at every stop with a dashboard's event
stream open, for instance.
"""

from __future__ import annotations

import asyncio

CANCEL_WAIT = 2.0
"""Seconds the cancelled tasks get to finish: a task that ignores its cancellation must not
hold the actor's stop (and the supervisor's shutdown) for longer."""


def close_loop(loop: asyncio.AbstractEventLoop) -> None:
    """Cancel and await ``loop``'s pending tasks, close its async generators, close it.
    Called on the loop's own thread once it stopped running."""
    pending = [task for task in asyncio.all_tasks(loop) if not task.done()]
    for task in pending:
        task.cancel()
    if pending:
        loop.run_until_complete(asyncio.wait(pending, timeout=CANCEL_WAIT))
    loop.run_until_complete(loop.shutdown_asyncgens())
    loop.close()
