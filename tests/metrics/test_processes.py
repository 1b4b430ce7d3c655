"""Several processes' metrics: two nodes on one Redis each count their own (they add up to the
service's), and `--workers 2` on one port report the sum of both workers in one scrape."""

from __future__ import annotations

import time

import httpx
import pytest

from mockserver.metrics import FLUSH_AFTER
from tests.e2e.nodes import cluster
from tests.helpers import AUTH, EVOLINK_CREATE, evolink_body
from tests.metrics.test_metrics import CREATE, POLL, requests, samples, value

pytestmark = pytest.mark.slow


def create(base: str) -> str:
    return str(httpx.post(base + EVOLINK_CREATE, headers=AUTH, json=evolink_body()).json()["id"])


def test_two_nodes_count_their_own_and_add_up_to_the_service(redis_url: str) -> None:
    with cluster(redis_url, "--clock", "manual") as nodes:
        a, b = nodes.start(), nodes.start()
        made = [create(a.base), create(a.base), create(b.base)]
        for base, times in ((a.base, 3), (b.base, 2)):
            for _ in range(times):
                assert httpx.get(f"{base}/v1/tasks/{made[0]}", headers=AUTH).status_code == 200
        on_a, on_b = (samples(httpx.get(node.base + "/__mock/metrics").text) for node in (a, b))
    assert (requests(on_a, CREATE, 200), requests(on_b, CREATE, 200)) == (2, 1)
    assert (requests(on_a, POLL, 200), requests(on_b, POLL, 200)) == (3, 2)
    assert value(on_a, "mockserver_credits_spent_total", provider="evolink") == 14
    assert value(on_b, "mockserver_credits_spent_total", provider="evolink") == 7
    for found in (on_a, on_b):  # the store's, whoever is asked
        assert value(found, "mockserver_tasks", provider="evolink", status="queued") == 3


def test_workers_on_one_port_report_their_sum_in_one_scrape(redis_url: str) -> None:
    with cluster(redis_url, "--clock", "manual", "--workers", "2") as nodes:
        node = nodes.start()
        task_id = create(node.base)
        for _ in range(40):  # a connection each: the workers share them out
            with httpx.Client() as http:
                assert http.get(f"{node.base}/v1/tasks/{task_id}", headers=AUTH).status_code == 200
        time.sleep(FLUSH_AFTER * 2)  # each worker writes its counts down within FLUSH_AFTER
        for _ in range(6):  # whichever worker answers the scrape
            found = samples(httpx.get(node.base + "/__mock/metrics").text)
            assert requests(found, POLL, 200) == 40 and requests(found, CREATE, 200) == 1
