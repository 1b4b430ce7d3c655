"""Recording through the proxy: a whole lifecycle (create, polls, the callback) as HAR 1.2 that
holds no key and no signed token in any byte; a `mockserver` process killed with SIGKILL while
it records leaves a readable file; and `contracts profile` reads the timing back."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from contracts.cli import main as contracts
from mockserver import create_app
from mockserver.upstream import har
from tests.e2e.nodes import Node
from tests.helpers import evolink_body
from tests.upstream.conftest import SPEED, proxy_settings
from tests.upstream.drifting import Drifting
from tests.upstream.harschema import har_problems
from tests.upstream.servers import Receiver, loopback_socket, serving, url_of

KEY = "sk-live-do-not-record-0123456789"


def test_no_key_or_signed_token_reaches_any_byte_of_a_recorded_lifecycle(
    drifting: tuple[Drifting, str], receiver: tuple[Receiver, str], tmp_path: Path
) -> None:
    _, base = drifting
    got, hooks = receiver
    recording = tmp_path / "run.har"
    sock = loopback_socket()
    settings = proxy_settings(upstreams=(f"evolink={base}",), public_url=url_of(sock), record=str(recording))
    headers = {"Authorization": f"Bearer {KEY}", "X-Api-Key": KEY}
    with serving(create_app(settings), sock) as proxy, httpx.Client(base_url=proxy, headers=headers) as http:
        body = evolink_body(callback_url=f"{hooks}/hook?token=hook-secret-token")
        task = http.post("/v1/videos/generations", json=body).json()["id"]
        answers = [http.get(f"/v1/tasks/{task}").json() for _ in range(3)]
        got.wait(1)
    assert "X-Amz-Signature=signedsecret" in answers[-1]["results"][0]  # the client got the real link
    raw = recording.read_bytes()
    for secret in (KEY, "signedsecret", "hook-secret-token", "/__mock/relay/"):
        assert secret.encode() not in raw, secret
    document = json.loads(raw)
    assert har_problems(document) == []
    kinds = [(e["_kind"], e["_operation"]) for e in document["log"]["entries"]]
    assert kinds == [
        ("request", "createVideoGeneration"),
        ("request", "getTaskDetail"),
        ("request", "getTaskDetail"),
        ("request", "getTaskDetail"),
        ("callback", "taskFinishedCallback"),  # sent while the last poll was answered: it began later
    ]


def test_a_recording_process_killed_with_sigkill_leaves_a_readable_file(tmp_path: Path) -> None:
    recording = tmp_path / "killed.har"
    upstream = Node(["--speed", str(SPEED)], {})
    try:
        proxy = Node(
            ["--upstream", f"evolink={upstream.base}", "--record", str(recording), "--max-creates", "50"], {}
        )
        stop, errors = threading.Event(), []

        def loop() -> None:  # creates and polls until told to stop, or the proxy is gone
            with httpx.Client(
                base_url=proxy.base, headers={"Authorization": "Bearer mock-key"}, timeout=2
            ) as http:
                while not stop.is_set():
                    try:
                        task = http.post("/v1/videos/generations", json=evolink_body()).json()["id"]
                        for _ in range(3):
                            http.get(f"/v1/tasks/{task}")
                    except httpx.HTTPError as error:
                        errors.append(error)
                        return

        client = threading.Thread(target=loop, daemon=True)
        client.start()
        deadline = time.monotonic() + 15
        while (
            not recording.exists() or recording.read_bytes().count(b'"_kind"') < 20
        ) and time.monotonic() < deadline:
            time.sleep(0.01)
        proxy.kill()  # mid-loop: no shutdown, maybe mid-write
        stop.set()
        client.join(10)
    finally:
        upstream.stop()
    exchanges = har.read(recording)
    assert len(exchanges) >= 20
    assert {e.operation for e in exchanges} == {"createVideoGeneration", "getTaskDetail"}
    assert all(e.status == 200 and e.response_body is not None for e in exchanges)
    assert [e.started for e in exchanges] == sorted(e.started for e in exchanges)


def test_the_profile_of_a_recording_shows_its_timing_beside_the_fakes_and_the_settings_to_match(
    upstream_fake: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    recording = tmp_path / "fake.har"
    sock = loopback_socket()
    settings = proxy_settings(upstreams=(f"evolink={upstream_fake}",), record=str(recording))
    with (
        serving(create_app(settings), sock) as proxy,
        httpx.Client(base_url=proxy, headers={"Authorization": "Bearer mock-key"}) as http,
    ):
        tasks = [
            http.post("/v1/videos/generations", json=evolink_body(prompt=prompt)).json()["id"]
            for prompt in ("A cat", "A dog", "A cat [mock:fail=content_policy_violation]")
        ]
        pending = set(tasks)
        deadline = time.monotonic() + 20
        while pending and time.monotonic() < deadline:
            for task in list(pending):
                if http.get(f"/v1/tasks/{task}").json()["status"] in ("completed", "failed"):
                    pending.discard(task)
            time.sleep(0.02)
    monkeypatch.setenv("MOCKSERVER_SPEED", str(SPEED))
    result = CliRunner().invoke(contracts, ["profile", str(recording)])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "evolink: 3 tasks (1 failed, 2 succeeded)" in out
    assert "failure codes seen: content_policy_violation x1" in out
    assert "the fake: 0.05 s" in out and "the fake: 1.925 s" in out  # 2 s and 77 s at speed 40
    line = next(line for line in out.splitlines() if "settings that match" in line)
    queue = float(line.split("MOCKSERVER_QUEUE_SECONDS=")[1].split()[0])
    run = float(line.split("MOCKSERVER_RUN_SECONDS=")[1].split()[0])
    assert 0 <= queue <= 15 and 60 <= run <= 95, line  # the fake's 2 s and 77 s, at its speed, seen by polls
    unreadable = CliRunner().invoke(contracts, ["profile", str(tmp_path / "missing.har")])
    assert unreadable.exit_code == 2
