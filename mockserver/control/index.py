"""What the fake serves, for a person or a script opening its base URL (`GET /`, `GET
/__mock/`), and its readiness for probes (`GET /__mock/health`).

Control layer: handlers over the registry and the specs.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import Any

from starlette.responses import Response

from mockserver.control import CONTROL, fake_of
from mockserver.spec import Spec
from mockserver.web.errors import ApiError
from mockserver.web.pipeline import Call
from mockserver.web.responses import json_response

DISTRIBUTION = "videogen-mock"


def _version() -> str:
    try:
        return version(DISTRIBUTION)
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown"


def _operations(spec: Spec) -> list[dict[str, str]]:
    return [{"operation": op.id, "method": op.method, "path": op.path} for op in spec.operations.values()]


async def get_index(call: Call) -> Response:
    base, fake = call.base_url, fake_of(call)
    apis: list[dict[str, Any]] = [
        {
            "provider": slug,
            "base_urls": [base + mount for mount in provider.mounts],
            "spec": f"{base}/__mock/specs/{slug}",
            "operations": _operations(fake.specs[slug]),
        }
        for slug, provider in fake.providers.items()
    ]
    control = {"spec": f"{base}/__mock/specs/{CONTROL}", "operations": _operations(fake.specs[CONTROL])}
    return json_response({"service": "mockserver", "version": _version(), "apis": apis, "control": control})


get_root = get_index


async def get_health(call: Call) -> Response:
    """Ready when the store answers (one round trip to a shared store); nothing else is said."""
    try:
        await call.engine.sync_clock()
    except Exception:
        raise ApiError(503, message="the store does not answer") from None
    return json_response({"status": "ok"})
