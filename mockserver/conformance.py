"""Response conformance: check every response the fake sends against its spec (a test hook).

App layer. Enabled by `Settings.check_responses` (the test suite turns it on for every app);
violations are logged and collected in `VIOLATIONS` for the suite to fail on.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import jsonschema_rs
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mockserver.routing import SCOPE_ROUTE
from mockserver.spec import Spec

logger = logging.getLogger("mockserver.conformance")
VIOLATIONS: list[str] = []
ERROR_SCHEMAS = {
    "aimlapi": "ErrorResponse",
    "evolink": "ErrorResponse",
    "control": "ControlError",
    "files": "ControlError",
}


class ConformanceMiddleware:
    def __init__(self, app: ASGIApp, specs: dict[str, Spec]) -> None:
        self.app = app
        self.specs = specs
        self._error_validators = {
            slug: jsonschema_rs.validator_for(
                {
                    "$ref": f"#/components/schemas/{name}",
                    "components": specs["control" if slug == "files" else slug].document["components"],
                },
                validate_formats=True,
            )
            for slug, name in ERROR_SCHEMAS.items()
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status, content_type, chunks = 0, "", []

        async def capture(message: Message) -> None:
            nonlocal status, content_type
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = dict(message.get("headers", []))
                content_type = headers.get(b"content-type", b"").decode()
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
            await send(message)

        await self.app(scope, receive, capture)
        problem = self.check(scope, status, content_type, b"".join(chunks))
        if problem:
            VIOLATIONS.append(problem)
            logger.error("contract violation: %s", problem)

    def check(self, scope: Scope, status: int, content_type: str, body: bytes) -> str | None:
        where = f"{scope['method']} {scope['path']} -> {status}"
        provider, op_id = scope.get(SCOPE_ROUTE, (None, None))
        if provider is None:
            return None if content_type.startswith("application/json") else f"{where}: not JSON"
        spec = self.specs["control" if provider == "files" else provider]
        op = spec.operations.get(op_id) if op_id else None
        if op is None:
            return self._check_json(self._error_validators[provider], where, content_type, body)
        response = op.responses.get(status)
        if response is None:
            return f"{where}: {op_id} does not document status {status}"
        if response.validator is None or scope["method"] == "HEAD":
            return None
        return self._check_json(response.validator, where, content_type, body)

    @staticmethod
    def _check_json(
        validator: jsonschema_rs.Validator, where: str, content_type: str, body: bytes
    ) -> str | None:
        if not content_type.startswith("application/json"):
            return f"{where}: content type {content_type!r}, not JSON"
        try:
            document: Any = json.loads(body)
        except ValueError:
            return f"{where}: body is not JSON"
        errors = [
            f"{'/'.join(map(str, e.instance_path))}: {e.message}" for e in validator.iter_errors(document)
        ]
        return f"{where}: " + "; ".join(errors) if errors else None
