"""A Hypothesis state machine over create / advance clock / poll / inject fault / cancel for
both providers, with invariants on status order, progress, ETA, results, expiry of result
URLs, credits and callbacks (each finished task with a callback_url has one delivery)."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from mockserver.engine.ids import fingerprint
from mockserver.providers import PROVIDERS
from mockserver.transport import SyncASGITransport
from tests.helpers import AUTH, KEY, aimlapi_body, evolink_body, make_app, state_of

CREDITS = {"evolink": 60, "aimlapi": 9_000_000}  # each provider's own unit
COST = {"evolink": {5: 7, 10: 14}, "aimlapi": {5: 1_120_000, 10: 2_240_000}}
RETENTION = 7 * 86400
RESULT_TTL = 86400
HOOK = "https://hooks.example.com/done"
FINISHED = {"aimlapi": {"completed", "error"}, "evolink": {"completed", "failed"}}


async def public_resolver(host: str, port: int) -> list[str]:
    return ["93.184.216.34"]


@dataclass
class Seen:
    provider: str
    id: str
    callback: bool
    created_at: float
    rank: int = 0
    progress: int = 0
    eta: int | None = None
    finished_at: float | None = None
    expired: bool = False


class Lifecycle(RuleBasedStateMachine):
    @initialize()
    def start(self) -> None:
        receiver = httpx.MockTransport(lambda request: httpx.Response(200))
        self.app = make_app(
            credits=CREDITS, resolver=public_resolver, callback_transport=receiver, settle_seconds=1.0
        )
        self.transport = SyncASGITransport(self.app)
        self.http = httpx.Client(transport=self.transport, base_url="http://fake.test")
        self.tasks: list[Seen] = []
        self.spent = {"evolink": 0, "aimlapi": 0}

    def teardown(self) -> None:
        if hasattr(self, "http"):
            self.http.close()

    def now(self) -> float:
        return float(self.http.get("/__mock/clock").json()["now"])

    def get(self, task: Seen, headers: dict[str, str] = AUTH) -> httpx.Response:
        if task.provider == "evolink":
            return self.http.get(f"/v1/tasks/{task.id}", headers=headers)
        return self.http.get("/v2/video/generations", params={"generation_id": task.id}, headers=headers)

    def expired(self, task: Seen) -> bool:
        """Tasks are forgotten a week after they end: then both views say 404, never sooner."""
        if self.http.get(f"/__mock/tasks/{task.id}").status_code != 404:
            return False
        assert self.now() >= task.created_at + RETENTION
        assert self.get(task).status_code == 404
        task.expired = True
        return True

    @rule(
        provider=st.sampled_from(["aimlapi", "evolink"]),
        duration=st.sampled_from([5, 10]),
        callback=st.booleans(),
        fail=st.booleans(),
    )
    def create(self, provider: str, duration: int, callback: bool, fail: bool) -> None:
        prompt = "a cat [mock:fail=service_error]" if fail else "a cat"
        if provider == "evolink":
            body = evolink_body(duration=duration, prompt=prompt, callback_url=HOOK if callback else None)
            response = self.http.post("/v1/videos/generations", headers=AUTH, json=body)
        else:
            body = aimlapi_body(duration=duration, prompt=prompt.replace("service_error", "GenerationError"))
            response = self.http.post("/v2/video/generations", headers=AUTH, json=body)
        if self.spent[provider] + COST[provider][duration] > CREDITS[provider]:
            assert response.status_code == (402 if provider == "evolink" else 403)
            return
        assert response.status_code == 200, response.text
        self.spent[provider] += COST[provider][duration]
        self.tasks.append(
            Seen(provider, response.json()["id"], callback and provider == "evolink", self.now())
        )

    @rule(seconds=st.sampled_from([0.5, 1, 3, 20, 40, 80, RESULT_TTL, 3 * 86400]))
    def advance(self, seconds: float) -> None:
        assert self.http.post("/__mock/clock/advance", json={"seconds": seconds}).status_code == 200

    @precondition(lambda self: bool(self.tasks))
    @rule(index=st.integers(min_value=0))
    def poll(self, index: int) -> None:
        task = self.tasks[index % len(self.tasks)]
        if self.expired(task):
            return
        view = self.http.get(f"/__mock/tasks/{task.id}").json()
        now = self.now()
        response = self.get(task)
        assert response.status_code == 200, response.text
        body = response.json()
        rank = PROVIDERS[task.provider].status_order()[body["status"]]
        assert rank >= task.rank, f"{task.id} moved back to {body['status']}"
        task.rank = rank
        finished = body["status"] in FINISHED[task.provider]
        if task.provider == "evolink":
            assert body["progress"] >= task.progress
            task.progress = body["progress"]
            eta = body["task_info"].get("estimated_time")
            assert (eta is None) == finished
            if eta is not None and task.eta is not None:
                assert eta <= task.eta
            task.eta = eta
            url = (body.get("results") or [None])[0]
        else:
            url = (body.get("video") or {}).get("url")
        assert (url is not None) == (body["status"] == "completed")
        if url is not None:
            expires = view["result_expires_at"]
            assert self.http.get(url).status_code == (200 if now < expires else 404)

    @precondition(lambda self: bool(self.tasks))
    @rule(index=st.integers(min_value=0), status=st.sampled_from([429, 500, 503]))
    def inject_fault(self, index: int, status: int) -> None:
        task = self.tasks[index % len(self.tasks)]
        rule_body = {"operation": PROVIDERS[task.provider].retrieve_operation, "status": status}
        assert self.http.post("/__mock/faults", json=rule_body).status_code == 201
        assert self.get(task).status_code == status
        assert not self.http.get("/__mock/faults").json()["faults"]

    @precondition(lambda self: bool(self.tasks))
    @rule(index=st.integers(min_value=0))
    def cancel(self, index: int) -> None:
        task = self.tasks[index % len(self.tasks)]
        if self.expired(task):
            return
        was = self.http.get(f"/__mock/tasks/{task.id}").json()
        response = self.http.post(f"/__mock/tasks/{task.id}/cancel")
        finished = was["status"] in ("succeeded", "failed")
        assert response.status_code == (409 if finished else 200)
        if not finished:
            assert response.json()["error_code"] == "request_cancelled"

    @invariant()
    def credits_match_what_was_created(self) -> None:
        if hasattr(self, "app"):
            engine = state_of(self.app).engine
            for provider, spent in self.spent.items():
                balance = self.transport.call(engine.balance, fingerprint(KEY), provider)
                assert balance == CREDITS[provider] - spent

    @invariant()
    def each_finished_task_with_a_callback_has_one_delivery(self) -> None:
        if not hasattr(self, "app"):
            return
        deliveries = self.http.get("/__mock/callbacks").json()["callbacks"]
        for task in self.tasks:
            if not task.callback:
                continue
            view = self.http.get(f"/__mock/tasks/{task.id}")
            if view.status_code == 404:  # past retention: forgotten with its deliveries
                continue
            finished = view.json()["status"] in ("succeeded", "failed")
            mine = [d for d in deliveries if d["task_id"] == task.id]
            assert len(mine) == (1 if finished else 0), (task.id, finished, mine)
            if mine:  # the receiver always answers 200; an attempt may still be in flight
                assert mine[0]["state"] in ("pending", "delivered")


Lifecycle.TestCase.settings = settings(max_examples=40, stateful_step_count=25, deadline=None)
TestLifecycle = Lifecycle.TestCase
