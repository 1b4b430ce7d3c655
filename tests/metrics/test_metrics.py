"""`GET /__mock/metrics` after a scripted run: creates, polls, a fault, a failure plan and a
callback retried once; every family shows the exact counts, from the first scrape (filled in
from the journal and the store) and from then on (counted as it happens)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.callbacks.test_delivery import HOOK, PUBLIC_IP, Receiver, Resolver
from tests.helpers import (
    AIMLAPI_PATH,
    AUTH,
    EVOLINK_CREATE,
    advance,
    aimlapi_body,
    client,
    evolink_body,
    make_app,
)

pytestmark = pytest.mark.anyio
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]
CREATE, POLL = "createVideoGeneration", "getTaskDetail"


def samples(text: str) -> Samples:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(found: Samples, name: str, **labels: str) -> float:
    return found.get((name, tuple(sorted(labels.items()))), 0.0)


def requests(found: Samples, operation: str, status: int | str) -> float:
    return value(
        found, "mockserver_requests_total", provider="evolink", operation=operation, status=str(status)
    )


async def scripted_run(http: httpx.AsyncClient) -> list[dict[str, Any]]:
    """3 evolink creates (one with a callback, one that fails by plan), 1 aimlapi create,
    4 polls (one meeting a 503 fault), then past every end: the callback answered 500 then 200."""
    made = [
        (await http.post(EVOLINK_CREATE, headers=AUTH, json=evolink_body(callback_url=HOOK))).json(),
        (await http.post(EVOLINK_CREATE, headers=AUTH, json=evolink_body())).json(),
        (
            await http.post(
                EVOLINK_CREATE,
                headers={**AUTH, "X-Mock-Fail": "content_policy_violation"},
                json=evolink_body(),
            )
        ).json(),
    ]
    assert (await http.post(AIMLAPI_PATH, headers=AUTH, json=aimlapi_body())).status_code == 200
    for _ in range(3):
        assert (await http.get(f"/v1/tasks/{made[1]['id']}", headers=AUTH)).status_code == 200
    faulted = await http.get(f"/v1/tasks/{made[1]['id']}", headers={**AUTH, "X-Mock-Fault": "503"})
    assert faulted.status_code == 503
    await advance(http, 100)
    return made


async def test_after_a_scripted_run_every_family_shows_the_exact_counts() -> None:
    receiver = Receiver(500, 200)
    app = make_app(
        resolver=Resolver({"hooks.example.com": [PUBLIC_IP]}),
        callback_transport=receiver,
        settle_seconds=0.05,
    )
    async with client(app) as http:
        made = await scripted_run(http)
        first = samples((await http.get("/__mock/metrics")).text)
        # From the first scrape on, counted as it happens
        for _ in range(2):
            assert (await http.get(f"/v1/tasks/{made[0]['id']}", headers=AUTH)).status_code == 200
        await http.post(EVOLINK_CREATE, headers={**AUTH, "X-Mock-Fault": "delay=0.01"}, json=evolink_body())
        second = samples((await http.get("/__mock/metrics")).text)
    assert len(receiver.requests) == 2
    assert (
        requests(first, CREATE, 200) == 3
        and requests(first, POLL, 200) == 3
        and requests(first, POLL, 503) == 1
    )
    assert (
        value(
            first, "mockserver_requests_total", provider="aimlapi", operation="createGeneration", status="200"
        )
        == 1
    )
    assert value(first, "mockserver_request_duration_seconds_count", provider="evolink", operation=POLL) == 4
    assert value(first, "mockserver_callback_attempts_total", outcome="http_error") == 1
    assert value(first, "mockserver_callback_attempts_total", outcome="success") == 1
    assert value(first, "mockserver_faults_total", trigger="fault", kind="status") == 1
    assert value(first, "mockserver_faults_total", trigger="fail", kind="code") == 1
    assert value(first, "mockserver_credits_spent_total", provider="evolink") == 3 * 7
    assert value(first, "mockserver_credits_spent_total", provider="aimlapi") == 1_120_000
    assert value(first, "mockserver_tasks", provider="evolink", status="succeeded") == 2
    assert value(first, "mockserver_tasks", provider="evolink", status="failed") == 1
    assert value(first, "mockserver_tasks", provider="aimlapi", status="succeeded") == 1
    assert value(first, "mockserver_store_up") == 1
    assert requests(second, POLL, 200) == 5 and requests(second, CREATE, 200) == 4
    assert value(second, "mockserver_faults_total", trigger="fault", kind="delay") == 1
    assert value(second, "mockserver_credits_spent_total", provider="evolink") == 4 * 7
    assert value(second, "mockserver_tasks", provider="evolink", status="queued") == 1
    assert (
        value(second, "mockserver_request_duration_seconds_count", provider="evolink", operation=CREATE) == 4
    )


async def test_metrics_follow_the_control_plane_access_rules() -> None:
    async with client(make_app(control_token="sesame")) as http:
        assert (await http.get("/__mock/metrics")).status_code == 401
        assert (
            await http.get("/__mock/metrics", headers={"Origin": "https://evil.example"})
        ).status_code in (401, 403)
        answer = await http.get("/__mock/metrics", headers={"X-Mock-Token": "sesame"})
    assert answer.status_code == 200 and answer.headers["content-type"].startswith(
        "text/plain; version=0.0.4"
    )
