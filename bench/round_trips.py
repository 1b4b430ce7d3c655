"""Redis round trips per request with the shared store, in-process: each Redis command or
script call is one round trip (the store sends no pipelines), counted at redis-py's
`execute_command` for polls and creates sent one at a time and 32 at a time. See bench/README.md
("With the Redis store").

    python bench/round_trips.py        # a private redis-server on a free loopback port

Needs `redis-server` (Debian: apt-get install redis-server).
"""

from __future__ import annotations

import argparse
import asyncio
import json
from typing import Any

import httpx
from bodies import EVOLINK_BODY, KEY
from servers import ROOT
from stores import PRIVATE, store_url, unavailable

AUTH = {"Authorization": f"Bearer {KEY}"}
CREATE, POLL = "/v1/videos/generations", "/v1/tasks/{}"


async def _round_trips(url: str, requests: int, concurrency: int) -> dict[str, float]:
    """Redis commands sent per poll and per create, in-process (each command or script call
    is one round trip: the store sends no pipelines)."""
    from redis.asyncio import Redis

    from mockserver import Settings, create_app

    sent = 0
    original = Redis.execute_command

    async def counted(self: Redis, *args: Any, **options: Any) -> Any:
        nonlocal sent
        sent += 1
        return await original(self, *args, **options)

    Redis.execute_command = counted  # type: ignore[method-assign]
    app = create_app(Settings(clock="manual", seed=1, store=url))
    transport = httpx.ASGITransport(app=app)
    found: dict[str, float] = {}
    async with httpx.AsyncClient(transport=transport, base_url="http://fake") as http:
        task = (await http.post(CREATE, headers=AUTH, json=EVOLINK_BODY)).json()["id"]
        store = app.state.mock.engine.store
        for name, call in (
            ("create", lambda: http.post(CREATE, headers=AUTH, json=EVOLINK_BODY)),
            ("poll", lambda: http.get(POLL.format(task), headers=AUTH)),
        ):
            for label, width in (("one at a time", 1), (f"{concurrency} at a time", concurrency)):
                await store._drain()  # journal entries of earlier requests are not counted
                before = sent
                for _ in range(requests // width):
                    await asyncio.gather(*(call() for _ in range(width)))
                await store._drain()
                found[f"{name}, {label}"] = round((sent - before) / (requests // width * width), 3)
        await app.state.mock.runtime.stop()
    Redis.execute_command = original  # type: ignore[method-assign]
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--requests", type=int, default=640, help="requests per count")
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()
    reason = unavailable(PRIVATE)
    if reason:
        raise SystemExit(reason)
    with store_url(PRIVATE, None) as (url, _):
        found = asyncio.run(_round_trips(url, args.requests, args.concurrency))
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "round_trips.json").write_text(json.dumps(found, indent=2))
    print("| Redis round trips per request | measured |\n|---|---:|")
    print("\n".join(f"| {name} | {value} |" for name, value in found.items()))


if __name__ == "__main__":
    main()
