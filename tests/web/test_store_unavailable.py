"""A store that does not answer, as each API words it: the operation's documented 503 (evolink's
`current` error style documents none: its 500), always with `X-Mock-Problem` naming the store,
and every body within its spec (the suite's conformance check). In-process, with a memory store
made to refuse; tests/store/test_store_down.py stops a real redis-server."""

from __future__ import annotations

from typing import Any

import pytest

from mockserver.engine.errors import StoreUnavailable
from mockserver.store.memory import MemoryStore
from tests.helpers import AIMLAPI_PATH, AUTH, EVOLINK_CREATE, aimlapi_body, client, evolink_body, make_app

pytestmark = pytest.mark.anyio
STORE = "redis://127.0.0.1:6379/0"
PROBLEM = f"the fake's store does not answer: {STORE}"


class Refusing(MemoryStore):
    """A memory store whose request verbs raise as a shared store out of reach does."""

    down = False

    async def _refuse(self, *args: Any, **kwargs: Any) -> Any:
        raise StoreUnavailable(STORE)

    def __getattribute__(self, name: str) -> Any:
        if name in ("admit", "read_task", "insert_task") and object.__getattribute__(self, "down"):
            return object.__getattribute__(self, "_refuse")
        return super().__getattribute__(name)


REQUESTS = [
    ("POST", EVOLINK_CREATE, {"json": evolink_body()}),
    ("GET", "/v1/tasks/task-unified-1767225600-abcdefgh", {}),
    ("POST", AIMLAPI_PATH, {"json": aimlapi_body()}),
    ("GET", AIMLAPI_PATH, {"params": {"generation_id": "0f8e5b1c-1d2e-4f3a-9b8c-7d6e5f4a3b2c:x"}}),
]


@pytest.mark.parametrize(("method", "path", "options"), REQUESTS)
@pytest.mark.parametrize(("style", "evolink_status"), [("seed", 503), ("current", 500)])
async def test_a_store_that_does_not_answer_gets_the_documented_answer_and_names_the_store(
    method: str, path: str, options: dict[str, Any], style: str, evolink_status: int
) -> None:
    store = Refusing()
    async with client(make_app(store=store, evolink_errors=style)) as http:
        assert (await http.get("/__mock/health")).status_code == 200
        store.down = True
        response = await http.request(method, path, headers=AUTH, **options)
    assert response.status_code == (evolink_status if path.startswith("/v1") else 503)
    assert response.headers["X-Mock-Problem"] == PROBLEM
    assert "error" in response.json() or "message" in response.json()
