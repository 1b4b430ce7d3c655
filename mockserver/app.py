"""`create_app(settings)`: the composition root. Settings -> store -> Engine -> the provider
registry -> one ASGI app serving every provider, the control plane and the result files, for
uvicorn and for in-process tests alike.

App layer: the only module that knows every part.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from mockserver.callbacks.delivery import CallbackSender
from mockserver.callbacks.guard import CallbackGuard, Resolver
from mockserver.control import CONTROL, FILES
from mockserver.control import handlers as control_handlers
from mockserver.control.access import ControlAccess
from mockserver.control.views import ControlDialect
from mockserver.engine import Engine, Task, Timing, starting_state
from mockserver.fake import Fake
from mockserver.logs import RequestLog
from mockserver.providers import PROVIDERS, Provider
from mockserver.runtime import Runtime
from mockserver.settings import Settings
from mockserver.spec import Operation, load_spec
from mockserver.store.base import Store
from mockserver.store.memory import MemoryStore
from mockserver.ui import handlers as ui_handlers
from mockserver.web.api import Api, Handler
from mockserver.web.asgi import MockApp
from mockserver.web.conformance import Conformance
from mockserver.web.hosts import known_hosts
from mockserver.web.pipeline import Endpoint
from mockserver.web.routes import Router, snake

if TYPE_CHECKING:
    import httpx

FILE_OPERATION = "getResultVideo"
UI = "ui"  # the dashboard's operations: pages of the control plane served without its token
UI_OPERATIONS = frozenset({"getDashboard", "getDashboardAsset"})
CONTROL_ERROR = "ControlError"  # openapi/control.yaml's error envelope
# Sequence numbers a process takes from a shared store at a time: one round trip per block.
SHARED_ID_BLOCK = 1000
REDIS_MISSING = "the Redis store needs redis-py: pip install 'videogen-mock[redis]'"


def build_store(settings: Settings) -> Store:
    """The store `settings.store` names; redis-py is imported only for a Redis URL."""
    if not settings.shared:
        return MemoryStore(settings.journal_limit)
    try:
        from mockserver.store.redis import RedisStore
    except ImportError as error:
        raise RuntimeError(REDIS_MISSING) from error
    return RedisStore(
        settings.store, journal_limit=settings.journal_limit, node_timeout=settings.node_timeout
    )


def _handlers(module: object, operations: Iterable[Operation]) -> dict[str, Handler]:
    """Each operation's handler: the function named after its operationId, in snake_case."""
    found = {}
    for op in operations:
        handler = getattr(module, snake(op.id), None)
        if handler is None:
            raise LookupError(f"{module!r} has no handler {snake(op.id)}() for operation {op.id}")
        found[op.id] = handler
    return found


def create_app(
    settings: Settings | None = None,
    *,
    providers: Iterable[Provider] | None = None,
    store: Store | None = None,
    resolver: Resolver | None = None,
    callback_transport: httpx.AsyncBaseTransport | None = None,
) -> MockApp:
    """The fake, with its own state; `app.state.mock` is the `Fake` for tests.

    `providers` replaces the registry (a third provider in tests); `store` the one
    `settings.store` names; `resolver` and `callback_transport` replace DNS and the network
    for callbacks."""
    settings = settings if settings is not None else Settings.from_env()
    registry = {p.slug: p for p in (providers if providers is not None else PROVIDERS.values())}
    clock = starting_state(settings.clock, settings.speed, settings.clock_start)
    store = store if store is not None else build_store(settings)
    engine = Engine(
        store,
        clock,
        timing=Timing(
            settings.queue_seconds, settings.run_seconds, settings.result_ttl, settings.task_retention
        ),
        seed=settings.seed,
        credits=settings.credits,
        rate_limit=settings.rate_limit,
        keys=settings.keys,
        accept_any_key=settings.accept_any_key,
        manual_start=settings.clock_start,
        id_block=1 if store.heartbeat is None else SHARED_ID_BLOCK,
    )
    guard = CallbackGuard(settings.allow_callback_hosts, resolver)
    specs = {slug: provider.spec(settings) for slug, provider in registry.items()}
    specs[CONTROL] = load_spec(CONTROL)
    fake: Fake

    def render(task: Task) -> dict[str, Any] | None:  # the fake is built just below
        return fake.callback_body(task)

    sender = CallbackSender(
        engine,
        guard,
        render,
        timeout=settings.callback_timeout,
        retry_delays=settings.callback_retry_delays,
        concurrency=settings.callback_concurrency,
        transport=callback_transport,
    )
    runtime = Runtime(engine, sender, settle_seconds=settings.settle_seconds)
    fake = Fake(
        settings,
        engine,
        runtime,
        sender,
        guard,
        registry,
        specs,
        known_hosts=known_hosts(settings),
        request_log=RequestLog(settings.log_format) if settings.log_requests else None,
    )

    apis = [
        Api(
            slug,
            specs[slug],
            provider.dialect(settings, engine),
            _handlers(provider.handlers, specs[slug].operations.values()),
            mounts=provider.mounts,
            accepts_failure=provider.accepts_failure,
            creates=frozenset({provider.create_operation}),
            calls_back=provider.render_callback is not None,
            case_sensitive=provider.case_sensitive,
            trailing_slash=provider.trailing_slash,
        )
        for slug, provider in registry.items()
    ]
    control_ops = frozenset(specs[CONTROL].operations) - {FILE_OPERATION} - UI_OPERATIONS
    access = ControlAccess.of(settings)
    control = Api(
        CONTROL,
        specs[CONTROL],
        ControlDialect(),
        _handlers(control_handlers, (specs[CONTROL].operations[op] for op in control_ops)),
        operations=control_ops,
        journaled=False,
        guarded=False,
        error_schema=CONTROL_ERROR,
        access=access,
        json_any_type=True,
    )
    ui = Api(
        UI,
        specs[CONTROL],
        ControlDialect(),
        _handlers(ui_handlers, (specs[CONTROL].operations[op] for op in UI_OPERATIONS)),
        operations=UI_OPERATIONS,
        journaled=False,
        guarded=False,
        error_schema=CONTROL_ERROR,
        access=access.for_pages(),
    )
    files = Api(
        FILES,
        specs[CONTROL],
        ControlDialect(),
        _handlers(control_handlers, [specs[CONTROL].operations[FILE_OPERATION]]),
        operations=frozenset({FILE_OPERATION}),
        guarded=False,
        error_schema=CONTROL_ERROR,
    )
    apis += [control, ui, files]
    router = Router(apis, lambda api, op: Endpoint(api, op, api.handlers[op.id], fake), fallback=control)
    conformance = (
        Conformance({api.slug: api for api in apis}, fake.violations) if settings.check_responses else None
    )
    return MockApp(fake, router, conformance)
