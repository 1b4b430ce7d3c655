"""The provider specs as schemathesis schemas, configured for a target (in-process or a URL).

Contracts layer: may import the fake (for the spec files and the in-process app).
"""

from __future__ import annotations

from typing import Any

import jsonschema_rs
import schemathesis
from schemathesis import GenerationMode

from mockserver.spec import read_document

PROVIDERS = ("aimlapi", "evolink")
CREATE = {"aimlapi": "createGeneration", "evolink": "createVideoGeneration"}
RETRIEVE = {"aimlapi": "getGeneration", "evolink": "getTaskDetail"}
# The status words in the order a task may show them; a task never moves back.
STATUS_ORDER = {
    "aimlapi": {"queued": 0, "generating": 1, "completed": 2, "error": 2},
    "evolink": {"pending": 0, "processing": 1, "completed": 2, "failed": 2},
}
COMPLETED = {"aimlapi": "completed", "evolink": "completed"}


def provider_of_path(path: str) -> str:
    return "aimlapi" if path.startswith("/v2/") else "evolink"


def error_validator(provider: str) -> jsonschema_rs.Validator:
    """The provider's error envelope (`components.schemas.ErrorResponse`)."""
    components = read_document(provider)["components"]
    return jsonschema_rs.validator_for(
        {"$ref": "#/components/schemas/ErrorResponse", "components": components}, validate_formats=True
    )


def load_schema(
    provider: str,
    *,
    base_url: str,
    key: str,
    app: Any = None,
    max_examples: int = 25,
    negative: bool = True,
    deterministic: bool = True,
) -> Any:
    """A schemathesis schema for one provider's spec of record, pointed at `base_url`
    (through `app` in-process, when given) with the key, deterministic by default."""
    schema = schemathesis.openapi.from_dict(read_document(provider))
    if app is not None:
        schema.app = app
    schema.config.update(base_url=base_url.rstrip("/"), headers={"Authorization": f"Bearer {key}"})
    modes = [GenerationMode.POSITIVE] + ([GenerationMode.NEGATIVE] if negative else [])
    schema.config.generation.update(max_examples=max_examples, deterministic=deterministic, modes=modes)
    return schema
