"""AI/ML API handlers, named after the spec's operationIds: parse -> engine -> render.

Provider layer.
"""

from __future__ import annotations

from starlette.responses import Response

from mockserver.engine import NewTask
from mockserver.providers.aimlapi import wire
from mockserver.web.pipeline import Call
from mockserver.web.responses import json_response


async def create_generation(call: Call) -> Response:
    duration = wire.duration_of(call.body)
    task = await call.create(
        NewTask(
            provider=wire.SLUG,
            model=call.body["model"],
            duration=duration,
            aspect_ratio=wire.ASPECT_RATIO,
            credits=wire.price(call.settings.aimlapi_usd_per_second, duration),
            make_id=wire.new_generation_id,
            plan=call.plan or wire.image_failure(call.body),
            origin=call.base_url,
        )
    )
    return json_response(wire.render_created(task, call.created(task)), call.settings.aimlapi_create_status)


async def get_generation(call: Call) -> Response:
    task = await call.read(call.params["generation_id"])
    return json_response(wire.render_generation(task, call.observe(task), call.base_url))
