"""Control-plane handlers, named after `openapi/control.yaml`'s operationIds, and the result
files (the fake's CDN).

Control layer: each handler is a few lines over engine and runtime verbs.
"""

from __future__ import annotations

import contextlib
from typing import Any

from starlette.responses import FileResponse, Response

from mockserver.control import FILES, fake_of, verdicts
from mockserver.control.events import get_events  # noqa: F401  (served from here)
from mockserver.control.index import get_health, get_index, get_root  # noqa: F401  (served from here)
from mockserver.control.rules import rule_from, rule_view
from mockserver.control.views import clock_view, drift_view, task_view
from mockserver.engine import Failure, Task, TaskAlreadyFinished, TaskNotFound, TaskStatus
from mockserver.engine.ids import fingerprint
from mockserver.engine.journal import JournalQuery
from mockserver.engine.replay import Book
from mockserver.media.catalog import video_path
from mockserver.metrics import CONTENT_TYPE as METRICS_TYPE
from mockserver.spec import FieldError
from mockserver.upstream.drift import Report
from mockserver.upstream.recordings import UnreadableRecording, from_har
from mockserver.web.errors import ApiError
from mockserver.web.pipeline import Call
from mockserver.web.responses import json_response

SHARED_REPLAY = (
    "with a store shared by several processes, name recordings with --replay (every process loads them)"
)
NOTHING_TO_REPLAY = "no exchange the proxy recorded (entries with _provider and _operation)"
PAGE = 100  # tasks per page of the listing, unless `limit` says otherwise
DEFAULT_POLL_INTERVAL = 1.0  # seconds: polling one task faster than this is a finding


def _known_provider(call: Call, *also: str) -> str | None:
    """The `provider` filter, if given: a slug of the registry (or one of `also`)."""
    slug = call.params.get("provider")
    known = [*fake_of(call).providers, *also]
    if slug is not None and slug not in known:
        detail = f"{slug!r} is not one of {', '.join(known)}"
        raise ApiError(400, param="provider", errors=(FieldError("provider", detail),))
    return slug


async def reset_mock(call: Call) -> Response:
    engine, shown = call.engine, fingerprint(call.params.get("key"))
    if shown is not None:  # one key's state only: other tests sharing the fake keep theirs
        forgotten = await engine.forget(shown)
        view = {"clock": clock_view(fake_of(call)), "tasks": forgotten, "seed": engine.seed, "key": shown}
        return json_response(view)
    await fake_of(call).runtime.reset()
    return json_response(
        {"clock": clock_view(fake_of(call)), "tasks": await engine.count_tasks(), "seed": engine.seed}
    )


async def get_clock(call: Call) -> Response:
    await call.engine.sync_clock()
    return json_response(clock_view(fake_of(call)))


async def advance_clock(call: Call) -> Response:
    await fake_of(call).runtime.advance(float(call.body["seconds"]))
    return json_response(clock_view(fake_of(call)))


async def list_tasks(call: Call) -> Response:
    await call.engine.sync_clock()
    limit = call.params.get("limit", PAGE)
    tasks, last = await call.engine.tasks(_known_provider(call), int(call.params.get("after", 0)), limit)
    return json_response(
        {
            "tasks": [task_view(fake_of(call), t, call.base_url) for t in tasks],
            "next": str(last) if last is not None else None,
        }
    )


async def _task(call: Call) -> Task:
    await call.engine.sync_clock()
    try:
        return await call.engine.find(call.params["task_id"])
    except TaskNotFound:
        raise ApiError(404, message=f"no task {call.params['task_id']!r}") from None


async def get_task(call: Call) -> Response:
    return json_response(task_view(fake_of(call), await _task(call), call.base_url))


async def _end(call: Call, status: TaskStatus, failure: Failure | None) -> Response:
    task = await _task(call)
    try:
        ended = await call.engine.end(task.id, status, failure)
    except TaskAlreadyFinished:
        raise ApiError(409, message=f"task {task.id!r} has already finished") from None
    return json_response(task_view(fake_of(call), ended, call.base_url))


async def cancel_task(call: Call) -> Response:
    task = await _task(call)
    return await _end(call, TaskStatus.FAILED, Failure(fake_of(call).providers[task.provider].cancel_failure))


async def complete_task(call: Call) -> Response:
    return await _end(call, TaskStatus.SUCCEEDED, None)


async def fail_task(call: Call) -> Response:
    provider = fake_of(call).providers[(await _task(call)).provider]
    body = call.body or {}
    code = body.get("code", provider.default_failure)
    if not provider.accepts_failure(code):
        detail = f"{code!r} is not a failure code {provider.slug} reports"
        raise ApiError(400, param="code", errors=(FieldError("code", detail),))
    return await _end(call, TaskStatus.FAILED, Failure(code, body.get("message")))


async def list_faults(call: Call) -> Response:
    return json_response({"faults": [rule_view(r) for r in await call.engine.rules()]})


