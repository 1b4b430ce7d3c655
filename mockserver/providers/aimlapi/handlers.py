"""AI/ML API handlers, named after the spec's operationIds: parse -> engine -> render.

Provider layer.
"""

from __future__ import annotations

from starlette.responses import Response

from mockserver.providers.aimlapi import wire
from mockserver.providers.common import json_response
from mockserver.routing import Call


async def create_generation(call: Call) -> Response:
    task = call.engine.create(
        provider=wire.SLUG,
        key=call.key,
        model=call.body["model"],
        duration=wire.duration_of(call.body),
        aspect_ratio=wire.ASPECT_RATIO,
        make_id=wire.new_generation_id,
        failure=call.failure,
        origin=call.base_url,
    )
    return json_response(wire.render_created(task), call.state.settings.aimlapi_create_status)


async def get_generation(call: Call) -> Response:
    task = call.engine.get(call.params["generation_id"], key=call.key)
    return json_response(wire.render_generation(task, call.engine.observe(task), call.base_url))


HANDLERS = {"create_generation": create_generation, "get_generation": get_generation}
