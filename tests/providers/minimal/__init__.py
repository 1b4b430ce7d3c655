"""A third provider, to prove the seams: its spec, handlers and record live only in this
folder, and the fake, the control plane, the journal and the contract suite serve it as they
serve the real two."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mockserver import Settings, create_app
from mockserver.providers import PROVIDERS
from mockserver.providers.base import Provider
from tests import helpers
from tests.providers.minimal import handlers

PROVIDER = Provider(
    slug=handlers.SLUG,
    spec_file=Path(__file__).with_name("minimal.yaml"),
    handlers=handlers,
    dialect=handlers.ProblemDialect,
    status_words=handlers.WORDS,
    create_operation="createJob",
    retrieve_operation="getJob",
    result_pointer="/output",
    default_failure="crashed",
    cancel_failure="cancelled",
    accepts_failure=str.isidentifier,
)


def app(**settings: Any) -> Any:
    """The fake serving the real providers and this one (an app factory for `CONTRACTS_APP`;
    `MOCKSERVER_*` variables apply, such as the store)."""
    values: dict[str, Any] = {"clock": "manual", "seed": 0, "keys": ("mock-key", "contracts-other-key")}
    values.update(check_responses=True, **settings)
    store = helpers.default_store() if helpers.default_store is not None else None
    return create_app(Settings.from_env(**values), providers=[*PROVIDERS.values(), PROVIDER], store=store)
