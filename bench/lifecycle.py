"""In-process lifecycle throughput under the manual clock: 100,000 tasks created, run to
completion and observed completed, at the engine level (what the fake does per task), and a
smaller run through the whole app (HTTP requests in-process over httpx.ASGITransport).

Prints one JSON object; bench/run.py includes it in its report.
"""

from __future__ import annotations

import asyncio
import json
import time

import httpx

from mockserver import Settings, create_app
from mockserver.engine import Engine, NewTask, Task, TaskStatus, starting_state
from mockserver.engine.ids import fingerprint
from mockserver.providers.evolink.wire import new_task_id
from mockserver.store.memory import MemoryStore

TASKS = 100_000
APP_TASKS = 5_000
BODY = {"model": "kling-o1-image-to-video", "prompt": "A cat", "image_urls": ["https://example.com/a.jpg"]}


async def engine_lifecycles(count: int) -> float:
    """Create, complete (each with a callback URL, so each has a timed end event) and read back."""
    engine = Engine(MemoryStore(), starting_state("manual", 1.0, 1_767_225_600.0), seed=1, keys=("k",))
    key = fingerprint("k")
    ended = 0

    async def on_end(task: Task) -> None:
        nonlocal ended
        ended += 1

    engine.on_task_end(on_end)
    new = NewTask("evolink", "m", 5, "16:9", 7, new_task_id, callback_url="https://hooks.example.com/done")
    start = time.perf_counter()
    tasks = [(await engine.create(engine.gate("create", key, True), new))[0] for _ in range(count)]
    await engine.advance(80)
    gate = engine.gate("get", key, True)
    completed = 0
    for task in tasks:
        completed += engine.observe((await engine.get(gate, task.id))[0]).status is TaskStatus.SUCCEEDED
    elapsed = time.perf_counter() - start
    assert completed == count == ended, (completed, ended)
    return elapsed


async def app_lifecycles(count: int) -> float:
    app = create_app(Settings(clock="manual", seed=1))
    auth = {"Authorization": "Bearer mock-key"}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench") as http:
        start = time.perf_counter()
        ids = [
            (await http.post("/v1/videos/generations", headers=auth, json=BODY)).json()["id"]
            for _ in range(count)
        ]
        await http.post("/__mock/clock/advance", json={"seconds": 80})
        done = [(await http.get(f"/v1/tasks/{task_id}", headers=auth)).json()["status"] for task_id in ids]
        elapsed = time.perf_counter() - start
    assert done == ["completed"] * count
    return elapsed


def main() -> None:
    engine_seconds = asyncio.run(engine_lifecycles(TASKS))
    app_seconds = asyncio.run(app_lifecycles(APP_TASKS))
    print(
        json.dumps(
            {
                f"{TASKS} lifecycles in-process, engine, manual clock (s)": round(engine_seconds, 2),
                "engine lifecycles per second": round(TASKS / engine_seconds),
                f"{APP_TASKS} lifecycles through the app in-process, HTTP via ASGITransport (s)": round(
                    app_seconds, 2
                ),
                "app lifecycles per second (create + advance + poll)": round(APP_TASKS / app_seconds),
            }
        )
    )


if __name__ == "__main__":
    main()
