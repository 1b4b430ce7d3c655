"""The specs of record, loaded once: operations, compiled validators and example bodies, and
the one formatter that names the field behind each schema error.

Imports no web framework: routes are built from `Spec.operations` in `web/routes.py`;
validators are jsonschema-rs, compiled once per spec at start-up.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema_rs
import yaml

_PACKAGED = Path(__file__).resolve().parent / "openapi"  # inside an installed wheel
SPEC_DIR = _PACKAGED if _PACKAGED.is_dir() else Path(__file__).resolve().parent.parent / "openapi"
SPEC_NAMES = ("aimlapi", "evolink", "control")
HTTP_METHODS = ("get", "post", "put", "patch", "delete", "head", "options")


@dataclass(frozen=True)
class FieldError:
    field: str  # "image_urls[0]", "generation_id", "body"
    detail: str
    keyword: str = "invalid"  # the schema keyword that failed: "enum", "required", ...
    # What the keyword asked for (enum options, a length limit, types, a format) and the value
    # that broke it, for a dialect that words its own details.
    expected: Any = dataclasses.field(default=None, compare=False)
    received: Any = dataclasses.field(default=None, compare=False)

    @property
    def top(self) -> str:
        """The top-level field: `image_urls` for `image_urls[0]`."""
        return re.split(r"[.\[]", self.field, maxsplit=1)[0]

    def __str__(self) -> str:
        return f"{self.field}: {self.detail}"


def field_errors(errors: Iterable[jsonschema_rs.ValidationError]) -> list[FieldError]:
    """Name each failing field: `image_urls[0]`, `duration`, or the missing property."""
    found = []
    for error in errors:
        path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.instance_path)
        name = path.lstrip(".")
        kind = error.kind
        if isinstance(kind, jsonschema_rs.ValidationErrorKind.Required):
            name = f"{name}.{kind.property}" if name else str(kind.property)
        elif isinstance(kind, jsonschema_rs.ValidationErrorKind.AdditionalProperties):
            extra = ", ".join(map(str, kind.unexpected))
            name = f"{name}.{extra}" if name else extra
        found.append(
            FieldError(name or "body", error.message, type(kind).__name__.lower(), kind.value, error.instance)
        )
    return sorted(found, key=lambda e: e.field)


def problems(validator: jsonschema_rs.Validator, instance: Any) -> list[FieldError]:
    """Every way `instance` breaks the schema (none when it is valid)."""
    if validator.is_valid(instance):  # the fast path: no error objects
        return []
    return field_errors(validator.iter_errors(instance))


@dataclass(frozen=True)
class Param:
    name: str
    location: str  # "query" or "path"
    required: bool
    schema: dict[str, Any]
    convertor: str | None = None  # x-path-convertor: a Starlette path convertor ("path")


@dataclass(frozen=True)
class ResponseSpec:
    status: int
    validator: jsonschema_rs.Validator | None
    example: Any = None
    examples: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Operation:
    spec: str
    id: str
    method: str
    path: str
    params: tuple[Param, ...]
    params_validator: jsonschema_rs.Validator | None
    body_validator: jsonschema_rs.Validator | None
    body_required: bool
    responses: dict[int, ResponseSpec]
    secured: bool

    def example_body(self, status: int, style: str | None = None) -> Any:
        """A fresh copy of the spec's example for `status` (the named one for `style`)."""
        response = self.responses[status]
        if style is not None and style in response.examples:
            return copy.deepcopy(response.examples[style])
        return copy.deepcopy(response.example)


@dataclass(frozen=True)
class Spec:
    name: str
    document: dict[str, Any] = field(repr=False)
    operations: dict[str, Operation] = field(repr=False)

    def as_json(self) -> bytes:
        return json.dumps(self.document).encode()


def _pointer(*parts: str) -> str:
    return "#/" + "/".join(part.replace("~", "~0").replace("/", "~1") for part in parts)


def _resolve(document: dict[str, Any], node: Any) -> Any:
    while isinstance(node, dict) and "$ref" in node:
        target: Any = document
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        node = target
    return node


def spec_file(name: str) -> Path:
    """One of the bundled specs, by name (`aimlapi`, `evolink`, `control`)."""
    return SPEC_DIR / f"{name}.yaml"


