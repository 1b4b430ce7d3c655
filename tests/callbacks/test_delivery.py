"""Callback delivery: schedule on the fake's clock, failure rules, SSRF guard, journal.

No test opens a connection to anything but 127.0.0.1: DNS is an injected resolver and the
network an injected transport, and `socket.connect` is watched to prove it.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Iterator, Sequence
from typing import Any

import httpx
import jsonschema_rs
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mockserver.callbacks.guard import CallbackGuard, CallbackRefused, ip_literal, is_public
from mockserver.cli import banner
from mockserver.engine.deliveries import Delivery
from mockserver.engine.timers import Timer
from mockserver.spec import read_document
from mockserver.store.memory import MemoryStore
from tests.helpers import (
    AUTH,
    EVOLINK_CREATE,
    advance,
    client,
    evolink_body,
    live_server,
    make_app,
    make_settings,
)

pytestmark = pytest.mark.anyio
PUBLIC_IP = "93.184.216.34"
HOOK = "https://hooks.example.com/video-done"
START = 1767225600.0
CALLBACK_SCHEMA = jsonschema_rs.validator_for(
    {"$ref": "#/components/schemas/TaskDetailResponse", "components": read_document("evolink")["components"]},
    validate_formats=True,
)


class Resolver:
    def __init__(self, answers: dict[str, list[str]]) -> None:
        self.answers, self.calls = answers, []  # type: list[str]

    async def __call__(self, host: str, port: int) -> list[str]:
        self.calls.append(host)
        if host not in self.answers:
            raise OSError(f"no such host {host}")
        return self.answers[host]


class Receiver(httpx.AsyncBaseTransport):
    """Answers each request with the next scripted status, "hang", or "refuse"."""

    def __init__(self, *script: int | str) -> None:
        self.script, self.requests = list(script), []  # type: list[httpx.Request]

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        action = self.script.pop(0) if len(self.script) > 1 else self.script[0]
        if action == "hang":
            await asyncio.Event().wait()
        if action == "refuse":
            raise httpx.ConnectError("connection refused", request=request)
        headers = {"Location": "https://elsewhere.example.com/"} if str(action).startswith("3") else {}
        return httpx.Response(int(action), headers=headers, request=request)


@pytest.fixture(autouse=True)
def watched_sockets(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Any]]:
    """Fail any connection to an address that is not loopback."""
    attempts: list[Any] = []
    real_connect = socket.socket.connect

    def connect(self: socket.socket, address: Any) -> Any:
        attempts.append(address)
        host = address[0] if isinstance(address, tuple) else str(address)
        if host not in ("127.0.0.1", "::1"):
            raise AssertionError(f"a test tried to connect to {address}")
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    yield attempts


def app_with(receiver: Receiver, resolver: Resolver | None = None, **settings: Any) -> Starlette:
    resolver = resolver or Resolver({"hooks.example.com": [PUBLIC_IP]})
    settings.setdefault("settle_seconds", 0.05)
    return make_app(resolver=resolver, callback_transport=receiver, **settings)


async def deliveries(http: httpx.AsyncClient) -> list[dict[str, Any]]:
    response = await http.get("/__mock/callbacks")
    return list(response.json()["callbacks"])


def attempt_times(delivery: dict[str, Any]) -> list[float]:
    return [round(a["time"] - START, 3) for a in delivery["attempts"]]


async def test_a_receiver_answering_500_500_500_200_gets_four_attempts_at_t_1_3_7() -> None:
    receiver = Receiver(500, 500, 500, 200)
    async with client(app_with(receiver)) as http:
        await http.post(EVOLINK_CREATE, headers=AUTH, json=evolink_body(callback_url=HOOK))
        await advance(http, 79 + 20)
        [delivery] = await deliveries(http)
    assert attempt_times(delivery) == [79, 80, 82, 86]
    assert [a["outcome"] for a in delivery["attempts"]] == ["http_error"] * 3 + ["success"]
    assert [a["status_code"] for a in delivery["attempts"]] == [500, 500, 500, 200]
    assert delivery["state"] == "delivered" and len(receiver.requests) == 4


async def test_the_schedule_runs_step_by_step_as_time_is_advanced() -> None:
    receiver = Receiver(503, 200)
    async with client(app_with(receiver)) as http:
        await http.post(EVOLINK_CREATE, headers=AUTH, json=evolink_body(callback_url=HOOK))
        await advance(http, 79)
        assert len(receiver.requests) == 1
        await advance(http, 0.99)
        assert len(receiver.requests) == 1
        await advance(http, 0.01)
        assert len(receiver.requests) == 2
        [delivery] = await deliveries(http)
    assert delivery["state"] == "delivered"


async def test_a_receiver_that_never_answers_gets_four_attempts_each_cut_at_10_s() -> None:
    receiver = Receiver("hang")
    async with client(app_with(receiver)) as http:
        await http.post(EVOLINK_CREATE, headers=AUTH, json=evolink_body(callback_url=HOOK))
        await advance(http, 79 + 60)
        [delivery] = await deliveries(http)
    assert attempt_times(delivery) == [79, 90, 102, 116]  # each cut at 10 s, then 1/2/4 s later
    assert [a["outcome"] for a in delivery["attempts"]] == ["timeout"] * 4
    assert [a["duration"] for a in delivery["attempts"]] == [10.0] * 4
    assert delivery["state"] == "failed"


@pytest.mark.parametrize("status", [301, 302, 307])
async def test_a_redirect_is_a_failure_and_is_not_followed(status: int) -> None:
    receiver = Receiver(status, 200)
    async with client(app_with(receiver)) as http:
        await http.post(EVOLINK_CREATE, headers=AUTH, json=evolink_body(callback_url=HOOK))
        await advance(http, 80)
        [delivery] = await deliveries(http)
    first, second = delivery["attempts"]
    assert first["outcome"] == "redirect" and first["detail"] == "https://elsewhere.example.com/"
    assert second["outcome"] == "success"
    assert [r.url.host for r in receiver.requests] == [PUBLIC_IP, PUBLIC_IP]  # never the Location


async def test_a_connection_error_is_a_failure_that_is_retried() -> None:
    receiver = Receiver("refuse", 204)
    async with client(app_with(receiver)) as http:
        await http.post(EVOLINK_CREATE, headers=AUTH, json=evolink_body(callback_url=HOOK))
        await advance(http, 81)
        [delivery] = await deliveries(http)
    assert [a["outcome"] for a in delivery["attempts"]] == ["connection_error", "success"]


async def test_the_attempt_connects_to_the_checked_address_keeping_the_name_for_host_and_tls() -> None:
    receiver = Receiver(200)
    resolver = Resolver({"hooks.example.com": [PUBLIC_IP]})
    async with client(app_with(receiver, resolver)) as http:
        task = (await http.post(EVOLINK_CREATE, headers=AUTH, json=evolink_body(callback_url=HOOK))).json()
        await advance(http, 79)
    [request] = receiver.requests
    assert (
        request.url.host == PUBLIC_IP and request.url.scheme == "https" and request.url.path == "/video-done"
    )
    assert request.headers["host"] == "hooks.example.com"
    assert request.extensions["sni_hostname"] == "hooks.example.com"
    assert request.headers["content-type"] == "application/json"
    body = json.loads(request.content)
    assert body["id"] == task["id"] and body["status"] == "completed"
    assert resolver.calls == ["hooks.example.com", "hooks.example.com"]  # at create and at the attempt


HOSTILE = [
    "https://127.0.0.1/hook",
    "https://localhost/hook",
    "https://LOCALHOST./hook",
    "https://api.localhost/hook",
    "https://[::1]/hook",
    "https://10.0.0.1/hook",
    "https://172.16.0.1/hook",
    "https://172.31.255.254/hook",
    "https://192.168.1.1/hook",
    "https://169.254.169.254/latest/meta-data",
    "https://0.0.0.0/hook",
    "https://100.64.0.1/hook",
    "https://[::ffff:127.0.0.1]/hook",
    "https://[::ffff:10.0.0.1]/hook",
    "https://2130706433/hook",
    "https://127.1/hook",
    "https://0x7f000001/hook",
    "https://017700000001/hook",
    "https://0x7f.1/hook",
    "https://[fe80::1]/hook",
    "https://[fc00::1]/hook",
    "https://[fd12:3456::1]/hook",
    "https://192.0.2.10/hook",
    "https://198.51.100.7/hook",
    "https://203.0.113.9/hook",
    "https://198.18.0.1/hook",
    "https://224.0.0.1/hook",
    "https://239.255.255.250/hook",
    "https://[ff02::1]/hook",
    "https://255.255.255.255/",
    "http://hooks.example.com/hook",
    "ftp://hooks.example.com/hook",
    "https://hooks.example.com/" + "a" * 2030,
    "https://user@127.0.0.1:8443/hook",
    # IPv4 hidden in other forms: a trailing dot, IPv4-compatible, NAT64, 6to4, Teredo, site-local.
    "https://127.0.0.1./hook",
    "https://[::127.0.0.1]/hook",
    "https://[::7f00:1]/hook",
    "https://[64:ff9b::127.0.0.1]/hook",
    "https://[64:ff9b:1::a00:1]/hook",
    "https://[2002:7f00:1::1]/hook",
    "https://[2001:0:4136:e378:8000:63bf:80ff:fffe]/hook",
    "https://[fec0::1]/hook",
]


@pytest.mark.parametrize("url", HOSTILE)
async def test_every_hostile_callback_url_is_refused_at_create_with_no_socket_opened(
    url: str, watched_sockets: list[Any]
) -> None:
    resolver = Resolver({})
    async with client(app_with(Receiver(200), resolver)) as http:
        response = await http.post(EVOLINK_CREATE, headers=AUTH, json=evolink_body(callback_url=url))
        tasks = (await http.get("/__mock/tasks")).json()["tasks"]
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "callback_url"
    assert tasks == [] and resolver.calls == [] and watched_sockets == []


@pytest.mark.parametrize("private", ["10.1.2.3", "127.0.0.1", "::1", "fd00::5", "169.254.169.254"])
async def test_a_name_that_resolves_to_a_private_address_is_refused_at_create(private: str) -> None:
    resolver = Resolver({"hooks.example.com": [PUBLIC_IP, private]})  # one bad address is enough
    async with client(app_with(Receiver(200), resolver)) as http:
        response = await http.post(EVOLINK_CREATE, headers=AUTH, json=evolink_body(callback_url=HOOK))
    assert response.status_code == 400 and response.json()["error"]["param"] == "callback_url"


async def test_a_name_that_resolves_to_a_private_address_at_delivery_is_refused_then() -> None:
    resolver = Resolver({"hooks.example.com": [PUBLIC_IP]})
    receiver = Receiver(200)
    async with client(app_with(receiver, resolver)) as http:
        await http.post(EVOLINK_CREATE, headers=AUTH, json=evolink_body(callback_url=HOOK))
        resolver.answers["hooks.example.com"] = ["192.168.0.10"]  # DNS rebinding
        await advance(http, 79 + 10)
        [delivery] = await deliveries(http)
    assert [a["outcome"] for a in delivery["attempts"]] == ["refused"] * 4
    assert "192.168.0.10" in delivery["attempts"][0]["detail"]
    assert receiver.requests == [] and delivery["state"] == "failed"


async def test_an_unresolvable_name_is_accepted_at_create_and_a_connection_error_at_delivery() -> None:
    receiver = Receiver(200)
    async with client(app_with(receiver, Resolver({}))) as http:
        created = await http.post(EVOLINK_CREATE, headers=AUTH, json=evolink_body(callback_url=HOOK))
        await advance(http, 79)
        [delivery] = await deliveries(http)
    assert created.status_code == 200
    assert delivery["attempts"][0]["outcome"] == "connection_error" and receiver.requests == []


@pytest.mark.parametrize(("action", "code"), [("cancel", "request_cancelled"), ("fail", "service_error")])
async def test_cancelled_and_failed_tasks_call_back_with_a_spec_valid_body(action: str, code: str) -> None:
    receiver = Receiver(200)
    async with client(app_with(receiver)) as http:
        task = (await http.post(EVOLINK_CREATE, headers=AUTH, json=evolink_body(callback_url=HOOK))).json()
        await advance(http, 10)
        await http.post(f"/__mock/tasks/{task['id']}/{action}")
        await advance(http, 0)
        [delivery] = await deliveries(http)
    body = json.loads(receiver.requests[0].content)
    assert body["status"] == "failed" and body["error"] == {
        "code": code,
        "message": body["error"]["message"],
        "type": "task_error",
    }
    assert CALLBACK_SCHEMA.is_valid(body) and delivery["body"] == body
    assert attempt_times(delivery) == [10]


async def test_completed_callback_body_validates_and_has_the_result_url() -> None:
    receiver = Receiver(200)
    async with client(app_with(receiver), base_url="http://fake.test") as http:
        await http.post(EVOLINK_CREATE, headers=AUTH, json=evolink_body(callback_url=HOOK, duration=10))
        await advance(http, 79)
    body = json.loads(receiver.requests[0].content)
    errors = [e.message for e in CALLBACK_SCHEMA.iter_errors(body)]
    assert errors == [] and body["progress"] == 100
    assert body["results"][0].startswith("http://fake.test/files/")


async def test_redeliver_sends_the_body_again_as_a_new_delivery() -> None:
    receiver = Receiver(200)
    async with client(app_with(receiver)) as http:
        await http.post(EVOLINK_CREATE, headers=AUTH, json=evolink_body(callback_url=HOOK))
        await advance(http, 79)
        [first] = await deliveries(http)
        again = await http.post(f"/__mock/callbacks/{first['id']}/redeliver")
        await advance(http, 0)
        listed = await deliveries(http)
        missing = await http.post("/__mock/callbacks/cb-99/redeliver")
    assert again.status_code == 202 and again.json()["id"] != first["id"]
    assert len(listed) == 2 and listed[1]["state"] == "delivered" and listed[1]["body"] == first["body"]
    assert len(receiver.requests) == 2 and missing.status_code == 404


async def test_many_callbacks_in_flight_at_once_are_all_delivered() -> None:
    class SlowReceiver(Receiver):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            self.requests.append(request)
            await asyncio.sleep(0.02)
            return httpx.Response(200, request=request)

    receiver = SlowReceiver(200)
    async with client(app_with(receiver, settle_seconds=2.0)) as http:
        for _ in range(100):
            await http.post(EVOLINK_CREATE, headers=AUTH, json=evolink_body(callback_url=HOOK))
        started = time.perf_counter()
        await advance(http, 79)
        elapsed = time.perf_counter() - started
        states = [d["state"] for d in await deliveries(http)]
    assert states == ["delivered"] * 100 and len(receiver.requests) == 100
    assert elapsed < 1.5  # concurrent, not 100 x 20 ms in a row


class SlowToRecordStore(MemoryStore):
    """Takes `seconds` of real time to record an attempt as sent (a busy shared store)."""

    def __init__(self, seconds: float) -> None:
        super().__init__()
        self.seconds = seconds

    async def swap_delivery(
        self, old: Delivery, new: Delivery, timers: Sequence[Timer], cancel: Sequence[Timer] = ()
    ) -> bool:
        if len(new.attempts) > len(old.attempts):
            await asyncio.sleep(self.seconds)
        return await super().swap_delivery(old, new, timers, cancel)


async def test_on_a_real_clock_the_timeout_counts_from_the_request_not_from_the_fake_recording_it() -> None:
    class AnswersIn(Receiver):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            self.requests.append(request)
            await asyncio.sleep(0.6)  # 0.6 s of the 1 s it has (10 fake seconds at 10x)
            return httpx.Response(200, request=request)

    receiver = AnswersIn(200)
    # The attempt is recorded 0.5 s before its request sets off: 1.1 s after the recorded time.
    app = app_with(
        receiver, clock="real", speed=10, queue_seconds=0, run_seconds=1, store=SlowToRecordStore(0.5)
    )
    async with client(app) as http:
        await http.post(EVOLINK_CREATE, headers=AUTH, json=evolink_body(callback_url=HOOK))
        deadline = time.monotonic() + 10
        while (listed := await deliveries(http)) == [] or listed[0]["state"] == "pending":
            assert time.monotonic() < deadline, listed
            await asyncio.sleep(0.05)
    assert [a["outcome"] for a in listed[0]["attempts"]] == ["success"] and len(receiver.requests) == 1


async def test_a_hanging_callback_does_not_block_request_handling() -> None:
    async with client(app_with(Receiver("hang"))) as http:
        task = (await http.post(EVOLINK_CREATE, headers=AUTH, json=evolink_body(callback_url=HOOK))).json()
        await advance(http, 79)
        started = time.perf_counter()
        detail = await http.get(f"/v1/tasks/{task['id']}", headers=AUTH)
        assert time.perf_counter() - started < 0.5
        [delivery] = await deliveries(http)
    assert detail.json()["status"] == "completed" and delivery["state"] == "pending"


def test_ip_literals_are_decided_without_a_lookup() -> None:
    assert str(ip_literal("2130706433")) == "127.0.0.1" and str(ip_literal("0x7f.1")) == "127.0.0.1"
    assert ip_literal("hooks.example.com") is None and ip_literal("1e100.net") is None
    assert is_public(ip_literal(PUBLIC_IP)) and not is_public(ip_literal("::ffff:10.0.0.1"))  # type: ignore[arg-type]
    # A public IPv4 inside NAT64 or 6to4 stays public; the forms themselves are not refused.
    assert is_public(ip_literal("64:ff9b::5db8:d822")) and is_public(ip_literal("2002:5db8:d822::1"))  # type: ignore[arg-type]
    assert str(ip_literal("127.0.0.1.")) == "127.0.0.1"


async def test_an_allowed_host_takes_plain_http_and_private_addresses_and_the_banner_says_so() -> None:
    guard = CallbackGuard(["127.0.0.1", "[::1]"], Resolver({}))
    assert (await guard.vet("http://127.0.0.1:9000/hook"))[1] == "127.0.0.1"
    assert (await guard.vet("http://[::1]:9000/hook"))[1] == "::1"
    with pytest.raises(CallbackRefused):
        await guard.vet("http://10.0.0.1/hook")
    assert "CALLBACKS to local receivers are ON for: 127.0.0.1" in banner(
        make_settings(allow_callback_hosts=("127.0.0.1",)), 1
    )
    assert "CALLBACKS" not in banner(make_settings(), 1)


def test_end_to_end_over_real_sockets_a_receiver_gets_the_body_well_under_a_second() -> None:
    received: list[tuple[float, dict[str, Any]]] = []
    answers = [500, 200]
    got_body = threading.Event()

    async def hook(request: Request) -> Response:
        received.append((time.monotonic(), json.loads(await request.body())))
        status = answers.pop(0) if answers else 200
        if status == 200:
            got_body.set()
        return Response(status_code=status)

    receiver_app = Starlette(routes=[Route("/hook", hook, methods=["POST"])])
    # At 200x, 79 fake seconds take 0.4 s; the attempt timeout (which scales too) is raised so
    # that a slow first loopback connection on a busy machine is not cut at 50 ms.
    fake = make_app(clock="real", speed=200, callback_timeout=100, allow_callback_hosts=("127.0.0.1",))
    with live_server(receiver_app) as receiver_base, live_server(fake) as fake_base:
        started = time.monotonic()
        created = httpx.post(
            f"{fake_base}{EVOLINK_CREATE}",
            headers=AUTH,
            json=evolink_body(callback_url=f"{receiver_base}/hook"),
        )
        assert created.status_code == 200, created.text
        assert got_body.wait(5)
        elapsed = time.monotonic() - started
        callbacks = httpx.get(f"{fake_base}/__mock/callbacks").json()["callbacks"]
    assert elapsed < 1.0  # 79 fake seconds and a 1 s retry at 200x
    (first_at, first), (second_at, second) = received
    assert first == second and second["id"] == created.json()["id"] and second["status"] == "completed"
    assert 0.004 < second_at - first_at < 0.5  # the 1 s retry delay, scaled by the speed factor
    assert [a["outcome"] for a in callbacks[0]["attempts"]] == ["http_error", "success"]


# -- callback chaos (X-Mock-Callback, [mock:callback=...], rules) -----------------------------


async def create_with_chaos(http: httpx.AsyncClient, how: str, chaos: str) -> dict[str, Any]:
    headers, body = dict(AUTH), evolink_body(callback_url=HOOK)
    if how == "header":
        headers["X-Mock-Callback"] = chaos
    elif how == "directive":
        body["prompt"] += f" [mock:callback={chaos}]"
    else:
        rule = {"operation": "createVideoGeneration", "callback": chaos}
        assert (await http.post("/__mock/faults", json=rule)).status_code == 201
    response = await http.post(EVOLINK_CREATE, headers=headers, json=body)
    assert response.status_code == 200, response.text
    return dict(response.json())


@pytest.mark.parametrize("how", ["header", "directive", "rule"])
async def test_a_dropped_callback_is_never_sent_and_the_callback_journal_says_so(how: str) -> None:
    receiver = Receiver(200)
    async with client(app_with(receiver)) as http:
        task = await create_with_chaos(http, how, "drop")
        await advance(http, 200)
        [delivery] = await deliveries(http)
    assert receiver.requests == []
    assert delivery["state"] == "dropped" and delivery["attempts"] == [] and delivery["task_id"] == task["id"]


@pytest.mark.parametrize("how", ["header", "directive", "rule"])
async def test_a_duplicated_callback_is_sent_twice_with_the_same_body(how: str) -> None:
    receiver = Receiver(200)
    async with client(app_with(receiver)) as http:
        task = await create_with_chaos(http, how, "duplicate")
        await advance(http, 79)
        both = await deliveries(http)
    assert [d["state"] for d in both] == ["delivered", "delivered"]
    assert [attempt_times(d) for d in both] == [[79], [79]]
    first, second = (json.loads(r.content) for r in receiver.requests)
    assert first == second and first["id"] == task["id"] and first["status"] == "completed"


@pytest.mark.parametrize("how", ["header", "directive", "rule"])
async def test_a_delayed_callback_is_sent_that_many_fake_seconds_late(how: str) -> None:
    receiver = Receiver(500, 200)
    async with client(app_with(receiver)) as http:
        await create_with_chaos(http, how, "delay=30")
        await advance(http, 79 + 29)
        assert receiver.requests == []
        await advance(http, 1)
        assert len(receiver.requests) == 1
        await advance(http, 10)
        [delivery] = await deliveries(http)
    assert attempt_times(delivery) == [109, 110]  # late, then the usual retry schedule
    assert delivery["state"] == "delivered"


async def test_a_callback_can_be_duplicated_and_late_and_a_failed_task_calls_back_too() -> None:
    receiver = Receiver(200)
    async with client(app_with(receiver)) as http:
        headers = {**AUTH, "X-Mock-Callback": "duplicate;delay=5", "X-Mock-Fail": "service_error;after=0"}
        await http.post(EVOLINK_CREATE, headers=headers, json=evolink_body(callback_url=HOOK))
        await advance(http, 5)
        both = await deliveries(http)
    assert [attempt_times(d) for d in both] == [[5], [5]]
    assert {json.loads(r.content)["status"] for r in receiver.requests} == {"failed"}
