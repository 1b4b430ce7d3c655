"""The EvoLink-style API (`openapi/evolink.yaml`), at `/v1/...` and under the mirror's `/apiv1`."""

from mockserver.providers.base import Provider
from mockserver.providers.evolink import handlers, wire
from mockserver.spec import spec_file
from mockserver.web.api import TrailingSlash

PROVIDER = Provider(
    slug=wire.SLUG,
    spec_file=spec_file(wire.SLUG),
    handlers=handlers,
    dialect=wire.EvolinkDialect,
    status_words=wire.STATUS_WORDS,
    create_operation="createVideoGeneration",
    retrieve_operation="getTaskDetail",
    result_pointer="/results/0",
    progress_pointer="/progress",
    settings=("evolink_errors",),
    failure_pointer="/error/code",
    default_failure="service_error",
    cancel_failure="request_cancelled",
    accepts_failure=wire.accepts_failure,
    observed=wire.observed,
    mounts=("", wire.MIRROR_PREFIX),
    base_urls={"evolink": "https://api.evolink.ai", "evolink-mirror": "https://ai.odkkk.com/apiv1"},
    render_callback=wire.render_task,
    relaxed_for_local_callbacks=(wire.CALLBACK_PATTERN,),
    variant=wire.variant,
    # A Gin gateway: case-sensitive paths, a trailing slash redirected (301 GET, 307 others).
    trailing_slash=TrailingSlash.REDIRECT,
)
