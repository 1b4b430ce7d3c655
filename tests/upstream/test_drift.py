"""The drift report (mockserver/upstream/drift.py, checks.py, lifecycle.py): every kind found in
what a drifting upstream does, grouped per provider, operation and kind with a count and a first
example, the same live and offline; a recording of the fake itself reports none; and the offline
command's exit codes and JUnit report."""

from __future__ import annotations

import json
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner

from contracts.cli import main as contracts
from contracts.recordings import analysed
from mockserver import create_app
from mockserver.providers import PROVIDERS
from mockserver.settings import Settings
from mockserver.upstream import har
from mockserver.upstream.drift import KINDS, Analysis
from mockserver.upstream.har import CALLBACK, REQUEST, Observed
from mockserver.upstream.lifecycle import Profile
from mockserver.upstream.shape import Shape
from tests.helpers import AUTH, aimlapi_body, evolink_body
from tests.upstream.conftest import SPEED, proxy_settings
from tests.upstream.drifting import Drifting, task_body
from tests.upstream.servers import Receiver, loopback_socket, serving, url_of

SCRIPTS = (
    "plain",
    "new_word",
    "missing_field",
    "wrong_type",
    "undocumented_status",
    "bad_envelope",
    "text_error",
    "reorder",
    "progress_down",
    "unnamed_field",
    "callback_differs",
    "callback_early",
)
# The drifting upstream's tasks end at once; the proxy's profile expects 10 s queued, 20 s running.
SLOW = {"queue_seconds": 10 * SPEED, "run_seconds": 20 * SPEED}


def environment(**settings: Any) -> dict[str, str]:
    """The MOCKSERVER_* variables the offline command reads, for these proxy settings."""
    return {k: v for k, v in proxy_settings(**settings).to_env().items() if "UPSTREAMS" not in k}


def run_scripts(http: httpx.Client, hooks: str) -> None:
    for name in SCRIPTS:
        body = evolink_body(prompt=f"A cat [drift:{name}]", callback_url=f"{hooks}/hook")
        task = http.post("/v1/videos/generations", json=body).json()["id"]
        for _ in range(4):
            http.get(f"/v1/tasks/{task}")
    invalid = evolink_body(duration=7)  # the spec's enum is 5 or 10; this upstream takes anything
    assert http.post("/v1/videos/generations", json=invalid).status_code == 200


