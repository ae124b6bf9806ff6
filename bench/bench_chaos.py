"""The long chaos run: 60 s of random faults (every 0.5 s) while text and voice turns flow.

The same scenario as tests/chaos/test_chaos.py (10 s there), run longer and printed as one
JSON object instead of asserted: injections fired and missed by kind and actor, request
outcomes, text latency, the time until the tree ran again, restart time per child (exit
report to start report), report counts, threads/fds/processes at baseline, after recovery
and after stop, and whether each check of the short form holds. ``load_average`` is there
because the machine is shared.

Usage: python bench/bench_chaos.py [--seconds 60] [--seed 9]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import sys
import tempfile
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # the scenario lives with the tests

from tests.chaos.conftest import question_wav  # noqa: E402
from tests.chaos.scenario import RECOVERY_LIMIT, ChaosRun, thread_kinds  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--seed", type=int, default=9)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder, contextlib.redirect_stdout(io.StringIO()):
        run = ChaosRun(Path(folder) / "var", question_wav(Path(folder)), seed=args.seed)
        run.start()
        try:
            run.warm_up()
            run.run(args.seconds)
            run.recover()
        finally:
            run.stop_and_count()
    figures = run.figures()
    acknowledged = {
        r.turn_id for r in [*run.requests, *run.answered_after] if r.status == "answered"
    }
    fired = sorted(i.label for i in run.injector.fired("raise"))
    crashed = sorted(str(r.reason).rsplit("injected fault ", 1)[-1] for r in run.reports("exit"))
    figures["checks"] = {
        "no_request_lost": all(
            r.status != "lost" or (r.kind == "voice" and r.disturbed) for r in run.requests
        ),
        "answers_after_faults": [r.status for r in run.answered_after],
        "recovered_within_2s": not run.still_down and run.recovery_s <= RECOVERY_LIMIT,
        "exits_match_fired_raises": crashed == fired,
        "no_leak_while_running": thread_kinds(run.after_recovery.thread_names)
        == thread_kinds(run.baseline.thread_names)
        and run.after_recovery.fds == run.baseline.fds,
        "threads_left_after_stop": dict(run.left_after_stop() or Counter()),
        "acknowledged_turns_missing_from_store": len(acknowledged - run.stored - {None}),
    }
    figures["seconds"] = args.seconds
    figures["load_average"] = os.getloadavg()
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
