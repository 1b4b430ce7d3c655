"""EvoLink handlers, named after the spec's operationIds: parse -> engine -> render.

Provider layer.
"""

from __future__ import annotations

from starlette.responses import Response

from mockserver.providers.common import json_response
from mockserver.providers.evolink import wire
from mockserver.routing import Call


async def create_video_generation(call: Call) -> Response:
    body = call.body
    callback_url = body.get("callback_url")
    if callback_url is not None:
        await call.state.check_callback_url(callback_url)
    task = call.engine.create(
        provider=wire.SLUG,
        key=call.key,
        model=body["model"],
        duration=body.get("duration", 5),
        aspect_ratio=body.get("aspect_ratio", wire.DEFAULT_ASPECT_RATIO),
        make_id=wire.new_task_id,
        callback_url=callback_url,
        failure=call.failure,
        origin=call.base_url,
    )
    return json_response(wire.render_created(task))


async def get_task_detail(call: Call) -> Response:
    task = call.engine.get(call.params["task_id"], key=call.key)
    return json_response(wire.render_task(task, call.engine.observe(task), call.base_url))


HANDLERS = {"create_video_generation": create_video_generation, "get_task_detail": get_task_detail}