def read_document(source: str | Path) -> dict[str, Any]:
    """A spec (a bundled one by name, or a file) as a dict, response codes normalised to
    strings (PyYAML makes `200:` an int)."""
    path = spec_file(source) if isinstance(source, str) else source
    # libyaml's loader where available: start-up time matters (bench/README.md).
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    document: dict[str, Any] = yaml.load(path.read_text(), Loader=loader)
    for item in document.get("paths", {}).values():
        for method in HTTP_METHODS:
            if method in item:
                item[method]["responses"] = {str(k): v for k, v in item[method]["responses"].items()}
    return document


def _params_schema(params: tuple[Param, ...]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {param.name: param.schema for param in params},
        "required": [param.name for param in params if param.required],
    }


def _operation(
    name: str, document: dict[str, Any], validators: jsonschema_rs.ValidatorMap, path: str, method: str
) -> Operation:
    item = document["paths"][path]
    op = item[method]
    raw_params = [_resolve(document, p) for p in item.get("parameters", []) + op.get("parameters", [])]
    params = tuple(
        Param(
            p["name"],
            p["in"],
            bool(p.get("required")),
            _resolve(document, p.get("schema", {})),
            p.get("x-path-convertor"),
        )
        for p in raw_params
    )
    # Parameter schemas are checked as one object, compiled inside the document so refs resolve.
    params_validator = None
    if params:
        params_validator = jsonschema_rs.validator_for(
            {**_params_schema(params), "components": document.get("components", {})},
            validate_formats=True,
        )
    body_validator, body_required = None, False
    body = _resolve(document, op.get("requestBody"))
    if body and "application/json" in body.get("content", {}):
        body_validator = validators.get(
            _pointer("paths", path, method, "requestBody", "content", "application/json", "schema")
        )
        body_required = bool(body.get("required"))
    responses: dict[int, ResponseSpec] = {}
    for code, raw in op["responses"].items():
        response = _resolve(document, raw)
        media = response.get("content", {}).get("application/json")
        validator = None
        if media is not None:
            # A $ref'd response lives under components; point at wherever its schema is.
            where = (
                raw["$ref"].removeprefix("#/").split("/")
                if "$ref" in raw
                else ["paths", path, method, "responses", code]
            )
            validator = validators.get(_pointer(*where, "content", "application/json", "schema"))
        media = media or {}
        examples = {k: v.get("value") for k, v in media.get("examples", {}).items()}
        responses[int(code)] = ResponseSpec(int(code), validator, media.get("example"), examples)
    secured = op.get("security", document.get("security", [])) != []
    return Operation(
        name,
        op["operationId"],
        method.upper(),
        path,
        params,
        params_validator,
        body_validator,
        body_required,
        responses,
        secured,
    )


def compile_spec(name: str, document: dict[str, Any]) -> Spec:
    validators = jsonschema_rs.validator_map_for(document, validate_formats=True)
    operations = {}
    for path, item in document["paths"].items():
        for method in HTTP_METHODS:
            if method in item:
                op = _operation(name, document, validators, path, method)
                operations[op.id] = op
    return Spec(name, document, operations)


def load_spec(name: str, drop: tuple[str, ...] = ()) -> Spec:
    """A bundled spec, compiled once."""
    return load_spec_file(spec_file(name), drop)


@functools.cache
def load_spec_file(path: Path, drop: tuple[str, ...] = ()) -> Spec:
    """Load and compile a spec once; `drop` removes schema keywords by JSON pointer first
    (the fake relaxes the callback_url scheme rule when local receivers are allowed)."""
    document = read_document(path)
    for pointer in drop:
        *parents, last = (p.replace("~1", "/").replace("~0", "~") for p in pointer.strip("/").split("/"))
        node: Any = document
        for part in parents:
            node = node[part]
        node.pop(last, None)
    return compile_spec(path.stem, document)


def coerce(value: str, schema: dict[str, Any]) -> Any:
    """Query and path values arrive as strings: convert to the schema's type before checking."""
    kind = schema.get("type")
    if kind is None or kind == "string":
        return value
    try:
        if kind == "integer":
            return int(value)
        if kind == "number":
            return float(value)
        if kind == "boolean" and value in ("true", "false"):
            return value == "true"
    except ValueError:
        return value
    return value
