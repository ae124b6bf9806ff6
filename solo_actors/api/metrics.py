"""GET /metrics: the tree and the process in Prometheus' text format (prometheus-client).

A custom collector builds the samples at scrape time from the same ``status()`` snapshot
/status uses, so a scrape never messages an actor and nothing has to be updated ahead of it.
The registry is private to each call: a restarted api actor never re-registers a metric in a
process-wide registry.
"""

from __future__ import annotations

from collections.abc import Iterator

import psutil
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from solo_actors.api.state import ApiError, ApiState, walk
from solo_actors.runtime.events import HUB


class TreeCollector:
    """Samples of every tree node's state, uptime, restarts, mailbox and numeric figures."""

    def __init__(self, state: ApiState) -> None:
        self.state = state

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("solo_actor_up", "1 if the actor is running", labels=["path"])
        restarts = CounterMetricFamily("solo_actor_restarts", "Restarts by its supervisor",
                                       labels=["path"])  # fmt: skip
        uptime = GaugeMetricFamily("solo_actor_uptime_seconds", "Seconds since it started",
                                   labels=["path"])  # fmt: skip
        mailbox = GaugeMetricFamily("solo_actor_mailbox", "Messages waiting", labels=["path"])
        figures = GaugeMetricFamily("solo_actor_figure", "Numeric figures actors publish",
                                    labels=["path", "figure"])  # fmt: skip
        try:
            nodes = list(walk(self.state.tree()))
        except ApiError:
            nodes = []
        for node in nodes:
            up.add_metric([node.path], 1.0 if node.state == "running" else 0.0)
            restarts.add_metric([node.path], node.restarts)
            mailbox.add_metric([node.path], node.mailbox)
            if node.uptime is not None:
                uptime.add_metric([node.path], node.uptime)
            for name, value in node.figures.items():
                if isinstance(value, int | float) and not isinstance(value, bool):
                    figures.add_metric([node.path, name], float(value))
        yield from (up, restarts, uptime, mailbox, figures)
        rss = GaugeMetricFamily("solo_process_rss_bytes", "Resident memory of the process")
        rss.add_metric([], psutil.Process().memory_info().rss)
        events = CounterMetricFamily("solo_events_dropped", "Events dropped for slow clients")
        events.add_metric([], HUB.dropped)
        yield from (rss, events)


def render_metrics(state: ApiState) -> tuple[bytes, str]:
    """The exposition body and its content type."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(TreeCollector(state))
    return generate_latest(registry), CONTENT_TYPE_LATEST
