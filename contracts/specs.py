"""The provider specs as schemathesis schemas, configured for a target (in-process or a URL).

Contracts layer: reads the provider registry (`mockserver.providers`).
"""

from __future__ import annotations

from typing import Any

import jsonschema_rs
import schemathesis
from schemathesis import GenerationMode

from mockserver.providers import PROVIDERS, Provider
from mockserver.spec import read_document

__all__ = ["PROVIDERS", "error_validator", "id_pointer", "load_schema", "pointer"]


def error_validator(provider: Provider) -> jsonschema_rs.Validator:
    """The provider's error envelope (`components.schemas.ErrorResponse`)."""
    components = read_document(provider.spec_file)["components"]
    return jsonschema_rs.validator_for(
        {"$ref": "#/components/schemas/ErrorResponse", "components": components}, validate_formats=True
    )


def pointer(document: Any, path: str) -> Any:
    """The value at a JSON pointer (`/results/0`), or None where there is none."""
    node = document
    for part in path.strip("/").split("/"):
        if isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        elif isinstance(node, dict) and part in node:
            node = node[part]
        else:
            return None
    return node


def id_pointer(provider: Provider) -> str:
    """Where a create's answer holds the task id: the spec's link from the create operation
    to the retrieve operation says (`$response.body#/id`)."""
    create = provider.spec().operations[provider.create_operation]
    document = provider.spec().document
    raw = document["paths"][create.path][create.method.lower()]["responses"]
    for code, response in raw.items():
        for link in (response.get("links") or {}).values():
            if code.startswith("2") and link.get("operationId") == provider.retrieve_operation:
                expression = next(iter(link["parameters"].values()))
                return str(expression).removeprefix("$response.body#")
    raise LookupError(
        f"{provider.slug}: no link from {provider.create_operation} to {provider.retrieve_operation}"
    )


def load_schema(
    provider: Provider,
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
    schema = schemathesis.openapi.from_dict(read_document(provider.spec_file))
    if app is not None:
        schema.app = app
    schema.config.update(base_url=base_url.rstrip("/"), headers={"Authorization": f"Bearer {key}"})
    modes = [GenerationMode.POSITIVE] + ([GenerationMode.NEGATIVE] if negative else [])
    schema.config.generation.update(max_examples=max_examples, deterministic=deterministic, modes=modes)
    return schema
