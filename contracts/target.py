"""What the contract suite runs against: the in-process fake (default), an app factory, or any
base URL (the fake on a port, or the real provider). Configured by `CONTRACTS_*` variables so
`contracts check` and our own tests run the very same suite.

Contracts layer.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
import hypothesis
import schemathesis

from contracts.checks import LifecycleChecks
from contracts.specs import PROVIDERS, id_pointer, load_schema, pointer
from mockserver.providers import Provider
from mockserver.spec import read_document

ENV = "CONTRACTS_"
IN_PROCESS_URL = "http://contracts.test"
DEFAULT_KEY = "mock-key"
DEFAULT_OTHER_KEY = "contracts-other-key"
STEP_SECONDS = 20.0  # fake time the stateful run moves between steps (a task takes 79 s)


def default_app(key: str = DEFAULT_KEY, other_key: str = DEFAULT_OTHER_KEY) -> Any:
    """The fake, in-process, on a manual clock, checking its own responses."""
    from mockserver import Settings, create_app

    return create_app(Settings(clock="manual", seed=0, keys=(key, other_key), check_responses=True))


def _import(path: str) -> Callable[[], Any]:
    module, _, name = path.partition(":")
    factory: Callable[[], Any] = getattr(importlib.import_module(module), name)
    return factory


@dataclass
class Target:
    providers: tuple[Provider, ...] = tuple(PROVIDERS.values())
    base_url: str | None = None  # None: in-process
    app: Any = None
    key: str = DEFAULT_KEY
    other_key: str = DEFAULT_OTHER_KEY
    max_examples: int = 25
    stateful_examples: int = 10
    deterministic: bool = True
    negative: bool = True
    stateful: bool = True
    _control: bool | None = field(default=None, repr=False)
    _checks: dict[str, LifecycleChecks] = field(default_factory=dict, repr=False)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Target:
        env = os.environ if environ is None else environ

        def get(name: str, default: str) -> str:
            return env.get(ENV + name, default)

        key = get("KEY", DEFAULT_KEY)
        other_key = get("OTHER_KEY", DEFAULT_OTHER_KEY)
        base_url = get("BASE_URL", "") or None
        app = None
        registry: Mapping[str, Provider] = PROVIDERS
        if base_url is None:
            factory = get("APP", "")
            app = _import(factory)() if factory else default_app(key, other_key)
            registry = app.state.mock.providers  # the in-process fake's own registry
        wanted = tuple(p for p in get("PROVIDERS", ",".join(registry)).split(",") if p)
        unknown = set(wanted) - set(registry)
        if unknown:
            raise ValueError(f"unknown providers {sorted(unknown)}; choose from {sorted(registry)}")
        return cls(
            providers=tuple(registry[slug] for slug in wanted),
            base_url=base_url,
            app=app,
            key=key,
            other_key=other_key,
            max_examples=int(get("MAX_EXAMPLES", "25")),
            stateful_examples=int(get("STATEFUL_EXAMPLES", "10")),
            deterministic=get("DETERMINISTIC", "1") != "0",
            negative=get("NEGATIVE", "1") != "0",
            stateful=get("STATEFUL", "1") != "0",
        )

    @property
    def url(self) -> str:
        return self.base_url or IN_PROCESS_URL

    def schema(self, provider: Provider) -> Any:
        return load_schema(
            provider,
            base_url=self.url,
            key=self.key,
            app=self.app,
            max_examples=self.max_examples,
            negative=self.negative,
            deterministic=self.deterministic,
        )

    def checks(self, provider: Provider) -> list[Any]:
        """Our checks for this provider, remembering what they saw during this run."""
        if provider.slug not in self._checks:
            self._checks[provider.slug] = LifecycleChecks(provider)
        return self._checks[provider.slug].all()

    def hypothesis_settings(self, examples: int) -> hypothesis.settings:
        return hypothesis.settings(
            max_examples=examples,
            deadline=None,
            derandomize=self.deterministic,
            database=None,
            stateful_step_count=8,
            suppress_health_check=list(hypothesis.HealthCheck),
        )

    # -- the fake's control plane, when the target has one ------------------------------

    def has_control_plane(self) -> bool:
        """True for the fake (it answers GET /__mock/clock); a real provider has none."""
        if self.app is not None:  # the in-process fake
            return True
        if self._control is None:
            try:
                with httpx.Client(base_url=self.url, timeout=10) as http:
                    self._control = http.get("/__mock/clock").status_code == 200
            except httpx.HTTPError:
                self._control = False
        return self._control

    def advance(self, seconds: float) -> None:
        if self.app is not None:
            # Through schemathesis' own in-process transport: the fake stays on one event loop.
            control = schemathesis.openapi.from_dict(read_document("control"))
            control.app = self.app
            control.config.update(base_url=self.url)
            case = control["/__mock/clock/advance"]["POST"].Case(body={"seconds": seconds})
            assert case.call().status_code == 200
        elif self.has_control_plane():
            with httpx.Client(base_url=self.url, timeout=60) as http:
                http.post("/__mock/clock/advance", json={"seconds": seconds}).raise_for_status()

    # -- the stateful run -----------------------------------------------------------------

    def state_machine(self, provider: Provider) -> Any:
        """Follows the spec's links (create -> retrieve), checking after each create that the
        task is retrievable by the same key and not by another, and moving the fake's clock
        between steps so tasks reach their terminal states."""
        schema = self.schema(provider)
        target = self
        retrieve = schema.find_operation_by_id(provider.retrieve_operation)
        checks = self.checks(provider)
        created_id = id_pointer(provider)

        class LifecycleMachine(schema.as_state_machine()):  # type: ignore[misc]
            def validate_response(
                self, response: Any, case: Any, additional_checks: Any = None, **kwargs: Any
            ) -> None:
                super().validate_response(
                    response, case, additional_checks=[*(additional_checks or []), *checks], **kwargs
                )

            def after_call(self, response: Any, case: Any) -> None:
                if (
                    case.operation.definition.raw.get("operationId") == provider.create_operation
                    and response.status_code < 300
                ):
                    target.check_ownership(retrieve, str(pointer(response.json(), created_id)))
                target.advance(STEP_SECONDS)

        LifecycleMachine.TestCase.settings = self.hypothesis_settings(self.stateful_examples)
        return LifecycleMachine

    def check_ownership(self, retrieve: Any, task_id: str) -> None:
        """A created task is retrievable by its key and not by another (its id goes where the
        retrieve operation takes it: a path or a query parameter)."""
        [param] = [p for p in retrieve.definition.raw.get("parameters", []) if p.get("required")]
        place = {"path": "path_parameters", "query": "query"}[param["in"]]
        case = retrieve.Case(**{place: {param["name"]: task_id}})
        mine = case.call(headers={"Authorization": f"Bearer {self.key}"})
        assert mine.status_code == 200, f"a created task is not retrievable by its key: {mine.status_code}"
        assert task_id in mine.text
        theirs = case.call(headers={"Authorization": f"Bearer {self.other_key}"})
        assert theirs.status_code in (401, 403, 404), f"another key can read the task: {theirs.status_code}"
