"""Response conformance: check every answer the fake sends against its spec (a test hook).

Web layer. Enabled by `Settings.check_responses` (the test suite turns it on for every app);
a violation is kept in `Fake.violations` and logged at ERROR on `mockserver.conformance`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

import jsonschema_rs
from starlette.types import Message, Scope, Send

from mockserver.spec import Spec, problems
from mockserver.web.api import Api
from mockserver.web.pipeline import SCOPE_ROUTE

logger = logging.getLogger("mockserver.conformance")
REDIRECTS = frozenset({301, 307})
# Set in the scope of an answer passed on from a provider's real service (mockserver/upstream):
# the drift report checks those, as findings about the provider, not as the fake's violations.
RELAYED = "mock.relayed"


class Conformance:
    def __init__(self, apis: Mapping[str, Api], violations: list[str]) -> None:
        self.apis, self.violations = apis, violations
        # Answers no operation documents (router-level 404/405/500) carry the API's envelope.
        self._errors = {slug: _validator(api.spec, api.error_schema) for slug, api in apis.items()}

    def watch(self, scope: Scope, send: Send) -> Send:
        """`send`, checking the answer against the spec once it has been sent whole (an answer a
        connection fault cut short, or dropped, on purpose is not checked)."""
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
            if message["type"] == "http.response.body" and not message.get("more_body", False):
                problem = self.check(scope, status, content_type, b"".join(chunks))
                if problem:
                    self.violations.append(problem)
                    logger.error("contract violation: %s", problem)

        return capture

    def check(self, scope: Scope, status: int, content_type: str, body: bytes) -> str | None:
        if scope.get(RELAYED):
            return None
        where = f"{scope['method']} {scope['path']} -> {status}"
        slug, op_id = scope.get(SCOPE_ROUTE, (None, None))
        api = self.apis.get(slug) if slug is not None else None
        if api is None:
            return None if content_type.startswith("application/json") else f"{where}: not JSON"
        op = api.spec.operations.get(op_id) if op_id else None
        if op is None and status in REDIRECTS:  # the API's trailing-slash rule: not a body
            return None
        if op is None:
            return _check_json(self._errors[slug], where, content_type, body)
        response = op.responses.get(status)
        if response is None:
            return f"{where}: {op_id} does not document status {status}"
        if response.validator is None or scope["method"] == "HEAD":
            return None
        return _check_json(response.validator, where, content_type, body)


def _validator(spec: Spec, schema: str) -> jsonschema_rs.Validator:
    components = spec.document.get("components", {})
    return jsonschema_rs.validator_for(
        {"$ref": f"#/components/schemas/{schema}", "components": components}, validate_formats=True
    )


def _check_json(validator: jsonschema_rs.Validator, where: str, content_type: str, body: bytes) -> str | None:
    if not content_type.startswith("application/json"):
        return f"{where}: content type {content_type!r}, not JSON"
    try:
        document: Any = json.loads(body)
    except ValueError:
        return f"{where}: body is not JSON"
    errors = problems(validator, document)
    return f"{where}: " + "; ".join(map(str, errors)) if errors else None
