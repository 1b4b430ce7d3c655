"""The event stream as the control plane serves it (`GET /__mock/events`): its filters read, a
subscriber made, and each event written as a Server-Sent Events message whose data shows things
as the control plane's own endpoints do (a task as `GET /__mock/tasks/{id}`, a request as
`GET /__mock/requests`, ...), at the event's fake time.

Control layer: a handler over the hub (`mockserver/events/`) and the control plane's views.
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response

from mockserver.control import fake_of
from mockserver.control.rules import rule_view
from mockserver.control.views import clock_view, task_view
from mockserver.engine import events as kinds
from mockserver.engine.events import Event
from mockserver.engine.ids import fingerprint
from mockserver.events.hub import Hub
from mockserver.events.stream import EventStream, comment
from mockserver.events.subscriber import Numbered, Subscriber, wanted_kinds
from mockserver.fake import Fake
from mockserver.spec import FieldError
from mockserver.web.errors import ApiError
from mockserver.web.pipeline import Call

LAST_EVENT_ID = b"last-event-id"
RESYNC = "resync"  # not an event of the fake: the stream could not resume where it was asked to
FRAMES_KEPT = 4096  # rendered messages shared by the subscribers (per base URL)


def _payload(fake: Fake, event: Event, base_url: str) -> dict[str, Any]:
    data = event.data
    if isinstance(data, kinds.TaskChanged):
        view = task_view(fake, data.task, base_url, at=event.time)
        return {"task": view, "from": {"status": data.status.value, "progress": data.progress}}
    if isinstance(data, (kinds.TaskCreated, kinds.TaskEnded)):
        return {"task": task_view(fake, data.task, base_url, at=event.time)}
    if isinstance(data, kinds.Requested):
        return {"request": data.entry.to_dict()}
    if isinstance(data, kinds.CallbackAttempted):
        return {"delivery": data.delivery.view(), "attempt": data.number}
    if isinstance(data, kinds.CallbackScheduled):
        return {"delivery": data.delivery.view()}
    if isinstance(data, kinds.ClockMoved):
        return {"clock": clock_view(fake, data.clock)}
    if isinstance(data, (kinds.RuleAdded, kinds.RuleUsed)):
        return {"rule": rule_view(data.rule)}
    if isinstance(data, kinds.Reset):
        return {"key": data.key}
    return {}


def message(fake: Fake, hub: Hub, base_url: str, numbered: Numbered) -> bytes:
    """`id`, `event` and `data` lines; made once per event and base URL, shared by subscribers."""
    seq, event = numbered
    cached = hub.frames.get((seq, base_url))
    if cached is not None:
        return cached
    data = {"time": event.time, "wall": event.wall, "key": event.key, "node": event.node}
    data |= _payload(fake, event, base_url)
    frame = b"id: %s\nevent: %s\ndata: %s\n\n" % (
        hub.event_id(seq).encode(),
        event.kind.encode(),
        orjson.dumps(data),
    )
    if len(hub.frames) >= FRAMES_KEPT:
        hub.frames.clear()
    hub.frames[(seq, base_url)] = frame
    return frame


def resync(last_id: str) -> bytes:
    reason = "the events after it are not all kept here: read the state again"
    data = {"last_event_id": last_id, "reason": reason}
    return b"event: %s\ndata: %s\n\n" % (RESYNC.encode(), orjson.dumps(data))


async def get_events(call: Call) -> Response:
    fake, params = fake_of(call), call.params
    try:
        chosen = wanted_kinds(params.get("kind"), set(kinds.KINDS))
    except ValueError as error:
        raise ApiError(400, param="kind", errors=(FieldError("kind", str(error)),)) from None
    settings, hub, base_url = fake.settings, fake.events, call.base_url
    subscriber = Subscriber(fingerprint(params.get("key")), chosen, settings.events_queue)
    last_id = call.header(LAST_EVENT_ID)
    opening = comment("events of the fake: see GET /__mock/specs/control, getEvents")
    if not hub.subscribe(subscriber, last_id) and last_id is not None:
        opening += resync(last_id)
    try:
        await hub.ready()
    except BaseException:  # the client went while the stream was being opened
        hub.unsubscribe(subscriber)
        raise
    return EventStream(
        hub,
        subscriber,
        lambda numbered: message(fake, hub, base_url, numbered),
        opening,
        settings.events_ping,
    )
