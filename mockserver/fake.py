"""One fake, as its parts: settings, engine, runtime, callbacks, the provider registry and the
specs it serves. `app.state.mock` is this object, for assertions from Python.

App layer: built by `mockserver.app.create_app`; imports no web framework.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mockserver.callbacks.delivery import CallbackSender
from mockserver.callbacks.guard import CallbackGuard
from mockserver.engine import Engine, Task
from mockserver.engine.replay import Book
from mockserver.events.hub import Hub
from mockserver.logs import RequestLog
from mockserver.metrics import Metrics
from mockserver.runtime import Runtime
from mockserver.settings import Settings
from mockserver.spec import Spec

if TYPE_CHECKING:
    from mockserver.providers.base import Provider
    from mockserver.upstream.upstreams import Upstreams


@dataclass(eq=False)
class Fake:
    settings: Settings
    engine: Engine
    runtime: Runtime
    callbacks: CallbackSender
    guard: CallbackGuard
    providers: Mapping[str, Provider]
    specs: Mapping[str, Spec]  # every spec served, by name: the providers' and "control"
    events: Hub  # the event stream's subscribers (`GET /__mock/events`)
    metrics: Metrics  # `GET /__mock/metrics`
    violations: list[str] = field(default_factory=list)  # responses outside the spec (tests)
    known_hosts: frozenset[str] = frozenset()  # names the fake is reached by (web/hosts.py)
    request_log: RequestLog | None = None  # a line per request (settings.log_requests)
    replay: Book | None = None  # the recordings being replayed (settings.replay, or loaded later)
    upstream: Upstreams | None = None  # the proxied providers (settings.upstreams), if any

    def serving(self, operation: str | None) -> list[Provider]:
        """The providers that serve `operation` (all of them for None)."""
        return [p for p in self.providers.values() if operation is None or operation in p.operation_ids]

    def status_word(self, task: Task) -> str:
        """The word the task's provider shows for its status now."""
        snapshot = self.engine.observe(task)
        return snapshot.word or self.providers[task.provider].status_words[snapshot.status]

    def callback_body(self, task: Task) -> dict[str, Any] | None:
        """The task as it ends: a callback planned to come early already shows the end."""
        provider = self.providers.get(task.provider)
        if provider is None or provider.render_callback is None:
            return None
        ended = task.observe(max(self.engine.now(), task.ends_at))
        return provider.render_callback(task, ended, task.origin)
