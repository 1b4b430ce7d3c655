"""Faults on the wire: the triggers a request carries (`X-Mock-Fault`, `X-Mock-Fail`,
`X-Mock-Callback` and the `[mock:...]` prompt directives) read against its operation, and an
answer sent as a fault says (late, cut short, or not at all).

Web layer. Dropping a connection needs the server's help: the guarded protocol puts an `abort`
in the scope's `state`; in-process there is no connection, so `ConnectionDropped` is raised
and the in-process transports turn it into the error a client would see (`mockserver.transport`).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable

from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from mockserver.engine.faults import LOST, RESET, TRUNCATE, Fault, FaultSyntax, parse_fault
from mockserver.spec import FieldError, Operation
from mockserver.web.errors import ApiError, Dialect

FAULT_HEADER, FAIL_HEADER, CALLBACK_HEADER = b"x-mock-fault", b"x-mock-fail", b"x-mock-callback"
# Prompt directives, for clients that cannot set headers: [mock:fault=503] [mock:fail=CODE]
DIRECTIVE = re.compile(r"\[mock:(fault|fail|callback)=([^\]\s]+)\]")
ABORT = "mock.abort"  # scope["state"][ABORT](reset): close the connection now


class ConnectionDropped(Exception):
    """The fake closed the connection without a whole answer (no connection in-process)."""

    def __init__(self, fault: Fault, partial: bool) -> None:
        super().__init__(f"the fake dropped the connection ({fault})")
        self.fault, self.partial = fault, partial


def invalid(op: Operation, dialect: Dialect, where: str, detail: str) -> ApiError:
    """The provider's 400 for a trigger it cannot take; its words rarely say why (both
    providers' messages are fixed), so `X-Mock-Problem` does."""
    error = dialect.invalid(op, [FieldError(where, detail)], "header")
    error.problem = f"{where}: {detail}"
    return error


def read_fault(
    op: Operation, dialect: Dialect, raw: str, where: str, creates: bool, max_delay: float
) -> Fault:
    """A trigger's fault, or the provider's 400 naming `where` when it cannot be one here."""
    try:
        fault = parse_fault(raw, max_delay)
    except FaultSyntax as error:
        raise invalid(op, dialect, where, str(error)) from None
    if fault.status is not None and (fault.status < 400 or fault.status not in op.responses):
        documented = ", ".join(str(s) for s in sorted(op.responses) if s >= 400)
        raise invalid(op, dialect, where, f"{str(fault.status)!r} is not one of {documented}")
    if fault.drop == LOST and not creates:
        raise invalid(op, dialect, where, "lost applies to creates only (a task made, its answer lost)")
    return fault


async def answer(response: Response, fault: Fault | None, scope: Scope, receive: Receive, send: Send) -> None:
    """Send `response` as `fault` says: after its delay, or not at all, or cut short."""
    if fault is not None:
        if fault.delay:
            await asyncio.sleep(fault.delay)
        if fault.drop in (RESET, LOST):
            drop(scope, fault, partial=False)
            return
        if fault.drop == TRUNCATE:
            body = bytes(response.body)
            await send(
                {
                    "type": "http.response.start",
                    "status": response.status_code,
                    "headers": response.raw_headers,
                }
            )
            await send({"type": "http.response.body", "body": body[: len(body) // 2], "more_body": True})
            drop(scope, fault, partial=True)
            return
    await response(scope, receive, send)


def drop(scope: Scope, fault: Fault, partial: bool) -> None:
    abort: Callable[[bool], None] | None = scope.get("state", {}).get(ABORT)
    if abort is None:
        raise ConnectionDropped(fault, partial)
    abort(fault.drop == RESET)
