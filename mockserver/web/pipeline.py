"""The one request pipeline every operation runs: injected faults, auth, rate limit,
parameters, body, then the handler, then the journal. Errors become answers in
`web/errors.py`.

Web layer: a plain ASGI endpoint per operation (no Request object on the hot path).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import orjson
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from mockserver.engine import Engine, FaultFired, NewTask, Snapshot, Task
from mockserver.engine.faults import Fault, FaultRule, FaultSyntax, Trigger, parse_callback, parse_plan
from mockserver.engine.gate import Gate
from mockserver.engine.ids import fingerprint
from mockserver.engine.journal import JournalFields
from mockserver.engine.replay import Book, NoMatch
from mockserver.engine.tasks import CallbackPlan, Failure, Plan
from mockserver.settings import Settings
from mockserver.spec import FieldError, Operation, coerce, problems
from mockserver.web import hosts
from mockserver.web.api import Api, Handler
from mockserver.web.errors import ApiError, error_response
from mockserver.web.faults import DIRECTIVE, HEADERS, RAW_HEADERS, answer, drop, invalid, read_fault
from mockserver.web.host import Host
from mockserver.web.journal import packed_headers, record
from mockserver.web.reading import bearer, drain, query_values, read_body
from mockserver.web.responses import JSONBytes, retry_after_of

SCOPE_ROUTE = "mock.route"  # (api slug, operationId or None) of the request
VALID_PARAMS_KEPT = 4096  # per operation
FAULT_HEADER = RAW_HEADERS[Trigger.FAULT]  # looked for on every request
PLAN_HEADERS = tuple((trigger, RAW_HEADERS[trigger]) for trigger in (Trigger.FAIL, Trigger.CALLBACK))


@dataclass(slots=True, eq=False)
class Call:
    """One request as a handler sees it."""

    scope: Scope
    receive: Receive
    op: Operation
    api: Api
    fake: Host
    headers: dict[bytes, bytes]
    key: str | None = None  # the bearer key as sent
    gate: Gate | None = None
    params: dict[str, Any] = field(default_factory=dict)
    body: Any = None
    raw_body: bytes = b""
    body_read: bool = False  # the request body has been received to its end
    plan: Plan | None = None  # the task's failure or stall (X-Mock-Fail, [mock:fail=...])
    callback: CallbackPlan | None = None  # its callback chaos (X-Mock-Callback, [mock:callback=...])
    fault: Fault | None = None  # the fault this request meets (the header, a directive, or a rule)
    task: Task | None = None  # the task it created or read
    snapshot: Snapshot | None = None  # that task as answered (`observe`)
    admitted: bool = False  # the gate has been passed

    @property
    def engine(self) -> Engine:
        return self.fake.engine

    def observe(self, task: Task) -> Snapshot:
        """The task as this request answers it (the journal shows the same, without a second look)."""
        self.snapshot = self.fake.engine.observe(task)
        return self.snapshot

    def created(self, task: Task) -> Snapshot:
        """The task as the create that made it answers it (`Task.as_created`; the journal shows
        the same, without a look at the clock)."""
        self.snapshot = task.as_created()
        return self.snapshot

    @property
    def settings(self) -> Settings:
        return self.fake.settings

    def header(self, name: bytes) -> str | None:
        value = self.headers.get(name)
        return None if value is None else value.decode("latin-1")

    @property
    def base_url(self) -> str:
        """Where result links point (`web/hosts.py`: never a host the fake is not reached by)."""
        return hosts.base_url(self.scope, self.headers.get(b"host"), self.settings, self.fake.known_hosts)

    # -- the engine's verbs, through this request's gate ---------------------------------

    def _gate(self) -> Gate:
        if self.gate is None:
            raise RuntimeError(f"{self.op.id} has no gate: only guarded APIs reach provider verbs")
        self.admitted = True
        return self.gate

    def _ride(self, rule: FaultRule | None) -> None:
        """A rule that fired without refusing the request: its fault rides on the answer
        (unless the request asked for one itself)."""
        if rule is not None and rule.fault is not None and self.fault is None:
            self.fault = rule.fault

    async def admit(self) -> None:
        self._ride(await self.engine.admit(self._gate()))

    async def create(self, new: NewTask) -> Task:
        if self.fake.replay is not None:
            new = await self._recorded(self.fake.replay, new)
        self.task, rule = await self.engine.create(self._gate(), new)
        if rule is not None:
            self._ride(rule)
        return self.task

    async def _recorded(self, book: Book, new: NewTask) -> NewTask:
        """A create a recording holds: its recorded lifecycle, or its recorded error answer."""
        try:
            answer = await book.for_create(self.engine, self.api.slug, self.body)
        except NoMatch as refusal:
            detail = str(refusal)
            raise ApiError(
                400, param="replay", errors=(FieldError("replay", detail),), problem=f"replay: {detail}"
            ) from None
        if answer is None:
            return new
        if answer.status is not None:
            raise ApiError(answer.status, body=answer.body)
        return new._replace(script=answer.script, plan=None, callback=answer.callback_plan() or new.callback)

    async def recorded_answer(self, book: Book) -> None:
        """Raise the answer a recording holds for exactly this request, if it holds one."""
        path = self.scope["path"].rstrip("/").rsplit("/", 1)[-1]
        query = self.scope["query_string"].decode("latin-1")
        answer = await book.for_request(self.engine, self.api.slug, self.op.id, path, query, self.body)
        if answer is not None and answer.status is not None:
            raise ApiError(answer.status, body=answer.body)

    async def read(self, task_id: str) -> Task:
        self.task, rule = await self.engine.get(self._gate(), task_id)
        if rule is not None:
            self._ride(rule)
        return self.task


class Endpoint:
    """One operation as a plain ASGI app."""

    def __init__(self, api: Api, op: Operation, handler: Handler, fake: Host) -> None:
        self.api, self.op, self.handler, self.fake = api, op, handler, fake
        self.route = (api.slug, op.id)
        # Parameter values this operation has found valid: a client polls each task many times.
        self._valid: set[tuple[tuple[str, Any], ...]] = set()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        fake = self.fake
        if not fake.runtime.running():
            await fake.runtime.start()
        scope[SCOPE_ROUTE] = self.route
        started, arrived = time.perf_counter(), fake.engine.clock.now()
        headers = dict(scope["headers"])  # by name, the last one of a name wins (built in C)
        call = Call(scope, receive, self.op, self.api, fake, headers)
        response: Response | None
        try:
            response = await self._answer(call)
        except FaultFired as fired:  # an armed rule: its status (and Retry-After), or no answer
            call.fault = fired.rule.fault
            response = None if call.fault is None or not call.fault.answers else self._error(call, fired)
        except Exception as error:
            response = self._error(call, error)
        fault = call.fault
        if self.api.journaled:
            sent = None if response is None or (fault is not None and not fault.answers) else response
            record(fake, self._fields(call, sent, started, arrived))
        if response is None:
            assert fault is not None
            # The rest of the body first: the client sees its answer go missing, not its
            # request refused mid-send.
            if not call.body_read:
                await drain(call.receive, call.settings.max_body_bytes)
            drop(scope, fault, partial=False)
            return
        if fault is None and type(response) is JSONBytes:  # Response.__call__'s two sends, inline
            await send(
                {
                    "type": "http.response.start",
                    "status": response.status_code,
                    "headers": response.raw_headers,
                }
            )
            await send({"type": "http.response.body", "body": response.body})
        elif fault is None:
            await response(scope, receive, send)
        else:
            await answer(response, fault, scope, receive, send)

    def _fields(self, call: Call, sent: Response | None, started: float, arrived: float) -> JournalFields:
        """What the request asked and was answered, each field by name."""
        task, snapshot, fault, scope = call.task, call.snapshot, call.fault, call.scope
        if task is not None and snapshot is None:
            snapshot = call.engine.observe(task)
        seconds = time.perf_counter() - started
        delay = fault.delay if fault is not None else 0.0
        cap, body = call.settings.journal_body_bytes, call.raw_body
        return {
            "time": arrived,
            "wall": time.time() - seconds,
            "method": scope["method"],
            "path": scope["path"],
            "query": scope["query_string"].decode("latin-1"),
            "provider": self.api.slug,
            "operation": self.op.id,
            "key": call.gate.key if call.gate is not None else fingerprint(call.key),  # made once
            "status": None if sent is None else sent.status_code,
            "duration_ms": (seconds + delay) * 1000,  # a delay fault's wait, still to come, counts
            "fault": None if fault is None else str(fault),
            "task": None if task is None else task.id,
            # `_value_`: Enum's `value` is a descriptor, measurably slower on every request
            "task_status": None if snapshot is None else snapshot.status._value_,
            "retry_after": retry_after_of(sent),
            "headers": packed_headers(scope, cap),
            "body": body[:cap].decode("utf-8", "replace") if body else "",
            "body_bytes": len(body),
        }

    def _error(self, call: Call, error: BaseException) -> Response:
        retry_after, clock = call.fake.settings.retry_after, call.engine.clock
        return error_response(call.scope, self.op, self.api.dialect, error, retry_after, clock)

    def _blocked(self, call: Call, fault: Fault) -> Response | None:
        """The answer to a fault that stops the work: its status, or none at all (reset)."""
        call.fault = fault
        if not fault.answers:
            return None
        assert fault.status is not None
        retry_after = call.settings.retry_after if fault.status == 429 else None
        return self._error(call, ApiError(fault.status, retry_after=retry_after))

    async def _answer(self, call: Call) -> Response | None:
        op, api, engine = self.op, self.api, call.fake.engine
        if api.access is not None and (refusal := api.access(call.scope, call.headers)) is not None:
            raise refusal
        call.key = bearer(call.headers.get(b"authorization"))
        if api.guarded:
            raw = call.headers.get(FAULT_HEADER)
            if raw is not None:
                fault = self._fault(call, raw.decode("latin-1"), HEADERS[Trigger.FAULT])
                if fault.blocks:  # answered before anything else: no state is touched
                    return self._blocked(call, fault)
                call.fault = fault
        problem: ApiError | None = None
        try:
            call.params = self._params(call)
            if op.body_validator is not None:
                await self._body(call)
        except ApiError as error:
            problem = error
        if api.guarded:
            accepted = not op.secured or engine.accepts(call.key)
            call.gate = engine.gate(op.id, fingerprint(call.key), accepted)
            directed = call.fault is not None and call.fault.blocks  # a [mock:fault=...] directive
            if not accepted or problem is not None or directed:
                await call.admit()  # armed fault rules and the rate limit come first
                if not accepted:
                    raise ApiError(401)
                if problem is not None:
                    raise problem
                assert call.fault is not None
                return self._blocked(call, call.fault)
        elif problem is not None:
            raise problem
        try:
            book = call.fake.replay
            if book is not None and api.guarded and op.id not in api.creates:
                await call.recorded_answer(book)  # a request the recordings answered with an error
            return await self.handler(call)
        except ApiError:
            if call.gate is not None and not call.admitted:
                await call.admit()
            raise

    def _fault(self, call: Call, raw: str, where: str) -> Fault:
        creates = self.op.id in self.api.creates
        return read_fault(self.op, self.api.dialect, raw, where, creates, call.settings.max_fault_delay)

    def _params(self, call: Call) -> dict[str, Any]:
        op = self.op
        if op.params_validator is None:
            return {}
        scope, values = call.scope, {}
        query: dict[str, str] | None = None
        for param in op.params:
            if param.location == "path":
                raw = scope["path_params"].get(param.name)
            else:
                if query is None:
                    query = query_values(scope["query_string"])
                raw = query.get(param.name)
            if raw is not None:
                values[param.name] = (
                    coerce(raw, param.schema) if param.schema.get("type") != "string" else raw
                )
        key = tuple(values.items())
        if key in self._valid:
            return values
        if op.params_validator.is_valid(values):  # `problems`' fast path, inline
            if len(self._valid) >= VALID_PARAMS_KEPT:
                self._valid.clear()
            self._valid.add(key)
            return values
        errors = problems(op.params_validator, values)
        if errors:
            where = next((p.location for p in op.params if p.name == errors[0].top), "query")
            raise self.api.dialect.invalid(op, errors, where)
        return values

    async def _body(self, call: Call) -> None:
        op, dialect = self.op, self.api.dialect
        raw = call.raw_body = await read_body(
            call.receive, call.headers.get(b"content-length"), call.settings.max_body_bytes
        )
        call.body_read = True
        if not raw:
            if op.body_required:
                raise dialect.invalid(op, [FieldError("body", "a JSON body is required", "empty")], "body")
            return
        content_type = (call.header(b"content-type") or "").split(";")[0].strip().lower()
        is_json = content_type == "application/json" or content_type.endswith("+json")
        if not is_json and not self.api.json_any_type:
            detail = "Content-Type must be application/json"
            raise dialect.invalid(op, [FieldError("body", detail, "media_type")], "body")
        try:
            call.body = orjson.loads(raw)
        except orjson.JSONDecodeError as error:
            # `expected`: where parsing stopped; `received`: the raw body (a dialect may quote it)
            problem = FieldError("body", f"malformed JSON: {error}", "json", error.pos, raw)
            raise dialect.invalid(op, [problem], "body") from None
        if self.api.guarded:
            self._triggers(call)
        errors = problems(op.body_validator, call.body) if op.body_validator is not None else []
        if errors:  # JSON `null` is a body too, and is checked
            raise dialect.invalid(op, errors, "body")

    def _triggers(self, call: Call) -> None:
        """The triggers in the headers and the prompt: a fault (`[mock:fault=...]`), the task's
        plan (`X-Mock-Fail`, `[mock:fail=...]`: a failure or a stall) and callback chaos
        (`X-Mock-Callback`, `[mock:callback=...]`); a header wins over a directive."""
        found: dict[Trigger, tuple[str, str]] = {}  # a loop: a comprehension is a call of its own
        for trigger, name in PLAN_HEADERS:
            sent = call.headers.get(name)
            if sent is not None:
                found[trigger] = (sent.decode("latin-1"), HEADERS[trigger])
        prompt = call.body.get("prompt") if isinstance(call.body, dict) else None
        if isinstance(prompt, str) and "[mock:" in prompt:
            for name, value in DIRECTIVE.findall(prompt):
                trigger = Trigger(name)
                if trigger is Trigger.FAULT and call.fault is None:
                    call.fault = self._fault(call, value, "prompt")
                elif trigger is not Trigger.FAULT:
                    found.setdefault(trigger, (value, "prompt"))
        op, dialect = self.op, self.api.dialect
        if Trigger.FAIL in found:
            raw, where = found[Trigger.FAIL]
            try:
                call.plan = parse_plan(raw)
            except FaultSyntax as error:
                raise invalid(op, dialect, where, str(error)) from None
            accepts = self.api.accepts_failure
            if isinstance(call.plan, Failure) and accepts is not None and not accepts(call.plan.code):
                raise invalid(
                    op, dialect, where, f"{call.plan.code!r} is not a failure code {self.api.slug} reports"
                )
        if Trigger.CALLBACK in found:
            raw, where = found[Trigger.CALLBACK]
            if not self.api.calls_back:
                raise invalid(op, dialect, where, f"{self.api.slug} sends no callbacks")
            try:
                call.callback = parse_callback(raw)
            except FaultSyntax as error:
                raise invalid(op, dialect, where, str(error)) from None
