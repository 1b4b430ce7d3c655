"""Consumer contract: check what a client sends (method, path, query, headers, body) and what
it is given (status, body) against the specs of record.

    router = ContractRouter(upstream=fake_transport.handle_request)   # or a scripted answer
    respx_mock.route(host="api.evolink.ai").mock(side_effect=router)

Contracts layer: reuses the validators the fake compiles from the same specs.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from mockserver.providers import PROVIDERS
from mockserver.spec import Operation, coerce, load_spec, problems


class ContractViolation(AssertionError):
    """A request or response outside the spec."""


@dataclass(frozen=True)
class Route:
    op: Operation
    pattern: re.Pattern[str]


def _pattern(mount: str, path: str) -> re.Pattern[str]:
    regex = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(mount + path))
    return re.compile(f"^{regex}$")


# Every provider's operations at each of its mounts (evolink also under the mirror's /apiv1),
# and the control plane's.
ROUTES = [
    Route(op, _pattern(mount, op.path))
    for provider in PROVIDERS.values()
    for mount in provider.mounts
    for op in provider.spec().operations.values()
] + [Route(op, _pattern("", op.path)) for op in load_spec("control").operations.values()]


def find_operation(method: str, path: str) -> tuple[Operation, dict[str, str]]:
    """The operation a request is for."""
    for route in ROUTES:
        match = route.pattern.match(path)
        if match and route.op.method == method:
            return route.op, match.groupdict()
    raise ContractViolation(f"{method} {path} is not an operation of any spec")


def check_request(request: httpx.Request) -> Operation:
    """Raise ContractViolation unless the request is one the spec describes."""
    op, path_params = find_operation(request.method, request.url.path)
    where = f"{request.method} {request.url.path}"
    if op.secured and not request.headers.get("authorization", "").startswith("Bearer "):
        raise ContractViolation(f"{where}: no `Authorization: Bearer` header")
    declared = {p.name for p in op.params if p.location == "query"}
    extra = set(request.url.params) - declared
    if extra:
        raise ContractViolation(f"{where}: undeclared query parameters {sorted(extra)}")
    if op.params_validator is not None:
        values: dict[str, Any] = {}
        for param in op.params:
            source = path_params if param.location == "path" else dict(request.url.params)
            if param.name in source:
                values[param.name] = coerce(source[param.name], param.schema)
        found = problems(op.params_validator, values)
        if found:
            raise ContractViolation(f"{where}: parameters: {found}")
    content = request.read()
    if op.body_validator is not None and (content or op.body_required):
        if request.headers.get("content-type", "").split(";")[0] != "application/json":
            raise ContractViolation(f"{where}: the body is not sent as application/json")
        found = problems(op.body_validator, json.loads(content))
        if found:
            raise ContractViolation(f"{where}: body: {found}")
    elif content and op.body_validator is None:
        raise ContractViolation(f"{where}: sends a body the operation does not take")
    return op


def check_response(op: Operation, response: httpx.Response) -> None:
    """Raise ContractViolation unless the operation documents this answer."""
    where = f"{op.method} {op.path} -> {response.status_code}"
    documented = op.responses.get(response.status_code)
    if documented is None:
        raise ContractViolation(f"{where}: status not documented by {op.id}")
    if documented.validator is None:
        return
    try:
        body = json.loads(response.read())
    except ValueError:
        raise ContractViolation(f"{where}: body is not JSON") from None
    found = problems(documented.validator, body)
    if found:
        raise ContractViolation(f"{where}: {[str(e) for e in found]}")


class ContractRouter:
    """A respx side effect (or transport handler): check the request, get the answer from
    `upstream` (the in-process fake, or a scripted response), check the answer, return it."""

    def __init__(self, upstream: Callable[[httpx.Request], httpx.Response]) -> None:
        self.upstream = upstream
        self.seen: list[tuple[str, int]] = []  # (operationId, status) of every exchange

    def __call__(self, request: httpx.Request) -> httpx.Response:
        op = check_request(request)
        response = self.upstream(request)
        check_response(op, response)
        self.seen.append((op.id, response.status_code))
        return response
