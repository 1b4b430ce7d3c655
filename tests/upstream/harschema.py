"""HAR 1.2's required structure (http://www.softwareishard.com/blog/har-12-spec/), as a JSON
Schema the recordings are checked against: what browser devtools and HAR tools need to open one."""

from __future__ import annotations

from typing import Any

import jsonschema_rs

from mockserver.spec import FieldError, field_errors

_PAIR = {
    "type": "object",
    "required": ["name", "value"],
    "properties": {"name": {"type": "string"}, "value": {"type": "string"}},
}
_PAIRS = {"type": "array", "items": _PAIR}
_SIZE = {"type": "integer", "minimum": -1}
_MS = {"type": "number", "minimum": -1}

HAR_1_2: dict[str, Any] = {
    "type": "object",
    "required": ["log"],
    "properties": {
        "log": {
            "type": "object",
            "required": ["version", "creator", "entries"],
            "properties": {
                "version": {"const": "1.2"},
                "creator": {
                    "type": "object",
                    "required": ["name", "version"],
                    "properties": {"name": {"type": "string"}, "version": {"type": "string"}},
                },
                "entries": {"type": "array", "items": {"$ref": "#/$defs/entry"}},
            },
        }
    },
    "$defs": {
        "entry": {
            "type": "object",
            "required": ["startedDateTime", "time", "request", "response", "cache", "timings"],
            "properties": {
                "startedDateTime": {"type": "string", "format": "date-time"},
                "time": {"type": "number", "minimum": 0},
                "request": {
                    "type": "object",
                    "required": [
                        "method",
                        "url",
                        "httpVersion",
                        "cookies",
                        "headers",
                        "queryString",
                        "headersSize",
                        "bodySize",
                    ],
                    "properties": {
                        "method": {"type": "string"},
                        "url": {"type": "string", "format": "uri"},
                        "httpVersion": {"type": "string"},
                        "cookies": {"type": "array"},
                        "headers": _PAIRS,
                        "queryString": _PAIRS,
                        "postData": {
                            "type": "object",
                            "required": ["mimeType"],
                            "properties": {"mimeType": {"type": "string"}, "text": {"type": "string"}},
                        },
                        "headersSize": _SIZE,
                        "bodySize": _SIZE,
                    },
                },
                "response": {
                    "type": "object",
                    "required": [
                        "status",
                        "statusText",
                        "httpVersion",
                        "cookies",
                        "headers",
                        "content",
                        "redirectURL",
                        "headersSize",
                        "bodySize",
                    ],
                    "properties": {
                        "status": {"type": "integer"},
                        "statusText": {"type": "string"},
                        "httpVersion": {"type": "string"},
                        "cookies": {"type": "array"},
                        "headers": _PAIRS,
                        "content": {
                            "type": "object",
                            "required": ["size", "mimeType"],
                            "properties": {
                                "size": {"type": "integer"},
                                "mimeType": {"type": "string"},
                                "text": {"type": "string"},
                                "encoding": {"type": "string"},
                            },
                        },
                        "redirectURL": {"type": "string"},
                        "headersSize": _SIZE,
                        "bodySize": _SIZE,
                    },
                },
                "cache": {"type": "object"},
                "timings": {
                    "type": "object",
                    "required": ["send", "wait", "receive"],
                    "properties": {"send": _MS, "wait": _MS, "receive": _MS},
                },
            },
        }
    },
}
VALIDATOR = jsonschema_rs.validator_for(HAR_1_2, validate_formats=True)


def har_problems(document: Any) -> list[FieldError]:
    """How a document breaks HAR 1.2 (none for a valid one)."""
    return field_errors(VALIDATOR.iter_errors(document))