async def add_fault(call: Call) -> Response:
    rule = await call.engine.add_rule(rule_from(call.body, fake_of(call)))
    return json_response(rule_view(rule), 201)


async def clear_faults(call: Call) -> Response:
    await call.engine.clear_rules()
    return json_response({"faults": []})


async def list_requests(call: Call) -> Response:
    params = call.params
    query = JournalQuery(
        provider=_known_provider(call, FILES),
        operation=params.get("operation"),
        key=fingerprint(params.get("key")),
        status=params.get("status"),
        since=int(params.get("since", 0)),
    )
    entries = await call.engine.journal(query)
    return json_response({"requests": [e.to_dict() for e in entries]})


async def get_verdicts(call: Call) -> Response:
    params, engine, fake = call.params, call.engine, fake_of(call)
    shown = fingerprint(params.get("key"))
    entries = await engine.journal(JournalQuery(key=shown, since=int(params.get("since", 0))))
    roles = {p.create_operation: verdicts.CREATE for p in fake.providers.values()}
    roles |= {p.retrieve_operation: verdicts.RETRIEVE for p in fake.providers.values()}
    created = {
        e.task for e in entries if e.task is not None and roles.get(e.operation or "") == verdicts.CREATE
    }
    with_callback = set()
    for task_id in created:
        with contextlib.suppress(TaskNotFound):
            if (await engine.find(task_id)).callback_url:
                with_callback.add(task_id)
    interval = float(params.get("min_poll_interval", DEFAULT_POLL_INTERVAL))
    evidence = verdicts.Evidence(entries, roles, FILES, with_callback.__contains__, interval)
    findings = verdicts.judge(evidence)
    return json_response(verdicts.report(findings, shown, len(entries), interval))


async def list_callbacks(call: Call) -> Response:
    return json_response({"callbacks": [d.view() for d in await call.engine.deliveries()]})


async def redeliver_callback(call: Call) -> Response:
    delivery = await fake_of(call).callbacks.redeliver(call.params["delivery_id"])
    if delivery is None:
        raise ApiError(404, message=f"no delivery {call.params['delivery_id']!r}")
    return json_response(delivery.view(), 202)


async def get_metrics(call: Call) -> Response:
    return Response(await fake_of(call).metrics.exposition(), media_type=METRICS_TYPE)


async def get_drift(call: Call) -> Response:
    upstream = fake_of(call).upstream
    if upstream is None:
        return json_response(drift_view(None, Report(0, 0, 0)))
    return json_response(drift_view(upstream, upstream.report()))


async def relay_callback(call: Call) -> Response:
    upstream = fake_of(call).upstream
    if upstream is None:
        raise ApiError(404, message="no provider is proxied (--upstream): there is nothing to relay")
    return await upstream.relay.relay(call)


async def get_spec(call: Call) -> Response:
    spec = fake_of(call).specs.get(call.params["name"])
    if spec is None:
        known = ", ".join(fake_of(call).specs)
        raise ApiError(400, param="name", errors=(FieldError("name", f"not one of {known}"),))
    return Response(spec.as_json(), media_type="application/json")


async def get_result_video(call: Call) -> Response:
    await call.engine.sync_clock()
    task = await call.engine.media_task(call.params["token"])
    if task is None:
        raise ApiError(404, message="file not found or expired")
    return FileResponse(
        video_path(task.duration, task.aspect_ratio),
        media_type="video/mp4",
        headers={"Cache-Control": "private, max-age=86400"},
    )


def _replay_view(book: Book | None) -> dict[str, Any]:
    if book is None:
        return {"replaying": False, "strict": False, "creates": 0, "shapes": 0, "answers": 0}
    return {"replaying": True, **book.summary()}


async def get_replay(call: Call) -> Response:
    return json_response(_replay_view(fake_of(call).replay))


async def load_replay(call: Call) -> Response:
    fake = fake_of(call)
    if fake.settings.shared:
        raise ApiError(409, message=SHARED_REPLAY)
    strict = bool(call.params.get("strict", False))
    book = Book(fake.providers, strict=strict, generation=f"loaded-{await call.engine.number('replay')}")
    if fake.replay is not None:  # what was loaded before stays, from its start, strict as asked now
        book.absorb(fake.replay)
    try:
        exchanges = from_har(call.body)
    except UnreadableRecording as error:
        raise ApiError(400, param="log", errors=(FieldError("log", str(error)),)) from None
    if book.load(exchanges) == 0:
        raise ApiError(400, param="log", errors=(FieldError("log", NOTHING_TO_REPLAY),))
    fake.replay = book
    return json_response(_replay_view(book), 201)


async def clear_replay(call: Call) -> Response:
    fake = fake_of(call)
    if fake.settings.shared:
        raise ApiError(409, message=SHARED_REPLAY)
    fake.replay = None
    return json_response(_replay_view(None))
