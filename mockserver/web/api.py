"""What an API the fake serves is made of, as a record: its spec, its error dialect, its
handlers and its routing rules. Neutral types that the provider records and the pipeline both
read, so a provider never needs the pipeline (or the fake) to describe itself.

Web layer: imports the spec and the error dialect only.
"""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from dataclasses import dataclass
from typing import Any

from starlette.responses import Response

from mockserver.spec import Operation, Spec
from mockserver.web.errors import ApiError, Dialect

# A handler takes the request as the pipeline hands it over (`web.pipeline.Call`).
Handler = Callable[[Any], Awaitable[Response]]
Access = Callable[[MutableMapping[str, Any], dict[bytes, bytes]], ApiError | None]  # the refusal, or None


class TrailingSlash(enum.Enum):
    """What an API does with a known path followed by one `/`."""

    STRICT = "strict"  # no route: 404
    SERVE = "serve"  # the same route answers (Express's default, non-strict routing)
    REDIRECT = "redirect"  # a redirect to the path without it: 301 for GET, else 307 (Gin's default)


@dataclass(frozen=True, eq=False)
class Api:
    """One API the fake serves: a provider's, the control plane, or the result files."""

    slug: str
    spec: Spec
    dialect: Dialect
    handlers: Mapping[str, Handler]  # by operationId
    mounts: tuple[str, ...] = ("",)  # prefixes the spec's paths are also served under
    operations: frozenset[str] | None = None  # None: all of the spec's
    journaled: bool = True
    guarded: bool = True  # injected faults, auth and the rate limit (the provider APIs)
    accepts_failure: Callable[[str], bool] | None = None  # codes a planned failure may name
    error_schema: str = "ErrorResponse"  # the spec's error envelope, in components.schemas
    access: Access | None = None  # who may call it at all (the control plane)
    json_any_type: bool = False  # take a JSON body whatever its Content-Type (curl -d sends a form type)
    creates: frozenset[str] = frozenset()  # operations that create a task (`lost` applies to them)
    calls_back: bool = False  # its tasks call back (callback chaos applies to them)
    case_sensitive: bool = True  # False: paths match in any case (Express's default)
    trailing_slash: TrailingSlash = TrailingSlash.STRICT

    def served(self) -> list[Operation]:
        return [
            op for op in self.spec.operations.values() if self.operations is None or op.id in self.operations
        ]
