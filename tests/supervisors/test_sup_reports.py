"""Reports: JSON round trip, failing sinks, ring buffer filters, structlog."""

from __future__ import annotations

import time
from typing import Any

import msgspec
import pytest

from supervisors import (
    ActorExitedError,
    AnyReport,
    ExitReason,
    ExitReport,
    Report,
    RingBufferSink,
    StartReport,
    StructlogSink,
    SupFlags,
    supervisor_spec,
)


class Exploding:
    def __init__(self) -> None:
        self.calls = 0

    def emit(self, report: Report) -> None:
        self.calls += 1
        raise RuntimeError("sink down")


def test_a_raising_sink_breaks_nothing(
    spec: Any, start_tree: Any, ring: RingBufferSink, caplog: pytest.LogCaptureFixture
) -> None:
    bad = Exploding()
    root = start_tree(SupFlags(), [spec("a")], sinks=[bad, ring])
    with pytest.raises(ActorExitedError):
        root.which_children()[0].ref.ask("crash")
    assert root.which_children()[0].ref.ask("x") == ("a", "x")
    assert bad.calls == len(ring.snapshot()) == 4  # start, exit, restart, start
    assert "report sink" in caplog.text


def test_reports_encode_to_json_and_back(spec: Any, start_tree: Any, ring: RingBufferSink) -> None:
    root = start_tree(SupFlags(), [spec("a", name="a")], name="solo")
    with pytest.raises(ActorExitedError):
        root.which_children()[0].ref.ask("crash")
    ring.wait_for(kind="start", count=2, timeout=10)  # the restart is done
    for report in ring.snapshot():
        data = msgspec.json.encode(report)
        assert msgspec.json.decode(data, type=AnyReport) == report
        fields = msgspec.json.decode(data)
        assert fields["kind"] == report.kind
        for key in (
            "supervisor",
            "child_id",
            "child_name",
            "context",
            "reason",
            "traceback",
            "restarts",
            "timestamp",
            "monotonic",
        ):
            assert key in fields
    exit_report = ring.snapshot(kind="exit")[0]
    assert isinstance(exit_report, ExitReport)
    assert exit_report.supervisor == "solo" and exit_report.path == "solo/a"
    assert exit_report.child_name == "a"
    assert exit_report.urn is not None
    assert exit_report.reason is not None and exit_report.reason.kind == "crash"
    assert abs(exit_report.timestamp - time.time()) < 60


def test_ring_buffer_filters() -> None:
    ring = RingBufferSink(capacity=3)

    def report(kind: type[Report], supervisor: str, child_id: str, at: float) -> Report:
        return kind(supervisor=supervisor, child_id=child_id, timestamp=at)

    ring.emit(report(StartReport, "solo", "x", 1.0))  # pushed out by capacity
    ring.emit(report(StartReport, "solo/voice", "asr", 2.0))
    ring.emit(report(ExitReport, "solo/voiceover", "a", 3.0))
    ring.emit(report(StartReport, "solo", "voice", 4.0))
    assert [r.child_id for r in ring.snapshot()] == ["asr", "a", "voice"]
    assert [r.child_id for r in ring.snapshot(kind="start")] == ["asr", "voice"]
    assert [r.child_id for r in ring.snapshot(path_prefix="solo/voice")] == ["asr", "voice"]
    assert [r.child_id for r in ring.snapshot(since=3.0)] == ["a", "voice"]
    assert [r.child_id for r in ring.snapshot(limit=1)] == ["voice"]
    assert ring.snapshot(limit=0) == []
    assert [r.child_id for r in ring.wait_for(kind="exit", timeout=0)] == ["a"]
    assert ring.wait_for(kind="hung", timeout=0.01) == []
    ring.clear()
    assert ring.snapshot() == []


def test_structlog_sink_logs_each_report(spec: Any, start_tree: Any) -> None:
    calls: list[tuple[str, str, dict[str, Any]]] = []

    class Logger:
        def info(self, event: str, **fields: Any) -> None:
            calls.append(("info", event, fields))

        def error(self, event: str, **fields: Any) -> None:
            calls.append(("error", event, fields))

    root = start_tree(SupFlags(), [spec("a")], sinks=[StructlogSink(Logger())])
    with pytest.raises(ActorExitedError):
        root.which_children()[0].ref.ask("crash")
    root.stop()
    assert [(level, event) for level, event, _ in calls] == [
        ("info", "supervisor.start"),
        ("error", "supervisor.exit"),
        ("info", "supervisor.restart"),
        ("info", "supervisor.start"),
        ("info", "supervisor.shutdown"),
    ]
    assert calls[1][2]["reason"] == str(ExitReason("crash", "RuntimeError: a crashed"))


def test_structlog_sink_default_logger(spec: Any, start_tree: Any) -> None:
    import structlog

    with structlog.testing.capture_logs() as logs:
        root = start_tree(SupFlags(), [spec("a")], sinks=[StructlogSink()])
        root.stop()
    assert [entry["event"] for entry in logs] == ["supervisor.start", "supervisor.shutdown"]


def test_nested_supervisors_report_to_the_roots_sinks(
    spec: Any, start_tree: Any, ring: RingBufferSink
) -> None:
    start_tree(SupFlags(), [supervisor_spec("mid", SupFlags(), [spec("leaf")])], name="r")
    assert [r.supervisor for r in ring.snapshot(kind="start")] == ["r/mid", "r"]
