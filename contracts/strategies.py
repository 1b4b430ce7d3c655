"""Hypothesis strategies for the specs' response bodies, drawn by schemathesis.

A component schema (say `TaskDetailResponse`) becomes the request body of a synthetic
operation, so `APIOperation.as_strategy` (positive mode) draws every body shape the spec
allows. (hypothesis-jsonschema does not work with current Hypothesis for object schemas.)

Contracts layer.
"""

from __future__ import annotations

import functools
from typing import Any

import schemathesis
from hypothesis import strategies as st
from schemathesis import GenerationMode

from mockserver.spec import read_document


@functools.cache
def _operation(provider: str, schema_name: str) -> Any:
    document = read_document(provider)
    synthetic = {
        "openapi": "3.1.0",
        "info": {"title": f"{provider} {schema_name} bodies", "version": "1"},
        "paths": {
            "/body": {
                "post": {
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {"schema": {"$ref": f"#/components/schemas/{schema_name}"}}
                        },
                    },
                    "responses": {"200": {"description": "unused"}},
                }
            }
        },
        "components": document["components"],
    }
    return schemathesis.openapi.from_dict(synthetic)["/body"]["POST"]


def bodies(provider: str, schema_name: str) -> st.SearchStrategy[Any]:
    """Every JSON value `components.schemas.<schema_name>` of the provider's spec allows."""
    strategy: st.SearchStrategy[Any] = _operation(provider, schema_name).as_strategy(
        generation_mode=GenerationMode.POSITIVE
    )
    return strategy.map(lambda case: case.body)
