"""Faults on the wire: the triggers a request carries (the `X-Mock-Fault`, `X-Mock-Fail` and
`X-Mock-Callback` headers and the `[mock:...]` prompt directives) read against its operation, and
an answer sent as its fault says (late, cut short, or not at all: the kind's `Cut`).

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

from mockserver.engine.faults import Fault, FaultSyntax, Trigger, parse_fault, refusal
from mockserver.spec import FieldError, Operation
from mockserver.web.errors import ApiError, Dialect

# A trigger's header: X-Mock-Fault, X-Mock-Fail, X-Mock-Callback (as headers arrive: lowercase).
HEADERS = {trigger: f"X-Mock-{trigger.value.capitalize()}" for trigger in Trigger}
RAW_HEADERS = {trigger: name.lower().encode() for trigger, name in HEADERS.items()}
# Prompt directives, for clients that cannot set headers: [mock:fault=503] [mock:fail=CODE]
DIRECTIVE = re.compile(r"\[mock:(" + "|".join(t.value for t in Trigger) + r")=([^\]\s]+)\]")
ABORT = "mock.abort"  # scope["state"][ABORT](reset): close the connection now


class ConnectionDropped(Exception):
    """The fake closed the connection without a whole answer (no connection in-process)."""

    def __init__(self, fault: Fault, partial: bool) -> None:
        super().__init__(f"the fake dropped the connection ({fault})")
        self.fault, self.partial = fault, partial

    @property
    def reset(self) -> bool:
        """A reset (RST) rather than an orderly close."""
        cut = self.fault.cut
        return cut is not None and cut.reset


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
    reason = refusal(fault, frozenset(op.responses), creates)
    if reason is not None:
        raise invalid(op, dialect, where, reason)
    return fault


async def answer(response: Response, fault: Fault | None, scope: Scope, receive: Receive, send: Send) -> None:
    """Send `response` as `fault` says: after its delay, then whole, cut short, or not at all."""
    cut = None if fault is None else fault.cut
    if fault is not None and fault.delay:
        await asyncio.sleep(fault.delay)
    if fault is None or cut is None:
        await response(scope, receive, send)
        return
    if cut.sends_half:
        body = bytes(response.body)
        await send(
            {"type": "http.response.start", "status": response.status_code, "headers": response.raw_headers}
        )
        await send({"type": "http.response.body", "body": body[: len(body) // 2], "more_body": True})
    drop(scope, fault, partial=cut.sends_half)


def drop(scope: Scope, fault: Fault, partial: bool) -> None:
    """Close the connection as the fault's cut says (or, in-process, raise `ConnectionDropped`)."""
    abort: Callable[[bool], None] | None = scope.get("state", {}).get(ABORT)
    if abort is None:
        raise ConnectionDropped(fault, partial)
    cut = fault.cut
    abort(cut is not None and cut.reset)
