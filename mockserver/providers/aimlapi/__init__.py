"""The AI/ML API (`openapi/aimlapi.yaml`), at `/v2/video/generations`."""

from mockserver.providers.aimlapi import handlers, wire
from mockserver.providers.base import Provider
from mockserver.spec import spec_file
from mockserver.web.api import TrailingSlash

PROVIDER = Provider(
    slug=wire.SLUG,
    spec_file=spec_file(wire.SLUG),
    handlers=handlers,
    dialect=wire.AimlapiDialect,
    status_words=wire.STATUS_WORDS,
    create_operation="createGeneration",
    retrieve_operation="getGeneration",
    result_pointer="/video/url",
    settings=("aimlapi_usd_per_second", "aimlapi_create_status"),
    failure_pointer="/error/name",
    default_failure="GenerationError",
    cancel_failure="request_cancelled",
    accepts_failure=wire.accepts_failure,
    observed=wire.observed,
    base_urls={"aimlapi": "https://api.aimlapi.com"},
    # NestJS on Express: routes match in any case, and a trailing slash is the same route.
    case_sensitive=False,
    trailing_slash=TrailingSlash.SERVE,
)