def test_every_drift_kind_is_reported_grouped_the_same_live_and_offline(
    drifting: tuple[Drifting, str],
    receiver: tuple[Receiver, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, base = drifting
    got, hooks = receiver
    recording = tmp_path / "drift.har"
    sock = loopback_socket()
    settings = proxy_settings(
        upstreams=(f"evolink={base}",), public_url=url_of(sock), record=str(recording), **SLOW
    )
    with serving(create_app(settings), sock) as proxy, httpx.Client(base_url=proxy, headers=AUTH) as http:
        run_scripts(http, hooks)
        got.wait(3)  # plain, callback_differs, callback_early
        deadline = time.monotonic() + 10
        while http.get("/__mock/drift").json()["callbacks"] < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        live = http.get("/__mock/drift").json()
    found = {(f["operation"], f["kind"]): f for f in live["findings"]}
    expected = {
        ("getTaskDetail", kind)
        for kind in (
            "new_status_word",
            "missing_field",
            "wrong_type",
            "undocumented_status",
            "error_envelope",
            "content_type",
            "unnamed_field",
            "status_order",
            "progress_down",
            "queue_time",
            "run_time",
        )
    } | {
        ("createVideoGeneration", "request_accepted"),
        ("taskFinishedCallback", "callback_body"),
        ("taskFinishedCallback", "callback_early"),
    }
    assert expected <= set(found), sorted(set(found))
    assert live["drift"] is True and live["callbacks"] == 3
    (note,) = live["notes"]  # the scripts that send no callback
    assert note.startswith(f"{len(SCRIPTS) - 3} task(s) asked for a callback and none was observed")
    assert found[("getTaskDetail", "new_status_word")]["first"]["detail"].startswith('status "succeeded"')
    assert found[("getTaskDetail", "status_order")]["first"]["detail"].endswith("'processing' then 'pending'")
    assert found[("getTaskDetail", "progress_down")]["count"] == 2  # reordered (40 then 0), and 60 then 30
    assert "usage.credits_reserved" in found[("taskFinishedCallback", "callback_body")]["first"]["detail"]
    assert found[("getTaskDetail", "unnamed_field")]["first"]["detail"] == "eta_ms"
    assert found[("getTaskDetail", "unnamed_field")]["severity"] == "info"
    # seen queued, then running: all but the three whose second answer is an error
    assert found[("getTaskDetail", "queue_time")]["count"] == len(SCRIPTS) - 3
    assert all(f["count"] >= 1 and f["first"]["started"] for f in live["findings"])
    # The same report offline, from the recording, with the same settings.
    for name, value in environment(**SLOW).items():
        monkeypatch.setenv(name, value)
    offline = analysed(recording)[0].report()
    assert [(g.operation, g.kind.name, g.count) for g in offline.groups] == [
        (f["operation"], f["kind"], f["count"]) for f in live["findings"]
    ]
    junit = tmp_path / "drift.xml"
    result = CliRunner().invoke(contracts, ["drift", "--recording", str(recording), "--junit", str(junit)])
    assert result.exit_code == 1, result.output
    assert "new_status_word" in result.output and "callback_early" in result.output
    suite = ET.parse(junit).getroot()
    failed = {case.get("name") for case in suite.iter("testcase") if case.find("failure") is not None}
    assert failed == {"getTaskDetail", "createVideoGeneration", "taskFinishedCallback"}
    assert suite.get("failures") == "3"


def test_a_recording_of_the_fake_itself_reports_no_drift(
    upstream_fake: str, receiver: tuple[Receiver, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    got, hooks = receiver
    recording = tmp_path / "fake.har"
    sock = loopback_socket()
    upstreams = (f"evolink={upstream_fake}", f"aimlapi={upstream_fake}")
    settings = proxy_settings(upstreams=upstreams, public_url=url_of(sock), record=str(recording))
    with serving(create_app(settings), sock) as proxy, httpx.Client(base_url=proxy, headers=AUTH) as http:
        tasks = [
            (
                "evolink",
                http.post("/v1/videos/generations", json=evolink_body(callback_url=f"{hooks}/a")).json(),
            ),
            (
                "evolink",
                http.post(
                    "/v1/videos/generations",
                    json=evolink_body(
                        prompt="A cat [mock:fail=content_policy_violation]", callback_url=f"{hooks}/b"
                    ),
                ).json(),
            ),
            ("aimlapi", http.post("/v2/video/generations", json=aimlapi_body()).json()),
        ]
        for provider, task in tasks:
            finish(http, provider, task["id"])
        assert http.get("/v1/tasks/task-unified-1767225600-nosuchid").status_code == 404
        assert (
            http.post("/v1/videos/generations", json={"model": "kling-o1-image-to-video"}).status_code == 400
        )
        assert (
            http.get(
                "/v2/video/generations", params={"generation_id": "x"}, headers={"Authorization": "Bearer no"}
            ).status_code
            == 401
        )
        got.wait(2)
        deadline = time.monotonic() + 10
        while http.get("/__mock/drift").json()["callbacks"] < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        live = http.get("/__mock/drift").json()
    assert live["findings"] == [] and live["drift"] is False, json.dumps(live, indent=1)
    assert live["callbacks"] == 2 and live["tasks"] == 3 and live["notes"] == []
    for name, value in environment().items():
        monkeypatch.setenv(name, value)
    result = CliRunner().invoke(contracts, ["drift", "--recording", str(recording)])
    assert result.exit_code == 0, result.output
    assert "no drift" in result.output


def finish(http: httpx.Client, provider: str, task: str) -> dict[str, Any]:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if provider == "evolink":
            body = http.get(f"/v1/tasks/{task}").json()
        else:
            body = http.get("/v2/video/generations", params={"generation_id": task}).json()
        if body["status"] in ("completed", "failed", "error"):
            return dict(body)
        time.sleep(0.05)
    raise AssertionError(f"{task} did not finish")


# -- the offline command ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (None, "cannot read"),
        (b"not a recording", "not JSON"),
        (b'{"log": {"version": "1.2", "entries": [{"request": {}}]}}', "none of its 1 entries"),
    ],
)
def test_an_unreadable_recording_exits_2_saying_why(tmp_path: Path, content: bytes | None, says: str) -> None:
    path = tmp_path / "x.har"
    if content is not None:
        path.write_bytes(content)
    result = CliRunner().invoke(contracts, ["drift", "--recording", str(path)])
    assert result.exit_code == 2 and says in result.output


def test_an_empty_recording_has_no_drift(tmp_path: Path) -> None:
    path = tmp_path / "empty.har"
    har.Recorder(path)
    junit = tmp_path / "j.xml"
    result = CliRunner().invoke(contracts, ["drift", "--recording", str(path), "--junit", str(junit)])
    assert result.exit_code == 0 and "0 exchanges" in result.output
    assert ET.parse(junit).getroot().get("failures") == "0"


@pytest.mark.parametrize(
    "arguments", [[], ["vendor.yaml", "--recording", "x.har"], ["vendor.yaml", "--junit", "j"]]
)
def test_the_drift_command_takes_a_vendor_file_or_a_recording(arguments: list[str]) -> None:
    result = CliRunner().invoke(contracts, ["drift", *arguments])
    assert result.exit_code == 2


# -- lifecycle judgments, one exchange at a time --------------------------------------------

TASK = "task-unified-1767225600-abcdefgh"
T0 = 1_767_225_600.0


def exchange(
    at: float, status: str | None, progress: int = 0, *, kind: str = REQUEST, **changes: Any
) -> har.Exchange:
    body = task_body(TASK, int(T0), status or "pending", progress, **changes)
    create = status is None
    seen = Observed(
        provider="evolink",
        operation="createVideoGeneration"
        if create
        else "taskFinishedCallback"
        if kind == CALLBACK
        else "getTaskDetail",
        kind=kind,
        task=TASK,
        key=None,
        started=T0 + at,
        method="POST" if create or kind == CALLBACK else "GET",
        url=f"https://api.evolink.ai/v1/{'videos/generations' if create else f'tasks/{TASK}'}",
        request_headers=[("Content-Type", "application/json")],
        request_body=json.dumps(evolink_body() if create else body if kind == CALLBACK else {}).encode()
        if create or kind == CALLBACK
        else b"",
        status=200,
        response_headers=[("Content-Type", "application/json")],
        response_body=json.dumps(body).encode(),
    )
    return har.exchange_of(har.entry_of(seen))


def judged(*exchanges: har.Exchange, queue: float = 2.0, run: float = 77.0) -> set[tuple[str, str]]:
    provider = PROVIDERS["evolink"]
    analysis = Analysis({"evolink": Shape.of(provider, provider.spec())}, Profile(queue, run, 3.0))
    for each in exchanges:
        analysis.add(each)
    return {(g.kind.name, g.first.detail) for g in analysis.report().groups}


def test_a_lifecycle_like_the_fakes_is_no_drift() -> None:
    assert (
        judged(
            exchange(0, None),
            exchange(1, "pending"),
            exchange(3, "processing", 1),
            exchange(50, "processing", 60),
            exchange(80, "completed", 100),
            exchange(80.5, "completed", 100, kind=CALLBACK),
            exchange(81, "completed", 100),
        )
        == set()
    )


def test_a_queue_far_longer_and_a_run_far_shorter_than_the_fakes_are_drift() -> None:
    found = judged(
        exchange(0, None),
        exchange(30, "pending"),
        exchange(31, "processing", 5),
        exchange(33, "completed", 100),
    )
    assert {kind for kind, _ in found} == {"queue_time", "run_time"}
    assert any("queued 30.0-31.0 s; the fake queues 2 s" in detail for _, detail in found)


def test_a_task_still_running_long_past_the_fakes_run_is_drift() -> None:
    found = judged(exchange(0, None), exchange(1, "processing", 1), exchange(400, "processing", 40))
    assert [kind for kind, _ in found] == ["run_time"]
    assert "still running after 399.0 s" in next(iter(found))[1]


def test_a_finished_task_that_changes_its_outcome_is_out_of_order() -> None:
    found = judged(
        exchange(0, None),
        exchange(1, "processing", 5),
        exchange(2, "failed", 5),
        exchange(3, "completed", 100),
        queue=0.0,
        run=2.0,
    )
    assert ("status_order", f"{TASK}: 'failed' then 'completed'") in found


def test_a_callback_differing_only_in_a_signed_links_query_is_no_drift() -> None:
    query = exchange(80, "completed", 100, results=["https://cdn.example.com/v.mp4?sig=one"])
    callback = exchange(
        79, "completed", 100, kind=CALLBACK, results=["https://cdn.example.com/v.mp4?sig=two"]
    )
    assert judged(query, callback) == set()
    other = exchange(79, "completed", 100, kind=CALLBACK, results=["https://cdn.example.com/other.mp4"])
    assert {kind for kind, _ in judged(query, other)} == {"callback_body"}


def test_every_kind_has_a_description_and_a_severity() -> None:
    assert all(kind.description and kind.severity in ("drift", "info") for kind in KINDS.values())
    assert Settings().drift_time_factor == 3.0
