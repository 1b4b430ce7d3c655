"""The engine's records as JSON bytes and back: how a shared store keeps them, and how the
test suite's copying store proves that nothing relies on a stored object staying the same.

Store layer.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import orjson

from mockserver.engine.clock import ClockState
from mockserver.engine.deliveries import Attempt, Delivery
from mockserver.engine.faults import Fault, FaultRule
from mockserver.engine.journal import JournalEntry
from mockserver.engine.tasks import (
    CallbackPlan,
    Ending,
    Failure,
    Observation,
    Plan,
    Script,
    Stall,
    Task,
    TaskStatus,
)
from mockserver.engine.timers import Timer

_TASK_FIELDS = Task._fields


def _failure(value: dict[str, Any] | None) -> Failure | None:
    return None if value is None else Failure(**value)


def _task_plan(value: dict[str, Any] | None) -> Plan | None:
    """A failure names its code; a stall does not."""
    if value is None:
        return None
    return Failure(**value) if "code" in value else Stall(**value)


def _script(value: dict[str, Any] | None) -> Script | None:
    if value is None:
        return None
    observations = tuple(
        Observation(o["offset"], TaskStatus(o["status"]), o["progress"], o["remaining"], o["word"])
        for o in value["observations"]
    )
    return Script(observations, _failure(value["failure"]))


def _callback_plan(value: dict[str, Any] | None) -> CallbackPlan | None:
    return None if value is None else CallbackPlan(**value)


def encode_task(task: Task) -> bytes:
    return orjson.dumps(task._asdict())  # orjson writes the nested dataclasses and the enum


def decode_task(data: bytes | str) -> Task:
    document = orjson.loads(data)
    plan, callback_plan, script = document["plan"], document["callback_plan"], document.get("script")
    if plan is not None:
        document["plan"] = _task_plan(plan)
    if callback_plan is not None:
        document["callback_plan"] = _callback_plan(callback_plan)
    if script is not None:
        document["script"] = _script(script)
    ending = document["ending"]
    if ending is not None:
        document["ending"] = Ending(ending["at"], TaskStatus(ending["status"]), _failure(ending["failure"]))
    # By position, not `Task(**document)`, which compares each key with the fields' names (about
    # half the cost of a poll's decoding); a field a record lacks (written before it existed) is None.
    return Task._make(map(document.get, _TASK_FIELDS))


def encode_delivery(delivery: Delivery) -> bytes:
    return orjson.dumps(asdict(delivery))


def decode_delivery(data: bytes | str) -> Delivery:
    document = orjson.loads(data)
    document["attempts"] = tuple(Attempt(**attempt) for attempt in document["attempts"])
    return Delivery(**document)


def encode_rule(rule: FaultRule) -> bytes:
    # `blocks` rides along for the Redis store's Lua gate, which must not restate what blocks.
    return orjson.dumps({**asdict(rule), "blocks": rule.blocks})


def decode_rule(data: bytes | str) -> FaultRule:
    document = orjson.loads(data)
    del document["blocks"]
    fault = document["fault"]
    document["fault"] = None if fault is None else Fault(**fault)
    document["plan"] = _task_plan(document["plan"])
    document["callback"] = _callback_plan(document["callback"])
    return FaultRule(**document)


def encode_entry(entry: JournalEntry) -> bytes:
    return orjson.dumps(entry.to_dict())  # headers redacted before they leave the process


def decode_entry(data: bytes | str) -> JournalEntry:
    fields = orjson.loads(data)
    fields["headers"] = [(name, value) for name, value in fields["headers"]]
    return JournalEntry(**fields)


def encode_clock(state: ClockState) -> bytes:
    return orjson.dumps(asdict(state))


def decode_clock(data: bytes | str) -> ClockState:
    return ClockState(**orjson.loads(data))


def encode_timer(timer: Timer) -> bytes:
    return orjson.dumps(timer._asdict())


def decode_timer(data: bytes | str) -> Timer:
    return Timer(**orjson.loads(data))
