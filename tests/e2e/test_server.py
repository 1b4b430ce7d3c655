"""The fake on a real loopback port: real clock with a speed factor, and the command itself."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import httpx
import pytest

from tests.helpers import (
    AIMLAPI_PATH,
    AUTH,
    EVOLINK_CREATE,
    aimlapi_body,
    evolink_body,
    free_port,
    live_server,
    make_app,
)
from tests.media import probe


def wait_until_finished(
    http: httpx.Client, path: str, params: dict[str, str] | None, done: set[str], timeout: float = 10.0
) -> tuple[dict[str, object], list[str]]:
    deadline, seen = time.monotonic() + timeout, []
    while time.monotonic() < deadline:
        body = http.get(path, params=params, headers=AUTH).json()
        seen.append(body["status"])
        if body["status"] in done:
            return body, seen
        time.sleep(0.02)
    raise AssertionError(f"still {seen[-1]!r} after {timeout} s")


def test_both_lifecycles_complete_with_a_real_clock_and_a_speed_factor() -> None:
    app = make_app(clock="real", speed=200)
    with live_server(app) as base, httpx.Client(base_url=base) as http:
        started = time.monotonic()
        task = http.post(
            EVOLINK_CREATE, headers=AUTH, json=evolink_body(duration=10, aspect_ratio="1:1")
        ).json()
        generation = http.post(AIMLAPI_PATH, headers=AUTH, json=aimlapi_body()).json()
        body, seen = wait_until_finished(http, f"/v1/tasks/{task['id']}", None, {"completed", "failed"})
        aiml, _ = wait_until_finished(
            http, AIMLAPI_PATH, {"generation_id": str(generation["id"])}, {"completed", "error"}
        )
        elapsed = time.monotonic() - started
        video = probe(http.get(body["results"][0]).content)  # type: ignore[index]
        aiml_video = probe(http.get(aiml["video"]["url"]).content)  # type: ignore[index]
    assert body["status"] == "completed" and aiml["status"] == "completed"
    assert "processing" in seen
    assert 79 / 200 * 0.9 < elapsed < 5  # 79 fake seconds at 200x
    assert (video.duration, video.aspect_ratio) == (pytest.approx(10, abs=0.1), "1:1")
    assert aiml_video.aspect_ratio == "16:9"


def test_a_client_configured_with_the_seed_mirror_base_url_works() -> None:
    with live_server(make_app()) as base, httpx.Client(base_url=f"{base}/apiv1") as http:
        created = http.post("v1/videos/generations", headers=AUTH, json=evolink_body())
        detail = http.get(f"v1/tasks/{created.json()['id']}", headers=AUTH)
    assert created.status_code == 200 and detail.json()["status"] == "pending"


@pytest.mark.slow
def test_the_mockserver_command_serves_prints_a_banner_and_logs_requests() -> None:
    port = free_port()
    env = {**os.environ, "MOCKSERVER_SEED": "5", "MOCKSERVER_SPEED": "100", "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, "-m", "mockserver", "--port", str(port), "--keys", "k1,k2"]
    with subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    ) as proc:
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 15
            while True:
                try:
                    clock = httpx.get(f"{base}/__mock/clock", timeout=1).json()
                    break
                except httpx.TransportError:
                    if time.monotonic() > deadline or proc.poll() is not None:
                        raise
                    time.sleep(0.05)
            created = httpx.post(
                f"{base}{EVOLINK_CREATE}", json=evolink_body(), headers={"Authorization": "Bearer k2"}
            )
            refused = httpx.post(f"{base}{EVOLINK_CREATE}", json=evolink_body(), headers=AUTH)
        finally:
            proc.terminate()
            output = proc.communicate(timeout=10)[0]
    assert clock["speed"] == 100 and clock["mode"] == "real"
    assert created.status_code == 200 and created.json()["id"].startswith("task-unified-")
    assert refused.status_code == 401  # --keys replaced the default key
    assert f"http://127.0.0.1:{port}/apiv1" in output and "curl -s" in output and "seed 5" in output
    assert "Bearer k1" in output
    assert "POST /v1/videos/generations evolink.createVideoGeneration 200" in output
