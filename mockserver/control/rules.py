"""Fault rules as the control plane takes and shows them: `POST /__mock/faults` bodies read into
a `FaultRule` (each trigger value in the one grammar of X-Mock-Fault, X-Mock-Fail and
X-Mock-Callback), checked against the operations the fake serves.

Control layer.
"""

from __future__ import annotations

from typing import Any

from mockserver.engine.faults import (
    LOST,
    Fault,
    FaultRule,
    FaultSyntax,
    parse_callback,
    parse_failure,
    parse_fault,
)
from mockserver.engine.ids import fingerprint
from mockserver.engine.tasks import CallbackPlan, Failure
from mockserver.fake import Fake
from mockserver.spec import FieldError, Operation
from mockserver.web.errors import ApiError


def _refused(field: str, detail: str) -> ApiError:
    return ApiError(400, param=field, errors=(FieldError(field, detail),))


def _operation(fake: Fake, operation: str | None) -> Operation | None:
    if operation is None:
        return None
    # as served with this fake's settings: an error style may document fewer statuses
    served = [fake.specs[slug].operations for slug in fake.providers]
    op = next((ops[operation] for ops in served if operation in ops), None)
    if op is None:
        known = ", ".join(sorted(o for p in fake.providers.values() for o in p.operation_ids))
        raise _refused("operation", f"not one of {known}")
    return op


def _fault(body: dict[str, Any], op: Operation | None, creates: bool, fake: Fake) -> Fault | None:
    raw = body.get("fault")
    if body.get("status") is not None:
        raw = f"{body['status']};{raw}" if raw else str(body["status"])
    if raw is None:
        return None
    try:
        fault = parse_fault(raw, fake.settings.max_fault_delay)
    except FaultSyntax as error:
        raise _refused("fault", str(error)) from None
    if fault.status is not None:
        if op is None:
            raise _refused("operation", "a status fault needs the operation whose answer it is")
        if fault.status not in op.responses or fault.status < 400:
            documented = ", ".join(str(s) for s in sorted(op.responses) if s >= 400)
            raise _refused("status", f"{op.id} documents {documented}, not {fault.status}")
    if fault.drop == LOST and not creates:
        raise _refused("fault", "lost applies to an operation that creates a task")
    return fault


def _fail(body: dict[str, Any], fake: Fake, op: Operation | None) -> Failure | None:
    raw = body.get("fail")
    if raw is None:
        return None
    try:
        failure = parse_failure(raw)
    except FaultSyntax as error:
        raise _refused("fail", str(error)) from None
    providers = fake.serving(None if op is None else op.id)
    if not any(p.accepts_failure(failure.code) for p in providers):
        raise _refused(
            "fail", f"{failure.code!r} is not a failure code of {', '.join(p.slug for p in providers)}"
        )
    return failure


def _callback(body: dict[str, Any], fake: Fake, op: Operation | None) -> CallbackPlan | None:
    raw = body.get("callback")
    if raw is None:
        return None
    providers = fake.serving(None if op is None else op.id)
    if not any(p.render_callback is not None for p in providers):
        raise _refused("callback", f"{', '.join(p.slug for p in providers)} sends no callbacks")
    try:
        return parse_callback(raw)
    except FaultSyntax as error:
        raise _refused("callback", str(error)) from None


def rule_from(body: dict[str, Any], fake: Fake) -> FaultRule:
    """The rule a `POST /__mock/faults` body asks for (its id is given when it is armed)."""
    op = _operation(fake, body.get("operation"))
    creates = op is not None and any(op.id == p.create_operation for p in fake.providers.values())
    fault, fail, callback = _fault(body, op, creates, fake), _fail(body, fake, op), _callback(body, fake, op)
    if fault is None and fail is None and callback is None:
        raise _refused("fault", "give one of status, fault, fail or callback")
    if (fail is not None or callback is not None) and op is not None and not creates:
        raise _refused("operation", "fail and callback plans apply to an operation that creates a task")
    return FaultRule(
        id="",
        operation=None if op is None else op.id,
        remaining=body.get("count", 1),
        key=fingerprint(body.get("key")),
        fault=fault,
        fail=fail,
        callback=callback,
        probability=body.get("probability", 1.0),
        retry_after=body.get("retry_after"),
    )


def failure_text(failure: Failure | None) -> str | None:
    if failure is None:
        return None
    return failure.code + (f";after={failure.after:g}" if failure.after is not None else "")


def callback_text(plan: CallbackPlan | None) -> str | None:
    if plan is None:
        return None
    if plan.drop:
        return "drop"
    parts = (["duplicate"] if plan.copies > 1 else []) + ([f"delay={plan.delay:g}"] if plan.delay else [])
    return ";".join(parts) or None


def rule_view(rule: FaultRule) -> dict[str, Any]:
    fault = rule.fault
    return {
        "id": rule.id,
        "operation": rule.operation,
        "status": None if fault is None else fault.status,
        "fault": None if fault is None else str(fault),
        "fail": failure_text(rule.fail),
        "callback": callback_text(rule.callback),
        "remaining": rule.remaining,
        "key": rule.key,
        "probability": rule.probability,
        "matched": rule.matched,
        "retry_after": rule.retry_after,
    }
