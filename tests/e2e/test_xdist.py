"""Per-key isolation on one shared fake: a pytest-xdist run of 4 workers, each with its own key,
arms faults, creates tasks, asserts on its journal and resets its key, all at once against one
server (started here, with --accept-any-key); none sees or disturbs another's state."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.helpers import live_server, make_app

WORKERS = 4
CONFTEST = """
import os

import httpx
import pytest

from contracts.mock import MockControl

URL = os.environ["VIDEO_MOCK_URL"]


@pytest.fixture
def key(worker_id):
    return f"key-{worker_id}"


@pytest.fixture
def fake(key):
    control = MockControl(httpx.Client(base_url=URL, timeout=30))
    control.reset(key=key)  # this worker's state only: the others are mid-test
    yield control
    control.http.close()
"""
TESTS = """
import httpx
import pytest

from contracts.mock import URL

BODY = {"model": "kling-o1-image-to-video", "prompt": "A cat", "image_urls": ["https://example.com/c.jpg"]}
URL_CREATE = URL + "/v1/videos/generations"


def create(key, **headers):
    auth = {"Authorization": f"Bearer {key}", **headers}
    return httpx.post(URL_CREATE, json=BODY, headers=auth, timeout=30)


@pytest.mark.parametrize("round", range(8))
def test_my_faults_journal_and_tasks_are_mine(fake, key, round, worker_id):
    with open("workers.txt", "a") as seen:
        print(worker_id, file=seen)
    fake.add_fault("createVideoGeneration", 503, key=key, count=2)
    statuses = [create(key).status_code for _ in range(5)]
    assert statuses == [503, 503, 200, 200, 200]  # no other worker spent my rule
    mine = fake.requests(key=key)
    assert [e["status"] for e in mine] == statuses  # and my journal holds only mine
    tasks = [e["task"] for e in mine if e["task"]]
    for task in tasks:
        seen = httpx.get(f"{URL}/v1/tasks/{task}", headers={"Authorization": f"Bearer {key}"}, timeout=30)
        assert seen.status_code == 200
    fake.assert_requests(5 + len(tasks), key=key)
    assert not [r for r in fake.faults() if r["key"] == fake.requests(key=key)[0]["key"]]
    fake.reset(key=key)
    fake.assert_requests(0, key=key)
    gone = httpx.get(f"{URL}/v1/tasks/{tasks[0]}", headers={"Authorization": f"Bearer {key}"}, timeout=30)
    assert gone.status_code == 404
""".replace("from contracts.mock import URL", "from conftest import URL")


@pytest.mark.slow
def test_four_xdist_workers_share_one_fake_without_interfering(tmp_path: Path) -> None:
    (tmp_path / "conftest.py").write_text(CONFTEST)
    (tmp_path / "test_shared_fake.py").write_text(TESTS)
    app = make_app(keys=(), accept_any_key=True, clock="real")
    with live_server(app) as base:
        run = subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                "-n",
                str(WORKERS),
                "-p",
                "no:cacheprovider",
                "-q",
                "-W",
                "error",
            ],
            cwd=tmp_path,
            env={**os.environ, "VIDEO_MOCK_URL": base},
            check=False,
            capture_output=True,
            text=True,
            timeout=240,
        )
        entries = httpx.get(f"{base}/__mock/requests").json()["requests"]
    assert run.returncode == 0, run.stdout + run.stderr
    assert "8 passed" in run.stdout
    assert len(set((tmp_path / "workers.txt").read_text().split())) == WORKERS
    # each worker's last acts: forget its key, then find its task gone (a 404, journaled)
    assert [e["status"] for e in entries] == [404] * WORKERS
    assert len({e["key"] for e in entries}) == WORKERS
