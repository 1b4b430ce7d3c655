"""The AI/ML API's 400 details in its gateway's words: Zod's messages, one `field: detail` line
per problem, echoed values capped; and Express's answer to a body that is not JSON.

Provider layer: the only module that words aimlapi's validation errors.
"""

from __future__ import annotations

from typing import Any

from mockserver.spec import FieldError

ECHO_LIMIT = 64  # characters of a rejected value quoted back; longer ones end in "..."


def _js(value: Any) -> str:
    """A value as JavaScript's string conversion shows it (Zod interpolates the input)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "[object Object]"
    if isinstance(value, list):
        return ",".join("" if item is None else _js(item) for item in value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def echo(value: Any) -> str:
    text = _js(value)
    return text if len(text) <= ECHO_LIMIT else text[: ECHO_LIMIT - 3] + "..."


def parsed_type(value: Any) -> str:
    """Zod's name for the type it received."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _options(options: list[Any]) -> list[Any]:
    """The values the vendor documents: our string forms of documented numbers are left out."""
    numbers = {option for option in options if isinstance(option, int) and not isinstance(option, bool)}
    return [o for o in options if not (isinstance(o, str) and o.isdigit() and int(o) in numbers)]


def _join(options: list[Any]) -> str:
    return " | ".join(f"'{o}'" if isinstance(o, str) else _js(o) for o in options)


def detail(error: FieldError) -> str:
    """Zod's message for one schema error."""
    kind, expected, received = error.keyword, error.expected, error.received
    if kind == "required":
        return "Required"
    if kind == "enum":
        options = _options(list(expected))
        if all(isinstance(o, str) for o in options) and not isinstance(received, str):
            return f"Expected {_join(options)}, received {parsed_type(received)}"
        return f"Invalid enum value. Expected {_join(options)}, received '{echo(received)}'"
    if kind == "type":
        wanted = " | ".join("number" if t == "integer" else str(t) for t in expected)
        return f"Expected {wanted}, received {parsed_type(received)}"
    if kind == "maxlength":
        return f"String must contain at most {expected} character(s)"
    if kind == "minlength":
        return f"String must contain at least {expected} character(s)"
    if kind == "format" and expected == "uri":
        return "Invalid url"
    if kind == "additionalproperties":
        return "Unrecognized key(s) in object: " + ", ".join(f"'{k}'" for k in expected)
    if kind == "invalid":  # the fake's own words (its testing aids: X-Mock-Fault, X-Mock-Fail)
        return error.detail
    return "Invalid input"


def json_syntax(error: FieldError) -> str:
    """Express's JSON parser on a malformed body (`expected`: where parsing stopped,
    `received`: the raw body): the JavaScript engine's words, which name no field."""
    raw: bytes = error.received
    position: int = error.expected
    if position >= len(raw.rstrip()):
        return "Unexpected end of JSON input"
    token = raw[position:].decode("utf-8", errors="replace")[:1]
    return f"Unexpected token {token} in JSON at position {position}"
