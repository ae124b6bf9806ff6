"""The short chaos run (10 s): faults at random every 0.5 s while text and voice turns flow.

After the faults stop: every request was answered or got a clear error within its timeout,
the tree runs again within 2 s, each injected crash has exactly one exit and one restart
report (and nothing else crashed), no thread, process, actor or fd leaked, and the store
holds every turn it acknowledged. ``bench/bench_chaos.py`` runs the same for 60 s.
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

import pytest

from tests.chaos.scenario import RECOVERY_LIMIT, ChaosRun, thread_kinds

SECONDS = 10.0
SEED = int(os.environ.get("CHAOS_SEED", "9"))


@pytest.fixture(scope="module")
def chaos(tmp_path_factory: pytest.TempPathFactory, spoken_question: Path) -> ChaosRun:
    run = ChaosRun(tmp_path_factory.mktemp("chaos") / "var", spoken_question, seed=SEED)
    run.start()
    try:
        run.warm_up()
        run.run(SECONDS)
        run.recover()
    finally:
        run.stop_and_count()
    print(run.figures())
    return run


def test_faults_were_injected_and_fired(chaos: ChaosRun) -> None:
    injections = chaos.injector.injections
    assert len(injections) >= SECONDS / chaos.injector.interval - 1
    assert [i for i in injections if i.outcome == "pending"] == [], "a fault never ran"
    assert chaos.injector.fired("raise") and chaos.injector.fired("hang")


def test_every_request_got_its_answer_or_a_clear_error_in_time(chaos: ChaosRun) -> None:
    assert chaos.load_hanging == [], "a request is still waiting"
    texts = [r for r in chaos.requests if r.kind == "text"]
    voices = [r for r in chaos.requests if r.kind == "voice"]
    assert texts and voices
    for request in texts:
        assert request.status in ("answered", "error"), request
        assert request.status == "answered" or request.detail.strip(), request
    for request in voices:
        # A turn whose frames were refused at the input may never have started: that
        # refusal was its clear error. Any other voice turn ends with a TurnDone.
        assert request.status in ("answered", "error") or request.disturbed, request
    # With a fault every 0.5 s few turns finish inside the window; once it is over,
    # the assistant answers again, by text and by voice.
    assert [r.status for r in chaos.answered_after] == ["answered", "answered"]


def test_the_tree_runs_again_within_2_s(chaos: ChaosRun) -> None:
    assert chaos.still_down == []
    assert chaos.recovery_s <= RECOVERY_LIMIT


def test_restarts_and_reports_match_the_injected_faults_one_to_one(chaos: ChaosRun) -> None:
    fired = sorted(i.label for i in chaos.injector.fired("raise"))
    exits = chaos.reports("exit")
    crashed = sorted(
        r.reason.detail.rsplit("injected fault ", 1)[-1] for r in exits if r.reason is not None
    )
    assert all("InjectedFault" in str(r.reason) for r in exits), [str(r.reason) for r in exits]
    assert crashed == fired
    assert len(chaos.reports("restart")) == len(fired)
    restarted = [r for r in chaos.reports("start") if r.context == "restart"]
    assert len(restarted) == len(fired)
    for kind in ("escalation", "hung", "start_error"):
        assert chaos.reports(kind) == []


def test_nothing_leaked(chaos: ChaosRun) -> None:
    before, after = chaos.baseline, chaos.after_recovery
    assert thread_kinds(after.thread_names) == thread_kinds(before.thread_names)
    assert (after.fds, after.processes, after.actors) == (
        before.fds, before.processes, before.actors
    )  # fmt: skip
    assert chaos.left_after_stop() == Counter()
    assert chaos.after_stop.actors == 0
    assert chaos.after_stop.processes == chaos.before_start.processes


def test_the_store_holds_every_acknowledged_turn(chaos: ChaosRun) -> None:
    requests = [*chaos.requests, *chaos.answered_after]
    acknowledged = {r.turn_id for r in requests if r.status == "answered" and r.turn_id}
    assert acknowledged
    assert acknowledged - chaos.stored == set()
