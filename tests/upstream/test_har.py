"""The recording format (mockserver/upstream/har.py): HAR 1.2 after every exchange, read back in
the order exchanges began, a cut file's complete entries kept, and no secret in any byte."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from mockserver.engine.ids import fingerprint
from mockserver.upstream import har
from mockserver.upstream.har import CALLBACK, REQUEST, HarError, Observed, Recorder
from tests.upstream.harschema import har_problems

KEY = "sk-live-0123456789abcdef"
SIGNED = "https://cdn.example.com/v/abc.mp4?X-Amz-Signature=deadbeefcafe&Expires=1767225600"
HOOK = "https://hooks.example.com/video?token=whsec_topsecret"
JSON = [("Content-Type", "application/json")]


def observed(started: float = 1_767_225_600.25, **changes: Any) -> Observed:
    seen = Observed(
        provider="evolink",
        operation="getTaskDetail",
        kind=REQUEST,
        task="task-unified-1767225600-abcdefgh",
        key=fingerprint(KEY),
        started=started,
        method="GET",
        url="https://api.evolink.ai/v1/tasks/task-unified-1767225600-abcdefgh",
        request_headers=[("Authorization", f"Bearer {KEY}"), ("Accept", "*/*")],
        request_body=b"",
        status=200,
        response_headers=JSON,
        response_body=json.dumps({"id": "task-unified-1767225600-abcdefgh", "status": "completed"}).encode(),
        wait=0.120,
        receive=0.003,
    )
    return replace(seen, **changes)


def document(path: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(path.read_bytes())
    return loaded


def test_a_recording_is_valid_har_1_2_after_every_exchange(tmp_path: Path) -> None:
    path = tmp_path / "run.har"
    recorder = Recorder(path)
    assert har_problems(document(path)) == [] and document(path)["log"]["entries"] == []
    for n in range(3):
        recorder.write(observed(1_767_225_600.0 + n))
        loaded = document(path)
        assert har_problems(loaded) == []
        assert len(loaded["log"]["entries"]) == n + 1
    assert loaded["log"]["creator"]["name"] == "videogen-mock" and loaded["log"]["version"] == "1.2"
    recorder.close()


def test_read_gives_each_exchange_back_with_its_fields(tmp_path: Path) -> None:
    path = tmp_path / "run.har"
    recorder = Recorder(path)
    body = json.dumps({"model": "kling-o1-image-to-video", "prompt": "A cat"}).encode()
    recorder.write(
        observed(
            operation="createVideoGeneration",
            method="POST",
            url="https://api.evolink.ai/v1/videos/generations",
            request_headers=[("Authorization", f"Bearer {KEY}"), *JSON],
            request_body=body,
        )
    )
    (exchange,) = har.read(path)
    assert (exchange.provider, exchange.operation, exchange.kind, exchange.task, exchange.key) == (
        "evolink",
        "createVideoGeneration",
        REQUEST,
        "task-unified-1767225600-abcdefgh",
        fingerprint(KEY),
    )
    assert exchange.started == pytest.approx(1_767_225_600.25, abs=0.001)
    assert (exchange.method, exchange.url, exchange.status) == (
        "POST",
        "https://api.evolink.ai/v1/videos/generations",
        200,
    )
    assert exchange.request_body == {"model": "kling-o1-image-to-video", "prompt": "A cat"}
    assert exchange.response_body == {"id": "task-unified-1767225600-abcdefgh", "status": "completed"}
    assert exchange.request_headers["authorization"] == f"Bearer {fingerprint(KEY)}"
    assert exchange.response_headers["content-type"] == "application/json"
    assert exchange.content_type == "application/json"
    assert exchange.entry["timings"] == {"send": 0, "wait": 120.0, "receive": 3.0}


def test_an_exchange_that_began_before_others_ended_is_recorded_in_front_of_them(tmp_path: Path) -> None:
    path = tmp_path / "run.har"
    recorder = Recorder(path)
    for started, task in [(20.0, "c"), (10.0, "a"), (15.0, "b"), (30.0, "d"), (5.0, "first")]:
        recorder.write(observed(1_767_225_600.0 + started, task=task))
        assert har_problems(document(path)) == []
    tasks = [entry["_task"] for entry in document(path)["log"]["entries"]]
    assert tasks == ["first", "a", "b", "c", "d"]
    assert [e.task for e in har.read(path)] == tasks


def test_a_file_cut_anywhere_keeps_its_complete_entries(tmp_path: Path) -> None:
    path = tmp_path / "run.har"
    recorder = Recorder(path)
    for n in range(3):
        recorder.write(observed(1_767_225_600.0 + n, task=f"t{n}"))
    recorder.close()
    whole = path.read_bytes()
    ends = [whole.index(b'"_key"', whole.index(f'"_task":"t{n}"'.encode())) for n in range(3)]
    cut = tmp_path / "cut.har"
    for size in range(whole.index(b"[") + 1, len(whole), 11):
        cut.write_bytes(whole[:size])
        complete = sum(1 for end in ends if whole.index(b"}", end) + 1 <= size)
        assert len(har.read(cut)) == complete, size


def test_a_recorder_continues_an_existing_recording_and_repairs_a_cut_one(tmp_path: Path) -> None:
    path = tmp_path / "run.har"
    recorder = Recorder(path)
    recorder.write(observed(1_767_225_600.0, task="old"))
    recorder.write(observed(1_767_225_601.0, task="cut"))
    recorder.close()
    whole = path.read_bytes()
    path.write_bytes(whole[: whole.index(b'"_task":"cut"')])  # killed mid-entry
    again = Recorder(path)
    again.write(observed(1_767_225_602.0, task="new"))
    assert har_problems(document(path)) == []
    assert [e.task for e in har.read(path)] == ["old", "new"]


def test_keys_and_signed_links_never_reach_the_file(tmp_path: Path) -> None:
    path = tmp_path / "run.har"
    recorder = Recorder(path)
    create = {"model": "m", "prompt": "p", "callback_url": HOOK, "image_urls": [SIGNED]}
    recorder.write(
        observed(
            method="POST",
            url=f"https://api.evolink.ai/v1/videos/generations?api_key={KEY}",
            request_headers=[
                ("Authorization", f"Bearer {KEY}"),
                ("X-Api-Key", KEY),
                ("Cookie", f"session={KEY}"),
                ("X-Mock-Token", "control-secret"),
                *JSON,
            ],
            request_body=json.dumps(create).encode(),
            response_headers=[*JSON, ("Set-Cookie", f"s={KEY}")],
            # Go's encoder writes `&` as \u0026; some encoders `/` as \/
            response_body=b'{"results": ["%s"], "go": "%s"}'
            % (SIGNED.replace("/", "\\/").encode(), SIGNED.replace("&", "\\u0026").encode()),
        )
    )
    recorder.write(
        observed(
            kind=CALLBACK, method="POST", url=HOOK, request_body=json.dumps({"results": [SIGNED]}).encode()
        )
    )
    raw = path.read_bytes()
    for secret in (KEY, "whsec_topsecret", "deadbeefcafe", "control-secret", "Expires="):
        assert secret.encode() not in raw, secret
    create_entry, callback_entry = document(path)["log"]["entries"]
    headers = {h["name"]: h["value"] for h in create_entry["request"]["headers"]}
    assert headers["Authorization"] == f"Bearer {fingerprint(KEY)}"
    assert headers["Cookie"] == "redacted"
    sent = json.loads(create_entry["request"]["postData"]["text"])
    assert sent["callback_url"] == "https://hooks.example.com/video?redacted"
    assert sent["image_urls"] == ["https://cdn.example.com/v/abc.mp4?redacted"]
    assert callback_entry["request"]["url"] == "https://hooks.example.com/video?redacted"


def test_record_secrets_keeps_signed_links_but_never_a_key(tmp_path: Path) -> None:
    path = tmp_path / "run.har"
    recorder = Recorder(path, keep_secrets=True)
    recorder.write(
        observed(
            kind=CALLBACK, method="POST", url=HOOK, request_body=json.dumps({"results": [SIGNED]}).encode()
        )
    )
    raw = path.read_bytes()
    assert SIGNED.encode() in raw and HOOK.encode() in raw
    assert KEY.encode() not in raw


def test_a_body_that_is_not_text_is_kept_as_base64(tmp_path: Path) -> None:
    path = tmp_path / "run.har"
    Recorder(path).write(
        observed(response_headers=[("Content-Type", "video/mp4")], response_body=b"\x00\xff\xfe")
    )
    content = document(path)["log"]["entries"][0]["response"]["content"]
    assert content == {"size": 3, "mimeType": "video/mp4", "text": "AP/+", "encoding": "base64"}
    assert har.read(path)[0].response_body is None


def test_entries_of_other_tools_are_left_out(tmp_path: Path) -> None:
    path = tmp_path / "run.har"
    Recorder(path).write(observed())
    loaded = document(path)
    foreign = {key: value for key, value in loaded["log"]["entries"][0].items() if not key.startswith("_")}
    loaded["log"]["entries"].append(foreign)
    path.write_text(json.dumps(loaded))
    assert len(har.read(path)) == 1 and len(har.entries(path)) == 2


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (None, "cannot read"),
        (b"hello", "not JSON"),
        (b'{"log": {}}', "no log.entries"),
        (b"[1, 2]", "no log.entries"),
    ],
)
def test_what_is_not_a_recording_is_refused_with_the_reason(
    tmp_path: Path, content: bytes | None, says: str
) -> None:
    path = tmp_path / "other.har"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(HarError, match=says):
        har.read(path)


def test_a_recorder_refuses_to_overwrite_what_is_not_a_recording(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("my notes")
    with pytest.raises(HarError):
        Recorder(path)
    assert path.read_text() == "my notes"
