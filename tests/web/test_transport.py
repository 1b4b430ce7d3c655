"""The in-process sync transport: answers with no socket, and never holds the interpreter open."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap

import httpx

from mockserver import Settings, create_app
from mockserver.transport import SyncASGITransport
from tests.helpers import AUTH, EVOLINK_CREATE, evolink_body


def test_a_sync_client_reaches_the_fake_and_can_be_closed_and_reopened() -> None:
    transport = SyncASGITransport(create_app())
    with httpx.Client(transport=transport, base_url="http://fake.test") as client:
        created = client.post(EVOLINK_CREATE, json=evolink_body(), headers=AUTH)
        assert created.status_code == 200, created.text
    # closed: the next request starts a fresh loop thread on the same app
    again = httpx.Client(transport=transport, base_url="http://fake.test")
    polled = again.get(f"/v1/tasks/{created.json()['id']}", headers=AUTH)
    assert polled.status_code == 200, polled.text
    again.close()


def test_a_transport_nobody_closes_does_not_hold_the_interpreter_at_exit() -> None:
    # A module-level client left open (as in a user's conftest) once hung pytest after its summary.
    script = textwrap.dedent(
        """
        import httpx
        from mockserver import create_app
        from mockserver.transport import SyncASGITransport
        HTTP = httpx.Client(transport=SyncASGITransport(create_app()), base_url="http://fake.test")
        print(HTTP.get("/__mock/clock").status_code)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], check=False, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "200"


def test_one_app_served_from_several_loops_in_turn_runs_its_driver_on_each() -> None:
    # The sync transport's loop (in its thread, still open), then two loops one after the
    # other in this thread: a request on each finds the driver on its own loop, running.
    app = create_app(Settings(clock="manual"))
    fake = app.state.mock
    seen: list[asyncio.AbstractEventLoop] = []

    async def poll_and_look() -> None:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://fake.test") as http:
            assert (await http.post(EVOLINK_CREATE, json=evolink_body(), headers=AUTH)).status_code == 200
            loop = asyncio.get_running_loop()
            assert fake.runtime.running() and fake.runtime.serving is loop
            seen.append(loop)

    with httpx.Client(transport=SyncASGITransport(app), base_url="http://fake.test") as client:
        assert client.post(EVOLINK_CREATE, json=evolink_body(), headers=AUTH).status_code == 200
        in_thread = fake.runtime.serving
        assert in_thread is not None and in_thread.is_running()
        asyncio.run(poll_and_look())
        asyncio.run(poll_and_look())
        assert client.get("/__mock/clock").status_code == 200
        assert fake.runtime.serving is in_thread  # moved back
    assert len({in_thread, *seen}) == 3
