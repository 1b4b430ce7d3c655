"""Metrics in the Prometheus text format (`GET /__mock/metrics`): counters this process keeps as a
subscriber of the engine's events and of its journal writes, and gauges read from the store at
each scrape (tasks by provider and status, the store's health).

With a store no other process shares, counting starts at the first scrape, filled in from what
the journal and the store hold then: until metrics are asked for, the request path pays nothing.
With a shared store every process counts its own from its start; `--workers` on one port use
prometheus-client's multiprocess mode (`PROMETHEUS_MULTIPROC_DIR`, set by the command), so a
scrape of any worker shows the sum; separate hosts are scraped one by one (Prometheus' `instance`).

Metrics layer: prometheus-client (imported when counting starts) and the engine.
"""

from __future__ import annotations

import asyncio
import os
import time
from typing import TYPE_CHECKING, Any

from mockserver.engine import Engine
from mockserver.engine.events import CallbackAttempted, Event, TaskCreated
from mockserver.engine.journal import EVERYTHING, JournalFields

if TYPE_CHECKING:
    from mockserver.metrics.counts import Counts, Request

MULTIPROCESS = "PROMETHEUS_MULTIPROC_DIR"
BATCH = 256  # requests counted at a time
# Real seconds a request waits at most to be counted: a scrape counts this process's at once,
# but with `--workers` it reads the other workers' figures from their files.
FLUSH_AFTER = 0.2
PAGE = 1000
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class Metrics:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.counts: Counts | None = None  # once counting has started
        self._registry: Any = None
        self._pending: list[JournalFields] = []

    def start(self) -> None:
        """Count from now on: the engine's events, and each journal entry this process writes."""
        if self.counts is not None:
            return
        from prometheus_client import CollectorRegistry, disable_created_metrics

        from mockserver.metrics.counts import Counts

        disable_created_metrics()  # type: ignore[no-untyped-call]  # `_created` series: noise here

        self._registry = CollectorRegistry()
        self.counts = Counts(self._registry)
        self.engine.events.listen(self._event)
        self.engine.watch_journal(self._request)

    async def start_filled(self) -> None:
        """Start counting, with what the journal and the store hold as the figures so far (a
        store of this process only: its verbs do not wait, so nothing slips in between)."""
        self.start()
        assert self.counts is not None
        self.counts.add_requests(map(_request_of_entry, await self.engine.journal(EVERYTHING)))
        after = 0
        while True:
            tasks, last = await self.engine.tasks(None, after, PAGE)
            for task in tasks:
                self.counts.add_task(task)
            if last is None:
                break
            after = last
        for delivery in await self.engine.deliveries():
            for attempt in delivery.attempts:
                if attempt.outcome != "pending":
                    self.counts.add_attempt(attempt.outcome)

    def stop(self) -> None:
        self.engine.events.unlisten(self._event)
        self.engine.watch_journal(None)
        self.flush()

    def _request(self, fields: JournalFields) -> None:
        pending = self._pending
        pending.append(fields)
        if len(pending) == 1:
            asyncio.get_running_loop().call_later(FLUSH_AFTER, self.flush)
        elif len(pending) >= BATCH:
            self.flush()

    def _event(self, event: Event) -> None:
        counts, data = self.counts, event.data
        if counts is None:
            return
        if isinstance(data, TaskCreated):
            counts.add_task(data.task)
        elif isinstance(data, CallbackAttempted):
            counts.add_attempt(data.delivery.attempts[data.number - 1].outcome)

    def flush(self) -> None:
        """Count the requests recorded since the last flush."""
        if self.counts is None or not self._pending:
            return
        pending, self._pending = self._pending, []
        self.counts.add_requests(map(_request_of_fields, pending))

    async def exposition(self) -> bytes:
        """The text a scrape gets: this process's counters (every worker's, in multiprocess
        mode), then the gauges read from the store now."""
        from prometheus_client import CollectorRegistry, generate_latest

        if self.counts is None:
            await self.start_filled()
        self.flush()
        registry = self._registry
        if os.environ.get(MULTIPROCESS):
            from prometheus_client import multiprocess

            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        gauges = CollectorRegistry()
        gauges.register(_Fixed(await self._gauges()))
        return bytes(generate_latest(registry) + generate_latest(gauges))

    async def _gauges(self) -> list[Any]:
        from prometheus_client.core import GaugeMetricFamily

        up = GaugeMetricFamily("mockserver_store_up", "1 when the store answers (a round trip), else 0")
        took = GaugeMetricFamily("mockserver_store_round_trip_seconds", "Time the store took to answer")
        started = time.perf_counter()
        try:
            await self.engine.sync_clock()
        except Exception:
            up.add_metric([], 0)
            return [up]
        took.add_metric([], time.perf_counter() - started)
        up.add_metric([], 1)
        tasks = GaugeMetricFamily(
            "mockserver_tasks", "Tasks the store holds, by provider and status", labels=["provider", "status"]
        )
        for (provider, status), count in sorted((await self._task_tally()).items()):
            tasks.add_metric([provider, status], count)
        return [up, took, tasks]

    async def _task_tally(self) -> dict[tuple[str, str], int]:
        tally: dict[tuple[str, str], int] = {}
        after = 0
        while True:
            tasks, last = await self.engine.tasks(None, after, PAGE)
            for task in tasks:
                labels = (task.provider, self.engine.observe(task).status.value)
                tally[labels] = tally.get(labels, 0) + 1
            if last is None:
                return tally
            after = last


class _Fixed:
    """A collector of families made for one scrape."""

    def __init__(self, families: list[Any]) -> None:
        self.families = families

    def collect(self) -> list[Any]:
        return self.families


def _request_of_fields(fields: JournalFields) -> Request:
    return (
        fields["provider"],
        fields["operation"],
        fields["status"],
        fields["duration_ms"] / 1000,
        fields["fault"],
    )


def _request_of_entry(entry: Any) -> Request:
    return (entry.provider, entry.operation, entry.status, entry.duration_ms / 1000, entry.fault)
