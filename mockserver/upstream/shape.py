"""Where a provider's bodies keep what the proxy and the drift report read, found from its record
and its spec alone: the task id (the spec's link from the create answer to the retrieve
operation), the status word and its neutral status, progress, a failure's business code, the
callback URL in a create body (the spec's callback expression) and the callback's schema.

Upstream layer: provider words arrive only through the `Provider` record and the spec.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import jsonschema_rs

from mockserver.engine import TaskStatus
from mockserver.providers.base import Provider
from mockserver.spec import Operation, Spec

# `{$request.body#/callback_url}`: where a create body names the callback URL (OpenAPI runtime
# expressions); `$response.body#/id`: where an answer names the task id.
ENVELOPE = "ErrorResponse"  # each provider spec's error envelope, in components.schemas
REQUEST_BODY = re.compile(r"^\{\$request\.body#(?P<pointer>/[^}]*)\}$")
RESPONSE_BODY = re.compile(r"^\$response\.body#(?P<pointer>/.*)$")
MISSING = object()


def at(document: Any, pointer: str | None) -> Any:
    """The value at a JSON pointer, or MISSING."""
    if pointer is None:
        return MISSING
    node = document
    for raw in pointer.split("/")[1:]:
        part = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return MISSING
    return node


def put(document: Any, pointer: str, value: Any) -> None:
    """Set the value at a JSON pointer whose parent exists."""
    *parents, last = pointer.split("/")[1:]
    node = at(document, "/" + "/".join(parents)) if parents else document
    node[last.replace("~1", "/").replace("~0", "~")] = value


@dataclass(frozen=True, eq=False)
class Shape:
    provider: Provider
    spec: Spec
    id_pointer: str  # the task id in a create (and task-query) answer
    retrieve_param: str  # the retrieve operation's parameter that names the task
    callback_pointer: str | None  # the callback URL in a create body
    callback_operation: str | None  # the callback's operationId in the spec
    callback_validator: jsonschema_rs.Validator | None
    envelope: jsonschema_rs.Validator  # the error envelope, for answers no operation documents
    statuses: dict[str, TaskStatus] = field(default_factory=dict)  # status word -> neutral status
    # (operation, status, field layout) -> the fields its schema does not name (checks.py)
    unnamed: dict[tuple[Any, ...], tuple[str, ...]] = field(default_factory=dict)

    @classmethod
    def of(cls, provider: Provider, spec: Spec) -> Shape:
        create = spec.operations[provider.create_operation]
        raw = spec.document["paths"][create.path][create.method.lower()]
        id_pointer, param = _link(raw, provider.retrieve_operation)
        callback_pointer, callback_operation, validator = _callback(spec, raw)
        return cls(
            provider,
            spec,
            id_pointer,
            param,
            callback_pointer,
            callback_operation,
            validator,
            _compiled(spec, {"$ref": f"#/components/schemas/{ENVELOPE}"}),
            {word: status for status, word in provider.status_words.items()},
        )

    @property
    def slug(self) -> str:
        return self.provider.slug

    def operation(self, operation_id: str | None) -> Operation | None:
        return self.spec.operations.get(operation_id) if operation_id else None

    def word(self, body: Any) -> Any:
        """The status word an answer shows (MISSING where it shows none)."""
        return at(body, self.provider.status_pointer)

    def status(self, body: Any) -> TaskStatus | None:
        word = self.word(body)
        return self.statuses.get(word) if isinstance(word, str) else None

    def progress(self, body: Any) -> float | None:
        value = at(body, self.provider.progress_pointer)
        return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None

    def failure(self, body: Any) -> str | None:
        value = at(body, self.provider.failure_pointer)
        return str(value) if isinstance(value, str | int) and not isinstance(value, bool) else None

    def task_id(self, body: Any) -> str | None:
        value = at(body, self.id_pointer)
        return value if isinstance(value, str) else None

    def asked_task(self, path_params: dict[str, str], url: str) -> str | None:
        """The task a retrieve request names: its path parameter, or its query's."""
        if self.retrieve_param in path_params:
            return unquote(path_params[self.retrieve_param])
        return dict(parse_qsl(urlsplit(url).query)).get(self.retrieve_param)

    def task_of(self, operation: str | None, url: str, body: Any, path_params: dict[str, str]) -> str | None:
        """The task an exchange created or read: from the answer's body, else the request."""
        found = self.task_id(body)
        if found is None and operation == self.provider.retrieve_operation:
            found = self.asked_task(path_params, url)
        return found

    def callback_url(self, body: Any) -> str | None:
        value = at(body, self.callback_pointer)
        return value if isinstance(value, str) else None


def _link(raw: dict[str, Any], retrieve: str) -> tuple[str, str]:
    """The create answer's link to the retrieve operation: (id pointer, parameter name)."""
    for response in raw.get("responses", {}).values():
        for link in response.get("links", {}).values() if isinstance(response, dict) else ():
            if link.get("operationId") != retrieve:
                continue
            for name, expression in link.get("parameters", {}).items():
                found = RESPONSE_BODY.match(str(expression))
                if found is not None:
                    return found.group("pointer"), name
    raise LookupError(f"the create operation's answer has no link to {retrieve} naming the task id")


def _callback(
    spec: Spec, raw: dict[str, Any]
) -> tuple[str | None, str | None, jsonschema_rs.Validator | None]:
    """Where a create names its callback URL, the callback's operationId and its body's schema."""
    for expressions in raw.get("callbacks", {}).values():
        for expression, item in expressions.items():
            found = REQUEST_BODY.match(expression)
            post = item.get("post") if isinstance(item, dict) else None
            if found is None or post is None:
                continue
            schema = post.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
            validator = _compiled(spec, schema) if schema is not None else None
            return found.group("pointer"), post.get("operationId"), validator
    return None, None, None


def _compiled(spec: Spec, schema: dict[str, Any]) -> jsonschema_rs.Validator:
    """A schema of the spec's, compiled with its components (its refs resolve)."""
    document = {**schema, "components": spec.document.get("components", {})}
    return jsonschema_rs.validator_for(document, validate_formats=True)
