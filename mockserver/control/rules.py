"""Fault rules as the control plane takes and shows them: `POST /__mock/faults` bodies read into
a `FaultRule` (each trigger value in the one grammar of X-Mock-Fault, X-Mock-Fail and
X-Mock-Callback: `engine/faults.py`), checked against the operations the fake serves.

Control layer.
"""

from __future__ import annotations

from typing import Any

from mockserver.engine.faults import (
    Fault,
    FaultRule,
    FaultSyntax,
    Trigger,
    parse_callback,
    parse_fault,
    parse_plan,
    refusal,
    text,
)
from mockserver.engine.ids import fingerprint
from mockserver.engine.tasks import CallbackPlan, Failure, Plan
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
    if fault.status is not None and op is None:
        raise _refused("operation", "a status fault needs the operation whose answer it is")
    documented = frozenset(op.responses) if op is not None else frozenset[int]()
    reason = refusal(fault, documented, creates)
    if reason is not None:
        field = "fault" if refusal(Fault(drop=fault.drop), documented, creates) else "status"
        raise _refused(field, reason)
    return fault


def _plan(body: dict[str, Any], fake: Fake, op: Operation | None) -> Plan | None:
    raw = body.get("fail")
    if raw is None:
        return None
    try:
        plan = parse_plan(raw)
    except FaultSyntax as error:
        raise _refused("fail", str(error)) from None
    providers = fake.serving(None if op is None else op.id)
    if isinstance(plan, Failure) and not any(p.accepts_failure(plan.code) for p in providers):
        raise _refused(
            "fail", f"{plan.code!r} is not a failure code of {', '.join(p.slug for p in providers)}"
        )
    return plan


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
    fault, plan, callback = _fault(body, op, creates, fake), _plan(body, fake, op), _callback(body, fake, op)
    if fault is None and plan is None and callback is None:
        raise _refused("fault", "give one of status, fault, fail or callback")
    if (plan is not None or callback is not None) and op is not None and not creates:
        raise _refused("operation", "fail and callback plans apply to an operation that creates a task")
    return FaultRule(
        id="",
        operation=None if op is None else op.id,
        remaining=body.get("count", 1),
        key=fingerprint(body.get("key")),
        fault=fault,
        plan=plan,
        callback=callback,
        probability=body.get("probability", 1.0),
        retry_after=body.get("retry_after"),
    )


def rule_view(rule: FaultRule) -> dict[str, Any]:
    fault = rule.fault
    return {
        "id": rule.id,
        "operation": rule.operation,
        "status": None if fault is None else fault.status,
        "fault": None if fault is None else text(Trigger.FAULT, fault),
        "fail": None if rule.plan is None else text(Trigger.FAIL, rule.plan),
        "callback": None if rule.callback is None else text(Trigger.CALLBACK, rule.callback) or None,
        "remaining": rule.remaining,
        "key": rule.key,
        "probability": rule.probability,
        "matched": rule.matched,
        "retry_after": rule.retry_after,
    }
