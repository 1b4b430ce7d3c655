"""EvoLink handlers, named after the spec's operationIds: parse -> engine -> render.

Provider layer.
"""

from __future__ import annotations

from starlette.responses import Response

from mockserver.callbacks.guard import CallbackRefused
from mockserver.engine import NewTask
from mockserver.providers.evolink import wire
from mockserver.spec import FieldError
from mockserver.web.errors import ApiError
from mockserver.web.pipeline import Call
from mockserver.web.responses import json_response


async def create_video_generation(call: Call) -> Response:
    body = call.body
    callback_url = body.get("callback_url")
    if callback_url is not None:
        try:  # https, at most 2048 characters, public addresses only: checked at create too
            await call.fake.guard.vet(callback_url, unresolvable_ok=True)
        except CallbackRefused as refusal:
            raise ApiError(
                400, param="callback_url", errors=(FieldError("callback_url", str(refusal)),)
            ) from None
    duration = int(body.get("duration", 5))  # the schema admits 5.0: it is the integer 5
    task = await call.create(
        NewTask(
            provider=wire.SLUG,
            model=body["model"],
            duration=duration,
            aspect_ratio=body.get("aspect_ratio", wire.DEFAULT_ASPECT_RATIO),
            credits=wire.PRICES[duration],
            make_id=wire.new_task_id,
            callback_url=callback_url,
            plan=call.plan or wire.image_failure(body.get("image_urls")),
            callback=call.callback,
            origin=call.base_url,
        )
    )
    return json_response(wire.render_created(task, call.created(task)))


async def get_task_detail(call: Call) -> Response:
    task = await call.read(call.params["task_id"])
    return json_response(wire.render_task(task, call.observe(task), call.base_url))
