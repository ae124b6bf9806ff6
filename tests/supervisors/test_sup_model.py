"""Random operation sequences checked against a small model of OTP's rules.

The model is a list of children (id, restart type, running) plus a restart
count. Each operation updates it by OTP's rules and predicts the exact report
stream; after every step the supervisor's ``which_children``, the identity of
every child's actor and the new reports must match the prediction.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from supervisors import (
    ESCALATED,
    NORMAL,
    ActorExitedError,
    ChildSpec,
    Restart,
    RingBufferSink,
    Strategy,
    SupervisedActor,
    SupervisorError,
    SupervisorRef,
    SupFlags,
    start_supervisor,
)

INTENSITY = 4
WAIT = 30.0
"""Seconds to wait for an exit: an escalating supervisor stops every child first, and a
loaded machine can hold a thread up for seconds."""
RESTARTS: list[Restart] = ["permanent", "transient", "temporary"]
STRATEGIES: list[Strategy] = ["one_for_one", "one_for_all", "rest_for_one"]


class Child(SupervisedActor):
    def on_receive(self, message: Any) -> Any:
        if message == "crash":
            raise RuntimeError("crash")
        if message == "normal":
            self.exit(NORMAL)
        return message


@dataclass
class ModelChild:
    id: str
    restart: Restart
    running: bool = True


class SupervisorMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.ring = RingBufferSink(capacity=10_000)
        self.sup: SupervisorRef | None = None
        self.model: list[ModelChild] = []
        self.strategy: Strategy = "one_for_one"
        self.restarts = 0
        self.dead = False
        self.expected: list[tuple[str, str]] = []
        self.started: set[str] = set()  # ids (re)started by the current step
        self.seen_reports = 0
        self.refs: dict[str, Any] = {}
        self.serial = 0

    # -- helpers -------------------------------------------------------

    def spec(self, restart: Restart) -> ChildSpec:
        self.serial += 1
        return ChildSpec(f"c{self.serial}", Child.start, restart=restart, shutdown=2.0)

    def find(self, child_id: str) -> ModelChild:
        return next(c for c in self.model if c.id == child_id)

    def start(self, child: ModelChild) -> None:
        child.running = True
        self.started.add(child.id)
        self.expected.append(("start", child.id))

    def shutdown(self, child: ModelChild) -> None:
        if child.running:
            self.expected.append(("shutdown", child.id))
            child.running = False

    def child_exited(self, child: ModelChild, abnormal: bool) -> None:
        """OTP's restart_child/3 and restart/2, applied to the model."""
        self.expected.append(("exit", child.id))
        child.running = False
        if child.restart == "temporary" or (child.restart == "transient" and not abnormal):
            if child.restart == "temporary":
                self.model.remove(child)
            return
        self.restarts += 1
        if self.restarts > INTENSITY:
            self.expected.append(("escalation", child.id))
            for other in reversed(self.model):
                self.shutdown(other)
            self.dead = True
            return
        if self.strategy == "one_for_all":
            group = list(self.model)
        elif self.strategy == "rest_for_one":
            group = self.model[self.model.index(child) :]
        else:
            group = [child]
        self.expected.append(("restart", child.id))
        for other in reversed(group):
            if other is not child:
                self.shutdown(other)
        for member in group:
            if member.restart == "temporary":
                self.model.remove(member)
            else:
                self.start(member)

    def running_ids(self) -> list[str]:
        return [c.id for c in self.model if c.running]

    def ref_of(self, child_id: str) -> Any:
        assert self.sup is not None
        return next(c.ref for c in self.sup.which_children() if c.id == child_id)

    # -- rules ---------------------------------------------------------

    @initialize(
        strategy=st.sampled_from(STRATEGIES),
        restarts=st.lists(st.sampled_from(RESTARTS), min_size=1, max_size=4),
    )
    def boot(self, strategy: Strategy, restarts: list[Restart]) -> None:
        self.strategy = strategy
        specs = [self.spec(restart) for restart in restarts]
        flags = SupFlags(strategy, intensity=INTENSITY, period=3600)
        self.sup = start_supervisor(flags, specs, sinks=[self.ring])
        for spec in specs:
            child = ModelChild(spec.id, spec.restart)
            self.model.append(child)
            self.start(child)

    @precondition(lambda self: not self.dead and self.running_ids())
    @rule(data=st.data())
    def crash(self, data: st.DataObject) -> None:
        child_id = data.draw(st.sampled_from(self.running_ids()))
        with pytest.raises(ActorExitedError):
            self.ref_of(child_id).ask("crash")
        self.child_exited(self.find(child_id), abnormal=True)

    @precondition(lambda self: not self.dead and self.running_ids())
    @rule(data=st.data())
    def exit_normally(self, data: st.DataObject) -> None:
        child_id = data.draw(st.sampled_from(self.running_ids()))
        ref = self.ref_of(child_id)
        ref.ask("normal")
        assert ref.wait(WAIT) == NORMAL
        self.child_exited(self.find(child_id), abnormal=False)

    @precondition(lambda self: not self.dead)
    @rule(restart=st.sampled_from(RESTARTS))
    def start_child(self, restart: Restart) -> None:
        assert self.sup is not None
        spec = self.spec(restart)
        self.sup.start_child(spec)
        child = ModelChild(spec.id, restart)
        self.model.append(child)
        self.start(child)

    @precondition(lambda self: not self.dead and self.model)
    @rule(data=st.data())
    def terminate_child(self, data: st.DataObject) -> None:
        assert self.sup is not None
        child = self.find(data.draw(st.sampled_from([c.id for c in self.model])))
        self.sup.terminate_child(child.id)
        self.shutdown(child)
        if child.restart == "temporary":
            self.model.remove(child)

    @precondition(lambda self: not self.dead and self.model)
    @rule(data=st.data())
    def restart_child(self, data: st.DataObject) -> None:
        assert self.sup is not None
        child = self.find(data.draw(st.sampled_from([c.id for c in self.model])))
        if child.running:
            with pytest.raises(SupervisorError, match="running"):
                self.sup.restart_child(child.id)
        else:
            self.sup.restart_child(child.id)
            self.start(child)

    @precondition(lambda self: not self.dead and self.model)
    @rule(data=st.data())
    def delete_child(self, data: st.DataObject) -> None:
        assert self.sup is not None
        child = self.find(data.draw(st.sampled_from([c.id for c in self.model])))
        if child.running:
            with pytest.raises(SupervisorError, match="running"):
                self.sup.delete_child(child.id)
        else:
            self.sup.delete_child(child.id)
            self.model.remove(child)

    @precondition(lambda self: self.dead)
    @rule()
    def stays_down(self) -> None:
        assert self.sup is not None
        assert self.sup.wait(0) == ESCALATED

    # -- checks --------------------------------------------------------

    @invariant()
    def matches_model(self) -> None:
        if self.sup is None:
            return
        if self.dead:
            assert self.sup.wait(WAIT) == ESCALATED
        else:
            infos = self.sup.which_children()
            actual = [(i.id, i.state) for i in infos]
            assert actual == [(c.id, "running" if c.running else "stopped") for c in self.model]
            refs = {i.id: i.ref for i in infos if i.ref is not None}
            for child_id, ref in refs.items():
                restarted = child_id in self.started
                assert (self.refs.get(child_id) is not ref) == restarted, child_id
            self.refs = refs
        reports = self.ring.snapshot()
        new = [(r.kind, r.child_id) for r in reports[self.seen_reports :]]
        assert new == self.expected
        self.seen_reports = len(reports)
        self.expected = []
        self.started = set()

    def teardown(self) -> None:
        if self.sup is not None and not self.dead:
            self.sup.stop(timeout=5)


SupervisorMachine.TestCase.settings = settings(
    max_examples=25, stateful_step_count=15, deadline=None
)
TestSupervisorModel = SupervisorMachine.TestCase
