"""The index (`GET /`, `GET /__mock/`): what the fake serves, under the control plane's access
rules; and the health (`GET /__mock/health`): open to any probe, saying only "ok", or 503 when
the store does not answer."""

from __future__ import annotations

from importlib.metadata import version

import pytest

from mockserver.engine.clock import ClockState
from mockserver.store.memory import MemoryStore
from tests.helpers import client, make_app

pytestmark = pytest.mark.anyio
LOCAL = "http://127.0.0.1:8000"
FOREIGN = {"Host": "evil.example", "Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"}


@pytest.mark.parametrize("path", ["/", "/__mock/"])
async def test_the_index_lists_each_api_with_its_base_urls_spec_and_operations(path: str) -> None:
    app = make_app()
    async with client(app, LOCAL) as http:
        index = (await http.get(path)).json()
        specs = {api["provider"]: (await http.get(api["spec"])).json() for api in index["apis"]}
    assert index["service"] == "mockserver" and index["version"] == version("videogen-mock")
    by_slug = {api["provider"]: api for api in index["apis"]}
    assert by_slug["evolink"]["base_urls"] == [LOCAL, f"{LOCAL}/apiv1"]
    assert by_slug["aimlapi"]["base_urls"] == [LOCAL]
    for slug, spec in specs.items():
        listed = {(op["method"], op["path"]) for op in by_slug[slug]["operations"]}
        documented = {
            (method.upper(), path)
            for path, item in spec["paths"].items()
            for method in item
            if method != "parameters"
        }
        assert listed == documented
    control = {op["operation"] for op in index["control"]["operations"]}
    assert {"getHealth", "advanceClock", "addFault"} <= control
    assert index["control"]["spec"] == f"{LOCAL}/__mock/specs/control"


async def test_the_index_follows_the_control_planes_access_rules() -> None:
    async with client(make_app(), LOCAL) as http:
        assert (await http.get("/", headers={"Host": "evil.example"})).status_code == 403
        assert (await http.get("/__mock/", headers={"Origin": "https://evil.example"})).status_code == 403
    async with client(make_app(control_token="t0ken"), LOCAL) as http:
        assert (await http.get("/__mock/")).status_code == 401
        assert (await http.get("/__mock/", headers={"X-Mock-Token": "t0ken"})).status_code == 200


async def test_health_is_open_to_any_probe_and_says_only_ok() -> None:
    async with client(make_app(host="0.0.0.0", control_token="t0ken"), "http://10.1.2.3:8000") as http:
        answers = [await http.get("/__mock/health"), await http.get("/__mock/health", headers=FOREIGN)]
        refused = await http.get("/__mock/clock")
    assert [(a.status_code, a.json()) for a in answers] == [(200, {"status": "ok"})] * 2
    assert refused.status_code == 401  # the rest of the control plane still takes the token


class FailingStore(MemoryStore):
    down = False

    async def load_clock(self) -> ClockState | None:
        if self.down:
            raise ConnectionError("Connection refused")
        return await super().load_clock()


async def test_health_answers_503_while_the_store_does_not_answer() -> None:
    store = FailingStore()
    async with client(make_app(store=store), LOCAL) as http:
        before = await http.get("/__mock/health")
        store.down = True
        answer = await http.get("/__mock/health")
    assert before.status_code == 200 and answer.status_code == 503
    assert answer.json() == {"error": {"code": "unavailable", "message": "the store does not answer"}}
