"""Redis calls and round trips per request with the shared store, in-process: the calls counted
where the store makes them (`Connection.call` and `.transaction`, mockserver/store/connection.py:
a command, a script or a transaction, each answered once), and the writes that carry them (the
calls of one turn of the event loop share one: a write and its replies are a round trip), for
polls and creates sent one at a time and 32 at a time. See bench/README.md ("Redis store").

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
# Real seconds for the journal entries of the requests sent to be written: a write and its
# answer take well under a millisecond on loopback.
SETTLE = 0.2


async def _round_trips(url: str, requests: int, concurrency: int) -> dict[str, dict[str, float]]:
    """Redis calls and writes to Redis per poll and per create, in-process."""
    from mockserver import Settings, create_app
    from mockserver.store.connection import Connection, Link

    counts = {"calls": 0, "writes": 0}
    call, transaction, write = Connection.call, Connection.transaction, Link._write

    def counted_call(self: Connection, *args: Any) -> Any:
        counts["calls"] += 1
        return call(self, *args)

    def counted_transaction(self: Connection, *commands: Any) -> Any:
        counts["calls"] += 1
        return transaction(self, *commands)

    def counted_write(self: Link) -> None:
        counts["writes"] += 1
        write(self)

    Connection.call, Connection.transaction = counted_call, counted_transaction  # type: ignore[method-assign]
    Link._write = counted_write  # type: ignore[method-assign]
    app = create_app(Settings(clock="manual", seed=1, store=url))
    transport = httpx.ASGITransport(app=app)
    found: dict[str, dict[str, float]] = {}
    async with httpx.AsyncClient(transport=transport, base_url="http://fake") as http:
        task = (await http.post(CREATE, headers=AUTH, json=EVOLINK_BODY)).json()["id"]
        for name, send in (
            ("create", lambda: http.post(CREATE, headers=AUTH, json=EVOLINK_BODY)),
            ("poll", lambda: http.get(POLL.format(task), headers=AUTH)),
        ):
            for label, width in (("one at a time", 1), (f"{concurrency} at a time", concurrency)):
                await asyncio.sleep(SETTLE)  # the journal entries of earlier requests are written
                before = dict(counts)
                for _ in range(requests // width):
                    await asyncio.gather(*(send() for _ in range(width)))
                await asyncio.sleep(SETTLE)  # and those of these requests
                sent = requests // width * width
                found[f"{name}, {label}"] = {k: round((counts[k] - before[k]) / sent, 3) for k in counts}
        await app.state.mock.runtime.stop()
    Connection.call, Connection.transaction, Link._write = call, transaction, write  # type: ignore[method-assign]
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
    print("| requests | Redis calls per request | writes to Redis per request |\n|---|---:|---:|")
    print("\n".join(f"| {name} | {got['calls']} | {got['writes']} |" for name, got in found.items()))


if __name__ == "__main__":
    main()
