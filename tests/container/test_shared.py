"""compose.yaml's topology started by the test: one redis-server on loopback and two fake
containers on it, each on its own 127.0.0.1 port of the host's network, one of them with two
workers (as compose runs it). They run with a read-only root, no capabilities and no privilege
escalation, as the Kubernetes example runs them."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests import redis_server
from tests.container.docker import Container, loopback_node, running
from tests.e2e.test_nodes import Receiver, eventually
from tests.helpers import AUTH, EVOLINK_CREATE, evolink_body, free_port, live_server
from tests.redis_server import MISSING

pytestmark = pytest.mark.slow
START = 1767225600.0  # where a manual clock starts
TASK_SECONDS = 80
LOCKED_DOWN = ["--read-only", "--cap-drop", "ALL", "--security-opt", "no-new-privileges"]
STOP_GRACE = 15  # compose.yaml's stop_grace_period


@contextlib.contextmanager
def node(image: str, store: str, workers: int = 1) -> Iterator[tuple[Container, str]]:
    port = free_port()
    env = {
        "MOCKSERVER_STORE": store,
        "MOCKSERVER_WORKERS": str(workers),
        "MOCKSERVER_CLOCK": "manual",
        "MOCKSERVER_ALLOW_CALLBACK_HOSTS": "127.0.0.1",
    }
    with running(loopback_node(image, port, before=LOCKED_DOWN, env=env)) as container:
        base = f"http://127.0.0.1:{port}"
        container.wait_until_serving(base)
        yield container, base


def test_two_containers_on_one_redis_share_tasks_and_the_clock_and_call_back_once(
    image: str, redis_url: str
) -> None:
    receiver = Receiver(200)
    with (
        live_server(receiver) as hook,
        node(image, redis_url) as (_, a),
        node(image, redis_url, 2) as (b_node, b),
    ):
        task = httpx.post(
            f"{a}{EVOLINK_CREATE}", headers=AUTH, json=evolink_body(callback_url=f"{hook}/done")
        )
        task_id = task.json()["id"]
        assert httpx.get(f"{b}/v1/tasks/{task_id}", headers=AUTH).json()["status"] == "pending"

        httpx.post(f"{a}/__mock/clock/advance", json={"seconds": TASK_SECONDS}, timeout=30).raise_for_status()
        assert httpx.get(f"{b}/__mock/clock").json()["now"] == START + TASK_SECONDS
        done = httpx.get(f"{b}/v1/tasks/{task_id}", headers=AUTH).json()
        assert done["status"] == "completed"

        eventually(lambda: receiver.bodies, timeout=10)
        time.sleep(0.5)  # time for a duplicate to arrive, were there one
        [delivery] = httpx.get(f"{b}/__mock/callbacks").json()["callbacks"]
        assert [body["id"] for body in receiver.bodies] == [task_id]
        assert (delivery["state"], len(delivery["attempts"])) == ("delivered", 1)

        took = b_node.stop(STOP_GRACE)  # SIGTERM to the supervisor of two workers
        assert (b_node.state("ExitCode"), took < STOP_GRACE) == ("0", True)


def test_a_container_whose_redis_is_gone_turns_unhealthy(image: str, tmp_path: Path) -> None:
    if redis_server.binary() is None:
        pytest.skip(MISSING)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    fake = None
    try:
        with redis_server.running(tmp_path) as redis:  # stopped at the end of this block
            env = {"MOCKSERVER_STORE": f"{redis}/0"}
            # The image's HEALTHCHECK asked every second rather than every 10 s: a shorter test.
            fake = Container(loopback_node(image, port, before=["--health-interval", "1s"], env=env))
            fake.wait_for_health_status('"healthy"')
        assert httpx.get(f"{base}/__mock/health", timeout=10).status_code == 503
        fake.wait_for_health_status('"unhealthy"')  # three failed checks in a row
    finally:
        if fake is not None:
            fake.remove()
