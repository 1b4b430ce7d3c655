"""The checks of one exchange against the provider's spec: the request (did the upstream accept
what the spec refuses?), the answer's status, content type, body (schema, enums, status words,
fields the spec does not name) and error envelope, and a callback's body against its schema.
Each yields (kind, detail) pairs; `drift.py` groups them.

Upstream layer.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from mockserver.spec import FieldError, Operation, Spec, coerce, problems
from mockserver.upstream.har import Exchange
from mockserver.upstream.shape import Shape

Check = Iterator[tuple[str, str]]  # (kind, detail)
INVALID = frozenset({400, 422})  # what an upstream answers a request it finds invalid
LAYOUTS_KEPT = 256  # answers' field layouts whose unnamed fields are remembered, per provider
_TEMPLATE = re.compile(r"\{(\w+)\}")


def _show(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= 80 else text[:77] + "..."


def _is_json(content_type: str) -> bool:
    kind = content_type.split(";", maxsplit=1)[0].strip().lower()
    return kind == "application/json" or kind.endswith("+json")


# -- the request --------------------------------------------------------------------------


def path_params(op: Operation, url: str) -> dict[str, str] | None:
    """The path parameters of a recorded URL (whatever base path the upstream has), or None."""
    parts, last = [], 0
    for found in _TEMPLATE.finditer(op.path):
        parts += [re.escape(op.path[last : found.start()]), f"(?P<{found.group(1)}>.+?)"]
        last = found.end()
    pattern = re.compile("".join(parts) + re.escape(op.path[last:]) + "$")
    matched = pattern.search(urlsplit(url).path)
    return None if matched is None else {k: unquote(v) for k, v in matched.groupdict().items()}


def request_problems(op: Operation, exchange: Exchange) -> list[FieldError]:
    """How the recorded request breaks the spec (none when it is valid)."""
    found: list[FieldError] = []
    if op.params_validator is not None:
        raw = {**dict(parse_qsl(urlsplit(exchange.url).query)), **(path_params(op, exchange.url) or {})}
        values = {p.name: coerce(raw[p.name], p.schema) for p in op.params if p.name in raw}
        found += problems(op.params_validator, values)
    if op.body_validator is not None:
        body, text = exchange.request_body, exchange.entry["request"].get("postData", {}).get("text", "")
        if body is None and text:
            found.append(FieldError("body", "not JSON", "json"))
        elif body is None and op.body_required:
            found.append(FieldError("body", "a JSON body is required", "empty"))
        elif body is not None:
            found += problems(op.body_validator, body)
    return found


def check_request(op: Operation, exchange: Exchange) -> Check:
    """The upstream accepting a request the spec refuses is drift; refusing one it accepts, as
    invalid, is worth knowing (a rule the spec does not state)."""
    errors = request_problems(op, exchange)
    if errors and 200 <= exchange.status < 300:
        yield "request_accepted", f"answered {exchange.status} to a request the spec refuses: {errors[0]}"
    elif not errors and exchange.status in INVALID:
        message = (
            _show(exchange.response_body) if exchange.response_body is not None else exchange.response_text
        )
        yield "request_refused", f"answered {exchange.status} to a request the spec accepts: {message[:120]}"


# -- the answer ---------------------------------------------------------------------------


def check_answer(shape: Shape, op: Operation, exchange: Exchange) -> Check:
    status, documented = exchange.status, op.responses.get(exchange.status)
    if documented is None:
        listed = ", ".join(str(s) for s in sorted(op.responses))
        yield "undocumented_status", f"{status} (documented: {listed})"
    if exchange.method == "HEAD" or (documented is not None and documented.validator is None):
        return
    body = exchange.response_body
    if not _is_json(exchange.content_type) or body is None:
        shown = exchange.content_type or "no content type"
        yield "content_type", f"{status} answered {shown}{'' if body is not None else ', not a JSON body'}"
        return
    if status >= 400:
        yield from _check_envelope(shape, op, status, body)
        return
    if documented is None or documented.validator is None:
        return
    yield from classify(shape, problems(documented.validator, body))
    for name in unnamed_fields(shape, op, status, body):
        yield "unnamed_field", name


def unnamed_fields(shape: Shape, op: Operation, status: int, body: Any) -> tuple[str, ...]:
    """The fields of an answer its schema names nowhere, found once per layout of fields (a
    client polls a task many times, and its answers keep one layout)."""
    key = (op.id, status, _layout(body))
    found = shape.unnamed.get(key)
    if found is None:
        if len(shape.unnamed) >= LAYOUTS_KEPT:
            shape.unnamed.clear()
        schema = response_schema(shape.spec, op, status)
        found = shape.unnamed[key] = tuple(sorted(set(unnamed(shape.spec.document, schema, body))))
    return found


def _layout(value: Any) -> Any:
    """The names a body holds, nested, without its values."""
    if isinstance(value, dict):
        return tuple((name, _layout(item)) for name, item in value.items())
    if isinstance(value, list):
        return frozenset(_layout(item) for item in value)
    return None


def check_callback(shape: Shape, exchange: Exchange) -> Check:
    if shape.callback_validator is None:
        return
    body = exchange.request_body
    if body is None:
        yield (
            "content_type",
            f"a callback that is not a JSON body ({exchange.request_headers.get('content-type')})",
        )
        return
    yield from classify(shape, problems(shape.callback_validator, body))


def _check_envelope(shape: Shape, op: Operation, status: int, body: Any) -> Check:
    documented = op.responses.get(status)
    validator = documented.validator if documented is not None else None
    errors = problems(validator or shape.envelope, body)
    if errors:
        yield "error_envelope", f"{status} {_show(body)}: {errors[0]}"


def classify(shape: Shape, errors: list[FieldError]) -> Check:
    """Schema errors by kind: a status word the spec does not list, another value outside an
    enum, a missing required field, a wrong type, or another rule."""
    status_field = (shape.provider.status_pointer or "").strip("/").replace("/", ".")
    for error in errors:
        if error.keyword in ("enum", "const") and error.field == status_field:
            word = error.received
            known = isinstance(word, str) and word in shape.statuses
            yield ("schema" if known else "new_status_word"), f"{error.field} {_show(word)}: {error.detail}"
        elif error.keyword in ("enum", "const"):
            yield "enum", f"{error.field} {_show(error.received)}: {error.detail}"
        elif error.keyword == "required":
            yield "missing_field", f"{error.field}: {error.detail}"
        elif error.keyword == "type":
            yield "wrong_type", f"{error.field} {_show(error.received)}: {error.detail}"
        else:
            yield "schema", f"{error.field}: {error.detail}"


# -- fields the spec does not name ---------------------------------------------------------


def response_schema(spec: Spec, op: Operation, status: int) -> Any:
    raw = spec.document["paths"][op.path][op.method.lower()]["responses"].get(str(status), {})
    media = _resolve(spec.document, raw).get("content", {}).get("application/json", {})
    return media.get("schema", {})


def _resolve(document: dict[str, Any], node: Any) -> Any:
    while isinstance(node, dict) and "$ref" in node:
        target: Any = document
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        node = target
    return node


def _branches(document: dict[str, Any], schema: Any) -> list[dict[str, Any]]:
    """A schema and every part it is made of (allOf, anyOf, oneOf, if/then/else)."""
    schema = _resolve(document, schema)
    if not isinstance(schema, dict):
        return []
    found = [schema]
    for word in ("allOf", "anyOf", "oneOf"):
        for part in schema.get(word, []):
            found += _branches(document, part)
    for word in ("then", "else"):
        if word in schema:
            found += _branches(document, schema[word])
    return found


def unnamed(document: dict[str, Any], schema: Any, value: Any, where: str = "") -> Iterator[str]:
    """Paths of the fields in `value` that its schema names nowhere (`items[].field` for arrays)."""
    parts = _branches(document, schema)
    if isinstance(value, dict):
        named: dict[str, list[Any]] = {}
        for part in parts:
            for name, sub in part.get("properties", {}).items():
                named.setdefault(name, []).append(sub)
        extra = [p["additionalProperties"] for p in parts if isinstance(p.get("additionalProperties"), dict)]
        if not named and not any("properties" in p for p in parts):
            return  # a free-form object
        for name, item in value.items():
            path = f"{where}.{name}" if where else name
            if name in named:
                for sub in named[name]:
                    yield from unnamed(document, sub, item, path)
            elif extra:
                yield from unnamed(document, extra[0], item, path)
            else:
                yield path
    elif isinstance(value, list):
        items = [p["items"] for p in parts if isinstance(p.get("items"), dict)]
        for item in value:
            for sub in items:
                yield from unnamed(document, sub, item, f"{where}[]")
