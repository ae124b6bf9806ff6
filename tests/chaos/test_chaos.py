"""The short chaos runs (10 s each): faults at random every 0.5 s while text and voice turns flow.

Two runs: every actor in Solo's process (crashes and hangs), and wake and tts isolated in
their own processes with a spare loaded (hot standby) as the default profile runs them
(which then get SIGKILL and SIGSEGV; a restart adopts the spare, so it takes milliseconds).
After the faults stop: every request was answered or got a clear error within its timeout,
the tree runs again within 2 s, each injected fault has exactly one exit and one restart
report with the right reason (and nothing else crashed), no thread, process, actor or fd
leaked, and the store holds every turn it acknowledged. ``bench/bench_chaos.py`` runs the
same for 60 s.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from pathlib import Path

import pytest

from tests.chaos.scenario import RECOVERY_LIMIT, ChaosRun, thread_kinds

SECONDS = 10.0
SEED = int(os.environ.get("CHAOS_SEED", "9"))
ISOLATED = ("wake", "tts")
"""Small models, so their process restarts fast; the llm's own isolation has its tests in
tests/app/test_isolation.py."""


@pytest.fixture(scope="module", params=["in-process", "isolated"])
def chaos(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, spoken_question: Path
) -> ChaosRun:
    isolated = ISOLATED if request.param == "isolated" else ()
    var_dir = tmp_path_factory.mktemp(f"chaos-{request.param}") / "var"
    run = ChaosRun(var_dir, spoken_question, seed=SEED, isolated=isolated)
    run.start()
    try:
        run.warm_up()
        run.run(SECONDS)
        run.recover()
    finally:
        run.stop_and_count()
    print(run.figures())
    return run


def signalled(chaos: ChaosRun) -> list[tuple[str, int]]:
    """(kind, pid) of every signal that hit a process."""
    return sorted(
        (i.kind, i.pid) for kind in ("sigkill", "sigsegv") for i in chaos.injector.fired(kind)
        if i.pid is not None
    )  # fmt: skip


def test_faults_were_injected_and_fired(chaos: ChaosRun) -> None:
    injections = chaos.injector.injections
    assert len(injections) >= SECONDS / chaos.injector.interval - 1
    assert [i for i in injections if i.outcome == "pending"] == [], "a fault never ran"
    assert chaos.injector.fired("raise") and chaos.injector.fired("hang")
    if chaos.injector.isolated:
        assert signalled(chaos), "no signal reached an isolated process"


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
    raised = sorted(i.label for i in chaos.injector.fired("raise"))
    exits = chaos.reports("exit")
    injected = [r for r in exits if r.reason is not None and "InjectedFault" in str(r.reason)]
    crashed = sorted(r.reason.detail.rsplit("injected fault ", 1)[-1] for r in injected)
    assert crashed == raised
    # Every other exit is a signalled process, named by its pid, with the signal's reason.
    by_signal = []
    for report in exits:
        if report in injected:
            continue
        assert report.reason is not None, report
        pid = re.search(r"process (\d+)", report.reason.detail)
        assert pid, str(report.reason)
        kind = "sigkill" if report.reason.kind == "killed" else "sigsegv"
        if kind == "sigsegv":
            assert "SIGSEGV" in report.reason.detail, str(report.reason)
        by_signal.append((kind, int(pid.group(1))))
    assert sorted(by_signal) == signalled(chaos)
    faults = len(raised) + len(by_signal)
    assert len(chaos.reports("restart")) == faults
    restarted = [r for r in chaos.reports("start") if r.context == "restart"]
    assert len(restarted) == faults
    for kind in ("escalation", "hung", "start_error"):
        assert chaos.reports(kind) == []


def test_nothing_leaked(chaos: ChaosRun) -> None:
    before, after = chaos.baseline, chaos.after_recovery
    assert thread_kinds(after.thread_names) == thread_kinds(before.thread_names)
    leaked = Counter(after.fd_kinds) - Counter(before.fd_kinds)
    closed = Counter(before.fd_kinds) - Counter(after.fd_kinds)
    assert after.fds == before.fds, f"descriptors opened: {leaked}, closed: {closed}"
    assert (after.processes, after.actors) == (before.processes, before.actors)
    assert chaos.left_after_stop() == Counter()
    assert chaos.after_stop.actors == 0
    assert chaos.after_stop.processes == chaos.before_start.processes


def test_the_store_holds_every_acknowledged_turn(chaos: ChaosRun) -> None:
    requests = [*chaos.requests, *chaos.answered_after]
    acknowledged = {r.turn_id for r in requests if r.status == "answered" and r.turn_id}
    assert acknowledged
    assert acknowledged - chaos.stored == set()
