"""`create_app(settings)`: the composition root. Settings -> store -> Engine -> the provider
registry -> one ASGI app serving every provider, the control plane and the result files, for
uvicorn and for in-process tests alike.

App layer: the only module that knows every part.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from mockserver.callbacks.delivery import CallbackSender
from mockserver.callbacks.guard import CallbackGuard, Resolver
from mockserver.control import CONTROL, FILES
from mockserver.control import handlers as control_handlers
from mockserver.control.access import ControlAccess
from mockserver.control.views import ControlDialect
from mockserver.engine import Engine, Task, Timing, starting_state
from mockserver.engine.replay import Book
from mockserver.events.hub import Hub, JournalSource, Transport
from mockserver.events.journal import StoreJournal
from mockserver.fake import Fake
from mockserver.logs import RequestLog
from mockserver.metrics import Metrics
from mockserver.providers import PROVIDERS, Provider
from mockserver.runtime import Runtime
from mockserver.settings import MEMORY_STORE, REDIS_SCHEMES, Settings
from mockserver.spec import Operation, Spec, load_spec
from mockserver.store.base import Store
from mockserver.store.memory import MemoryStore
from mockserver.ui import handlers as ui_handlers
from mockserver.upstream import recordings
from mockserver.web.api import Api, Handler
from mockserver.web.asgi import MockApp
from mockserver.web.conformance import Conformance
from mockserver.web.hosts import known_hosts
from mockserver.web.pipeline import Endpoint
from mockserver.web.routes import Router, snake

if TYPE_CHECKING:
    import httpx

    from mockserver.upstream.upstreams import Upstreams

FILE_OPERATION = "getResultVideo"
UI = "ui"  # the dashboard's operations: pages of the control plane served without its token
UI_OPERATIONS = frozenset({"getDashboard", "getDashboardAsset"})
CONTROL_ERROR = "ControlError"  # openapi/control.yaml's error envelope
# Sequence numbers a process takes from its store at a time: one store call (with a shared store,
# a round trip) per block, not one per create. Alone on its store, a process numbers the same.
ID_BLOCK = 1000
REDIS_MISSING = "a shared store's events need redis-py: pip install 'videogen-mock[redis]'"


def _memory(settings: Settings) -> Store:
    return MemoryStore(settings.journal_limit)


def _redis(settings: Settings) -> Store:
    """Imported only for a Redis URL. The store needs nothing installed (hiredis, in the
    `[redis]` extra, makes it faster); the events between processes need redis-py (`build_events`)."""
    from mockserver.store.redis import RedisStore

    return RedisStore(
        settings.store, journal_limit=settings.journal_limit, node_timeout=settings.node_timeout
    )


# Each store backend, by the scheme of `settings.store` (`memory` has none).
STORES: dict[str, Callable[[Settings], Store]] = {
    MEMORY_STORE: _memory,
    **{scheme.removesuffix("://"): _redis for scheme in REDIS_SCHEMES},
}


def build_store(settings: Settings) -> Store:
    """The store `settings.store` names."""
    scheme = settings.store.partition("://")[0]
    return STORES[scheme](settings)


def replay_book(settings: Settings, providers: Mapping[str, Provider]) -> Book | None:
    """The recordings `settings.replay` names, ready to replay (None: none named)."""
    if not settings.replay:
        return None
    book = Book(providers, strict=settings.replay_strict)
    for path in settings.replay:
        book.load(recordings.read(path))
    return book


def build_events(settings: Settings, engine: Engine, store: Store) -> tuple[Hub, Metrics]:
    """The event hub and the metrics. With a shared store, this process's events travel to the
    others (and theirs come here) on a connection of their own, and metrics count from the start
    (`mockserver/metrics/`); alone, both listen only once someone asks."""
    transport: Transport | None = None
    journal: JournalSource = StoreJournal(store)
    if settings.shared and store.heartbeat is not None:
        try:
            from mockserver.events.redis import RedisEvents
        except ImportError as error:
            raise RuntimeError(REDIS_MISSING) from error
        from mockserver.store.redis import DEFAULT_PREFIX

        transport = journal = RedisEvents(settings.store, getattr(store, "prefix", DEFAULT_PREFIX))
        engine.events.listen(transport.publish)
    hub = Hub(
        engine,
        journal,
        queue=settings.events_queue,
        history=settings.events_history,
        step=settings.events_progress_step,
        transport=transport,
    )
    metrics = Metrics(engine)
    if transport is not None:
        metrics.start()
    return hub, metrics


def _handlers(module: object, operations: Iterable[Operation]) -> dict[str, Handler]:
    """Each operation's handler: the function named after its operationId, in snake_case."""
    found = {}
    for op in operations:
        handler = getattr(module, snake(op.id), None)
        if handler is None:
            raise LookupError(f"{module!r} has no handler {snake(op.id)}() for operation {op.id}")
        found[op.id] = handler
    return found


def _upstreams(
    settings: Settings,
    engine: Engine,
    guard: CallbackGuard,
    registry: dict[str, Provider],
    specs: dict[str, Spec],
) -> Upstreams | None:
    """The proxied providers, if any: imported only then (httpx with them), as the callback
    sender imports it only when a callback is due."""
    if not settings.upstreams:
        return None
    from mockserver.upstream.upstreams import Upstreams

    return Upstreams(settings, engine, guard, registry, specs)


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
        id_block=ID_BLOCK,
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
    hub, metrics = build_events(settings, engine, store)
    runtime.on_stop(hub.close)
    upstream = _upstreams(settings, engine, guard, registry, specs)
    if upstream is not None:
        runtime.on_stop(upstream.close)
    fake = Fake(
        settings,
        engine,
        runtime,
        sender,
        guard,
        registry,
        specs,
        hub,
        metrics,
        known_hosts=known_hosts(settings),
        request_log=RequestLog(settings.log_format) if settings.log_requests else None,
        replay=replay_book(settings, registry),
        upstream=upstream,
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

    def endpoint(api: Api, op: Operation) -> Endpoint:
        """The operation's endpoint: forwarded for a proxied provider, else the fake's handler."""
        forwarder = upstream.endpoint(api, op, fake) if upstream is not None else None
        return forwarder if forwarder is not None else Endpoint(api, op, api.handlers[op.id], fake)

    router = Router(apis, endpoint, fallback=control)
    conformance = (
        Conformance({api.slug: api for api in apis}, fake.violations) if settings.check_responses else None
    )
    return MockApp(fake, router, conformance)
