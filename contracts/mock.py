"""The fake from Python: its control plane as methods, in-process (`VideoMock`, with the
providers' real hosts routed to it from every installed HTTP library: `contracts/routing/`) or
on a loopback port (`VideoMockServer`).

Contracts layer.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

import httpx

from contracts.routing import Hosts, InProcess, routed
from contracts.routing.callbacks import Receivers
from contracts.routing.httpx_route import InProcessTransport
from contracts.server import serve
from mockserver import Fake, Settings, create_app
from mockserver.control import CONTROL
from mockserver.providers import PROVIDERS
from mockserver.spec import problems

# The real services' hosts, which code under test uses; all of them reach the fake.
PROVIDER_HOSTS = tuple(dict.fromkeys(host for p in PROVIDERS.values() for host in p.hosts))
CONTROL_URL = "http://video-mock.internal"
ADVANCE = "advanceClock"  # the control plane's operation `advance` calls directly


def _shown(entry: dict[str, Any]) -> str:
    """A journal entry on one line, for assertion messages."""
    fault = f" ({entry['fault']})" if entry["fault"] else ""
    return f"#{entry['seq']} {entry['method']} {entry['path']} -> {entry['status']}{fault}"


class MockControl:
    """The control plane (`/__mock/...`, openapi/control.yaml) as Python methods."""

    def __init__(self, http: httpx.Client) -> None:
        self.http = http

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.http.request(method, f"/__mock{path}", **kwargs)
        if response.status_code >= 400:
            raise AssertionError(f"control plane {method} {path}: {response.status_code} {response.text}")
        return response.json()

    def now(self) -> float:
        return float(self._call("GET", "/clock")["now"])

    def advance(self, seconds: float) -> float:
        """Move fake time forward (running due effects, callbacks included); the new time."""
        return float(self._call("POST", "/clock/advance", json={"seconds": seconds})["now"])

    def reset(self, key: str | None = None) -> None:
        """Forget everything, or with `key` only that key's tasks, faults, journal, spending and
        rate limit (other tests sharing the fake keep theirs)."""
        self._call("POST", "/reset", params={"key": key} if key else None)

    def tasks(self, provider: str | None = None) -> list[dict[str, Any]]:
        """Every task (the listing's pages, followed to the end)."""
        found: list[dict[str, Any]] = []
        after: str | None = None
        while True:
            params = {k: v for k, v in {"provider": provider, "after": after, "limit": 1000}.items() if v}
            page = self._call("GET", "/tasks", params=params)
            found += page["tasks"]
            after = page["next"]
            if after is None:
                return found

    def task(self, task_id: str) -> dict[str, Any]:
        return dict(self._call("GET", f"/tasks/{task_id}"))

    def complete(self, task_id: str) -> dict[str, Any]:
        return dict(self._call("POST", f"/tasks/{task_id}/complete"))

    def fail(self, task_id: str, code: str | None = None, message: str | None = None) -> dict[str, Any]:
        body = {k: v for k, v in {"code": code, "message": message}.items() if v is not None}
        return dict(self._call("POST", f"/tasks/{task_id}/fail", json=body))

    def cancel(self, task_id: str) -> dict[str, Any]:
        return dict(self._call("POST", f"/tasks/{task_id}/cancel"))

    def add_fault(
        self,
        operation: str | None = None,
        status: int | None = None,
        *,
        fault: str | None = None,
        fail: str | None = None,
        callback: str | None = None,
        count: int = 1,
        key: str | None = None,
        probability: float | None = None,
        retry_after: int | None = None,
    ) -> dict[str, Any]:
        """Arm a rule: the next `count` requests to `operation` (any when None) with `key` (any
        when None) answer `status`, or meet `fault` (`delay=2`, `reset`, `lost`, `truncate`, ...);
        a matching create's task fails as `fail` says, its callback as `callback` says. With
        `probability`, requests meet it by a draw from the fake's seed."""
        body = {
            "operation": operation,
            "status": status,
            "fault": fault,
            "fail": fail,
            "callback": callback,
            "count": count,
            "key": key,
            "probability": probability,
            "retry_after": retry_after,
        }
        return dict(self._call("POST", "/faults", json={k: v for k, v in body.items() if v is not None}))

    def faults(self) -> list[dict[str, Any]]:
        return list(self._call("GET", "/faults")["faults"])

    def clear_faults(self) -> None:
        self._call("DELETE", "/faults")

    def requests(
        self,
        provider: str | None = None,
        operation: str | None = None,
        *,
        key: str | None = None,
        status: int | None = None,
        since: int | None = None,
    ) -> list[dict[str, Any]]:
        """The journal, oldest first, filtered: each entry has method, path, query, headers (the
        key as its fingerprint), body, status (None: no answer), duration, fault and task."""
        filters = {"provider": provider, "operation": operation, "key": key, "status": status, "since": since}
        params = {k: v for k, v in filters.items() if v is not None}
        return list(self._call("GET", "/requests", params=params)["requests"])

    def assert_requests(self, count: int, **filters: Any) -> list[dict[str, Any]]:
        """Exactly `count` journal entries match `filters` (those of `requests`); they are
        returned, and listed in the failure when the count differs."""
        found = self.requests(**filters)
        if len(found) != count:
            listing = "\n".join("  " + _shown(entry) for entry in found)
            raise AssertionError(
                f"expected {count} request(s) matching {filters}, found {len(found)}"
                + (f":\n{listing}" if found else "")
            )
        return found

    def verdicts(
        self, key: str | None = None, min_poll_interval: float | None = None, since: int | None = None
    ) -> dict[str, Any]:
        """The fake's verdicts on the client (`GET /__mock/verdicts`)."""
        params = {"key": key, "min_poll_interval": min_poll_interval, "since": since}
        return dict(self._call("GET", "/verdicts", params={k: v for k, v in params.items() if v is not None}))

    def assert_well_behaved(
        self, key: str | None = None, min_poll_interval: float | None = None, since: int | None = None
    ) -> None:
        """Fail, listing each finding and its evidence, unless the client passed every verdict:
        no polling faster than `min_poll_interval`, Retry-After honoured, no polling after the
        end, no create repeated after a lost answer, no key sent for result files, no task left
        unfollowed."""
        report = self.verdicts(key, min_poll_interval, since)
        if report["passed"]:
            return
        lines = []
        for verdict in report["verdicts"]:
            for finding in verdict["findings"]:
                lines.append(f"{verdict['check']}: {finding['summary']}")
                lines += ["    " + _shown(entry) for entry in finding["evidence"]]
        raise AssertionError("the client is not well behaved:\n" + "\n".join(lines))

    def callbacks(self) -> list[dict[str, Any]]:
        return list(self._call("GET", "/callbacks")["callbacks"])

    def redeliver(self, delivery_id: str) -> dict[str, Any]:
        return dict(self._call("POST", f"/callbacks/{delivery_id}/redeliver"))


class VideoMock(MockControl):
    """The fake in-process; requests to the providers' real hosts, from any routed library,
    reach it, and any other way out to them fails (`guard`). Its callbacks go to the apps
    `callbacks` names by base URL ({"https://myapp.example.com": app}, ASGI or WSGI) and to
    loopback receivers; to no other host unless `real_callbacks`."""

    # The real services' base URLs by name: code under test may use any of them.
    urls = {name: url for p in PROVIDERS.values() for name, url in p.base_urls.items()}

    def __init__(
        self,
        settings: Settings,
        hosts: tuple[str, ...] = PROVIDER_HOSTS,
        *,
        guard: bool = True,
        callbacks: Mapping[str, Any] | None = None,
        real_callbacks: bool = False,
    ) -> None:
        receivers = None if real_callbacks else Receivers(callbacks or {})
        self.app = create_app(
            settings,
            resolver=receivers.resolve if receivers is not None else None,
            callback_transport=receivers,
        )
        self.hosts, self.guarded = hosts, guard
        self.in_process = InProcess(self.app)
        validator = self.state.specs[CONTROL].operations[ADVANCE].body_validator
        assert validator is not None  # the operation has a body
        self._advance_body = validator
        super().__init__(httpx.Client(transport=InProcessTransport(self.in_process), base_url=CONTROL_URL))
        self._routes = contextlib.ExitStack()

    @property
    def state(self) -> Fake:
        fake: Fake = self.app.state.mock
        return fake

    def now(self) -> float:
        """Fake time now, read from the engine (no request); from the shared store's clock,
        on the fake's loop, when other processes may move it."""
        if not self.state.settings.shared:
            return self.state.engine.now()
        return self.in_process.call(self._now)

    def advance(self, seconds: float) -> float:
        """Move fake time forward (running due effects, callbacks included); the new time.
        Called on the fake directly, as `POST /__mock/clock/advance` would."""
        found = problems(self._advance_body, {"seconds": seconds})  # openapi/control.yaml's rule
        if found:
            raise AssertionError(f"control plane advance: {'; '.join(map(str, found))}")
        return self.in_process.call(self._advance, float(seconds))

    async def _now(self) -> float:
        await self.state.engine.sync_clock()
        return self.state.engine.now()

    async def _advance(self, seconds: float) -> float:
        runtime = self.state.runtime
        await runtime.ensure_started()
        await runtime.advance(seconds)
        return self.state.engine.now()

    def __enter__(self) -> VideoMock:
        self._routes.enter_context(routed(Hosts(self.hosts), self.in_process, guarded=self.guarded))
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self._routes.close()
        self.in_process.call(self.state.runtime.stop)
        self.in_process.close()
        self.http.close()


class VideoMockServer(MockControl):
    """The fake on a free 127.0.0.1 port, for clients that do not use httpx."""

    def __init__(self, settings: Settings) -> None:
        self.app = create_app(settings)
        self._stack = contextlib.ExitStack()
        self.base_url = ""
        super().__init__(httpx.Client(base_url=CONTROL_URL))

    def __enter__(self) -> VideoMockServer:
        self.base_url = self._stack.enter_context(serve(self.app))
        self.http = httpx.Client(base_url=self.base_url, timeout=30)
        return self

    def __exit__(self, *exc: object) -> None:
        self.http.close()
        self._stack.close()

    @property
    def urls(self) -> dict[str, str]:
        """The same names as `VideoMock.urls`, on this server (a mirror's path kept)."""
        return {
            name: self.base_url + urlsplit(url).path.rstrip("/")
            for p in PROVIDERS.values()
            for name, url in p.base_urls.items()
        }


# Marker options that are not Settings: what the in-process fake routes, guards and calls back.
ROUTING_OPTIONS = ("hosts", "guard", "callbacks", "real_callbacks")


@contextlib.contextmanager
def video_mock(**options: Any) -> Iterator[VideoMock]:
    """`with video_mock(seed=1) as mock:` outside pytest (the marker's options)."""
    with in_process(options) as mock:
        yield mock


def in_process(options: dict[str, Any]) -> VideoMock:
    """A `VideoMock` from the marker's options: `hosts` (more hosts to route), `guard`,
    `callbacks`, `real_callbacks`, and any Settings field."""
    values = dict(options)
    routing = {name: values.pop(name) for name in ROUTING_OPTIONS if name in values}
    hosts = tuple(dict.fromkeys((*PROVIDER_HOSTS, *routing.pop("hosts", ()))))
    return VideoMock(plugin_settings(values), hosts, **routing)


def plugin_settings(options: dict[str, Any]) -> Settings:
    """Marker options onto Settings: a manual clock and seed 0 unless asked, and any key
    accepted unless `keys` are given (code under test uses whatever key it has)."""
    values = dict(options)
    values.setdefault("clock", "manual")
    values.setdefault("seed", 0)
    if "keys" in values:
        values["keys"] = tuple(values["keys"])
    else:
        values.setdefault("accept_any_key", True)
    return Settings(**values)
