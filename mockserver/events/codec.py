"""Events as JSON bytes and back, for the transport between processes: the envelope, and the
data in the store codec's forms (a task, a delivery, a rule, a clock as the Redis store keeps them).

Events layer: the engine's records and the store codec.
"""

from __future__ import annotations

from typing import Any

import orjson

from mockserver.engine import events as kinds
from mockserver.engine.events import Event, EventData
from mockserver.engine.tasks import TaskStatus
from mockserver.store import codec


def _data(data: EventData) -> dict[str, Any]:
    if isinstance(data, (kinds.TaskCreated, kinds.TaskEnded)):
        return {"task": codec.encode_task(data.task).decode()}
    if isinstance(data, kinds.TaskChanged):
        task = codec.encode_task(data.task).decode()
        return {"task": task, "status": data.status.value, "progress": data.progress}
    if isinstance(data, kinds.Requested):
        return {"entry": codec.encode_entry(data.entry).decode()}
    if isinstance(data, kinds.CallbackScheduled):
        return {"delivery": codec.encode_delivery(data.delivery).decode()}
    if isinstance(data, kinds.CallbackAttempted):
        return {"delivery": codec.encode_delivery(data.delivery).decode(), "number": data.number}
    if isinstance(data, kinds.ClockMoved):
        return {"clock": codec.encode_clock(data.clock).decode()}
    if isinstance(data, (kinds.RuleAdded, kinds.RuleUsed)):
        return {"rule": codec.encode_rule(data.rule).decode()}
    if isinstance(data, kinds.Reset):
        return {"key": data.key}
    return {}  # rules.cleared


def _decoded(kind: str, fields: dict[str, Any]) -> EventData:
    record = kinds.KINDS[kind]
    if record in (kinds.TaskCreated, kinds.TaskEnded):
        return record(codec.decode_task(fields["task"]))
    if record is kinds.TaskChanged:
        return kinds.TaskChanged(
            codec.decode_task(fields["task"]), TaskStatus(fields["status"]), fields["progress"]
        )
    if record is kinds.Requested:
        return kinds.Requested(codec.decode_entry(fields["entry"]))
    if record is kinds.CallbackScheduled:
        return kinds.CallbackScheduled(codec.decode_delivery(fields["delivery"]))
    if record is kinds.CallbackAttempted:
        return kinds.CallbackAttempted(codec.decode_delivery(fields["delivery"]), fields["number"])
    if record is kinds.ClockMoved:
        return kinds.ClockMoved(codec.decode_clock(fields["clock"]))
    if record in (kinds.RuleAdded, kinds.RuleUsed):
        return record(codec.decode_rule(fields["rule"]))
    if record is kinds.Reset:
        return kinds.Reset(fields["key"])
    return kinds.RulesCleared()


def encode(event: Event) -> bytes:
    return orjson.dumps(
        {
            "kind": event.kind,
            "time": event.time,
            "wall": event.wall,
            "key": event.key,
            "node": event.node,
            "data": _data(event.data),
        }
    )


def decode_batch(raw: bytes | str) -> list[Event]:
    """A batch as `encode_batch` made it."""
    return [
        Event(_decoded(item["kind"], item["data"]), item["time"], item["wall"], item["key"], item["node"])
        for item in orjson.loads(raw)
    ]


def encode_batch(encoded: list[bytes]) -> bytes:
    return b"[" + b",".join(encoded) + b"]"
