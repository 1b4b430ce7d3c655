"""The `Provider` record: everything the fake, the control plane and the contract toolkit need
to know about one provider API, registered in one place (`mockserver/providers/__init__.py`).

Provider layer: imports the engine, the specs and the web layer's types; never the app.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import urlsplit

from mockserver.engine import Engine, Failure, Snapshot, Task, TaskStatus
from mockserver.engine.tasks import Observation
from mockserver.settings import Settings
from mockserver.spec import Operation, Spec, load_spec_file
from mockserver.web.api import TrailingSlash
from mockserver.web.errors import Dialect

RenderCallback = Callable[[Task, Snapshot, str], dict[str, Any]]  # (task, snapshot, base URL)
ObserveBody = Callable[[Any, float], tuple[Observation, Failure | None] | None]  # (body, offset)


@dataclass(frozen=True, eq=False)
class Provider:
    """A provider API. Its spec names its error envelope `components.schemas.ErrorResponse`,
    and links its create operation's answer to its retrieve operation (the task id)."""

    slug: str
    spec_file: Path  # its OpenAPI 3.1 document
    handlers: ModuleType  # the handler of operation `createThing` is its function `create_thing`
    dialect: Callable[[Settings, Engine], Dialect]  # its error envelope, for this fake's settings
    status_words: Mapping[TaskStatus, str]  # what a task's status is called on the wire
    create_operation: str
    retrieve_operation: str
    result_pointer: str  # JSON pointer to the result URL in a finished retrieve body
    default_failure: str  # business code of a failure forced with no code
    cancel_failure: str  # business code of a cancelled task
    accepts_failure: Callable[[str], bool]  # codes a task of this provider may fail with
    mounts: tuple[str, ...] = ("",)  # prefixes the spec's paths are served under
    settings: tuple[str, ...] = ()  # the Settings fields this provider alone reads
    # The real service's base URLs by name (the pytest plugin routes their hosts to the fake;
    # a path such as a mirror's `/apiv1` is one of the mounts).
    base_urls: Mapping[str, str] = field(default_factory=dict)
    status_pointer: str = "/status"  # JSON pointer to the status word in a task body
    progress_pointer: str | None = None  # JSON pointer to a 0-100 progress, where it reports one
    failure_pointer: str | None = None  # JSON pointer to a failed task's business code
    render_callback: RenderCallback | None = None  # its callback body, if it calls back
    # What a task body says, as a recording's observation at an offset from the create (replay).
    observed: ObserveBody | None = None
    # JSON pointers removed from the spec when callbacks to local receivers are allowed.
    relaxed_for_local_callbacks: tuple[str, ...] = field(default=())
    # JSON pointers these settings remove from the spec (responses one error style lacks).
    variant: Callable[[Settings], tuple[str, ...]] | None = None
    # How the real gateway routes: paths in any case, and a known path followed by `/`.
    case_sensitive: bool = True
    trailing_slash: TrailingSlash = TrailingSlash.STRICT

    def spec(self, settings: Settings | None = None) -> Spec:
        """The spec as the fake serves it with these settings (all of it without)."""
        if settings is None:
            return load_spec_file(self.spec_file)
        drop = self.relaxed_for_local_callbacks if settings.allow_callback_hosts else ()
        if self.variant is not None:
            drop += self.variant(settings)
        return load_spec_file(self.spec_file, drop)

    @functools.cached_property
    def operation_ids(self) -> tuple[str, ...]:
        return tuple(self.spec().operations)

    def operation(self, operation_id: str) -> Operation | None:
        return self.spec().operations.get(operation_id)

    def status_order(self) -> dict[str, int]:
        """Each status word's place in a lifecycle: a task never moves to a lower one."""
        rank = {TaskStatus.QUEUED: 0, TaskStatus.RUNNING: 1, TaskStatus.SUCCEEDED: 2, TaskStatus.FAILED: 2}
        return {word: rank[status] for status, word in self.status_words.items()}

    @property
    def hosts(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(urlsplit(url).netloc for url in self.base_urls.values()))
