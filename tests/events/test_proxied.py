"""Proxied traffic (`--upstream`, mockserver/upstream/proxy.py) on the event stream and in the
metrics: the proxy journals each exchange through the engine as a faked request is journaled, so
its requests reach `GET /__mock/events` as `request` events (read back from the journal) and
`GET /__mock/metrics` as provider request counts (counted as the engine records them, once a
scrape has started counting). The upstream is another fake on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.events.sse import Message, stream
from tests.helpers import AUTH, EVOLINK_CREATE, KEY, evolink_body, live_server, make_app
from tests.metrics.test_metrics import POLL, requests, samples

CREATE = "createVideoGeneration"


@pytest.fixture
def proxy() -> Iterator[str]:
    """A fake proxying evolink to another fake, both live on loopback."""
    with (
        live_server(make_app()) as upstream,
        live_server(make_app(upstreams=(f"evolink={upstream}",), events_ping=0.2)) as base,
    ):
        yield base


def proxied_requests(messages: list[Message]) -> list[dict[str, Any]]:
    return [m.data["request"] for m in messages if m.event == "request"]


def test_proxied_requests_reach_the_stream_and_the_metrics_as_faked_ones_do(proxy: str) -> None:
    assert httpx.get(proxy + "/__mock/metrics").status_code == 200  # counting as it happens from here
    with stream(proxy, key=KEY) as events:
        created = httpx.post(proxy + EVOLINK_CREATE, headers=AUTH, json=evolink_body())
        assert created.status_code == 200, created.text
        task_id = created.json()["id"]
        assert httpx.get(f"{proxy}/v1/tasks/{task_id}", headers=AUTH).status_code == 200
        messages = events.wait_for(lambda ms: len(proxied_requests(ms)) == 2, "two proxied requests")
    seen = [(r["provider"], r["operation"], r["status"], r["task"]) for r in proxied_requests(messages)]
    assert seen == [("evolink", CREATE, 200, task_id), ("evolink", POLL, 200, task_id)]
    assert not any(m.event.startswith("task.") for m in messages)  # the task is the upstream's
    counted = samples(httpx.get(proxy + "/__mock/metrics").text)
    assert (requests(counted, CREATE, 200), requests(counted, POLL, 200)) == (1, 1)
