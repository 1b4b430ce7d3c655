"""`contracts drift VENDOR_FILE`: compare a provider's published OpenAPI file with this project's
spec of record (operations, parameters, required fields, enums and limits, response fields,
error statuses and their example bodies) and report what changed. The test suite runs the
same comparison against the vendor files it keeps.

Contracts layer: reads the specs and the provider registry; never starts the fake.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import click
import yaml

from contracts.recordings import drift_of_recording
from mockserver.providers import PROVIDERS
from mockserver.spec import HTTP_METHODS, read_document

# Differences that are deliberate, by key, each with the words docs/fidelity.md records it in
# (a test checks they are written there). They are not drift.
DELIBERATE = {
    "aimlapi request enum duration": 'also takes the strings `"5"` and `"10"`',
    "aimlapi operationId": "reuses one operationId for both operations; ours are unique",
    "aimlapi response 200 status enum": "the create answer's `status` is always `queued`",
    "aimlapi response 200 fields ours lacks": "and lists only `id`, `status` and `meta`",
    "evolink request maxLength callback_url": "`callback_url` carries its documented 2048-character limit",
    "evolink error statuses (seed style)": "the seed style adds 413 from the sibling Sora page",
    "evolink error example fallback_suggestion": "the seed style's billing link names the mirror",
}
# The seed style's billing link: the vendor's, and the mirror's that the seed document shows.
VENDOR_BILLING, MIRROR_BILLING = (
    "https://evolink.ai/dashboard/billing",
    "https://ai.odkkk.com/apiv1/dashboard/billing",
)
LIMITS = ("maxLength", "minLength", "maxItems", "minItems", "maximum", "minimum")


class DriftInputError(Exception):
    """The vendor file cannot be read, or belongs to no provider this project fakes."""


@dataclass(frozen=True)
class Difference:
    where: str  # "createVideoGeneration (POST /v1/videos/generations)"
    what: str  # "request enum duration"
    ours: Any
    theirs: Any
    key: str  # "<provider> <what, without the field's value>", matched against DELIBERATE

    @property
    def deliberate(self) -> bool:
        return self.key in DELIBERATE

    def __str__(self) -> str:
        return f"{self.where}: {self.what}: ours {_show(self.ours)}, theirs {_show(self.theirs)}"


def _show(value: Any) -> str:
    return json.dumps(value, sort_keys=True) if value is not None else "(none)"


def load(path: Path) -> dict[str, Any]:
    """A vendor's OpenAPI file, JSON or YAML."""
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as error:
        raise DriftInputError(f"cannot read {path}: {error}") from None
    try:
        document = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as error:
        reason = str(error).splitlines()[0]
        raise DriftInputError(f"{path} is not JSON or YAML: {reason}") from None
    if not isinstance(document, dict) or not isinstance(document.get("paths"), dict):
        raise DriftInputError(f"{path} is not an OpenAPI document (no paths)")
    return document


def identify(document: dict[str, Any]) -> str:
    """The provider a vendor file describes: by its server's host, else by its paths."""
    hosts = {urlsplit(server.get("url", "")).netloc for server in document.get("servers", [])}
    for slug, provider in PROVIDERS.items():
        if hosts & set(provider.hosts):
            return slug
    for slug in PROVIDERS:
        if set(document["paths"]) & set(read_document(slug)["paths"]):
            return slug
    raise DriftInputError("the file names no server or path of a provider this project fakes")


def error_style(document: dict[str, Any]) -> str:
    """Which of EvoLink's documented error styles a file shows: integer codes are the seed's."""
    for _, _, op in _operations(document):
        for status, response in op.get("responses", {}).items():
            example = _media(document, response).get("example")
            if int(status) >= 400 and isinstance(example, dict):
                code = example.get("error", {}).get("code")
                return "seed" if isinstance(code, int) else "current"
    return "current"


def compare(slug: str, vendor: dict[str, Any], ours: dict[str, Any] | None = None) -> list[Difference]:
    """Every difference between the vendor's file and our spec, for what the file describes."""
    ours = ours if ours is not None else read_document(slug)
    style = error_style(vendor)
    found: list[Difference] = []
    for path, method, theirs_op in _operations(vendor):
        where = f"{theirs_op.get('operationId', '?')} ({method.upper()} {path})"
        our_op = ours["paths"].get(path, {}).get(method)
        if our_op is None:
            found.append(Difference(where, "operation", None, "present", f"{slug} operation"))
            continue
        where = f"{our_op['operationId']} ({method.upper()} {path})"
        found += _compare_operation(slug, where, ours, our_op, vendor, theirs_op, style)
    return found


class _Differ:
    """Differences found in one operation, keyed by provider."""

    def __init__(self, slug: str, where: str) -> None:
        self.slug, self.where = slug, where

    def __call__(self, what: str, mine: Any, theirs: Any, key: str | None = None) -> Iterator[Difference]:
        if mine != theirs:
            yield Difference(self.where, what, mine, theirs, f"{self.slug} {key or what}")


def _compare_operation(
    slug: str,
    where: str,
    ours: dict[str, Any],
    our_op: dict[str, Any],
    vendor: dict[str, Any],
    theirs_op: dict[str, Any],
    style: str,
) -> Iterator[Difference]:
    diff = _Differ(slug, where)
    yield from diff("operationId", our_op["operationId"], theirs_op.get("operationId"))
    ours_params = [_param(ours, p) for p in our_op.get("parameters", [])]
    yield from diff("parameters", ours_params, [_param(vendor, p) for p in theirs_op.get("parameters", [])])
    our_body = _schema(ours, _media(ours, our_op.get("requestBody", {})).get("schema", {}))
    their_body = _schema(vendor, _media(vendor, theirs_op.get("requestBody", {})).get("schema", {}))
    yield from _compare_request(diff, ours, our_body, vendor, their_body)
    yield from _compare_responses(diff, ours, our_op, vendor, theirs_op, style)


def _compare_request(
    diff: _Differ, ours: dict[str, Any], mine: dict[str, Any], vendor: dict[str, Any], theirs: dict[str, Any]
) -> Iterator[Difference]:
    yield from diff("request required", sorted(mine.get("required", [])), sorted(theirs.get("required", [])))
    my_props, their_props = mine.get("properties", {}), theirs.get("properties", {})
    yield from diff("request fields", sorted(my_props), sorted(their_props))
    for name in sorted(set(my_props) & set(their_props)):
        a, b = _schema(ours, my_props[name]), _schema(vendor, their_props[name])
        yield from diff(f"request enum {name}", a.get("enum"), b.get("enum"))
        for limit in LIMITS:
            yield from diff(f"request {limit} {name}", a.get(limit), b.get(limit))


def _compare_responses(
    diff: _Differ,
    ours: dict[str, Any],
    our_op: dict[str, Any],
    vendor: dict[str, Any],
    theirs_op: dict[str, Any],
    style: str,
) -> Iterator[Difference]:
    mine, theirs = our_op.get("responses", {}), theirs_op.get("responses", {})
    for status in sorted(s for s in theirs if int(s) < 300):
        a = _schema(ours, _media(ours, mine.get(status, {})).get("schema", {}))
        b = _schema(vendor, _media(vendor, theirs[status]).get("schema", {}))
        # ours may require and list more: what the vendor's requires and lists must hold
        missing = sorted(set(b.get("required", [])) - set(a.get("required", [])))
        yield from diff(f"response {status} required fields ours lacks", [], missing)
        extra = sorted(set(b.get("properties", {})) - set(a.get("properties", {})))
        yield from diff(f"response {status} fields ours lacks", [], extra)
        status_enum = _schema(vendor, b.get("properties", {}).get("status", {})).get("enum")
        if status_enum is not None:
            our_enum = _schema(ours, a.get("properties", {}).get("status", {})).get("enum")
            yield from diff(f"response {status} status enum", our_enum, status_enum)
    errors = {s: r for s, r in theirs.items() if int(s) >= 400}
    if not errors:
        return
    documented = sorted(s for s, r in mine.items() if int(s) >= 400 and _example(ours, r, style) is not None)
    yield from diff(f"error statuses ({style} style)", documented, sorted(errors))
    for status, response in sorted(errors.items()):
        expected = _media(vendor, response).get("example")
        example = _example(ours, mine[status], style) if status in mine else None
        if expected is None or example is None:
            continue
        if style == "seed":
            vendors = json.loads(json.dumps(example).replace(MIRROR_BILLING, VENDOR_BILLING))
            key = "error example fallback_suggestion"
            yield from diff(f"error example {status} billing link", example, vendors, key)
            example = vendors
        yield from diff(f"error example {status}", example, expected)


def _operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in document.get("paths", {}).items():
        for method in HTTP_METHODS:
            if isinstance(item, dict) and method in item:
                yield path, method, item[method]


def _resolve(document: dict[str, Any], node: Any) -> Any:
    while isinstance(node, dict) and "$ref" in node:
        target: Any = document
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        node = target
    return node


def _schema(document: dict[str, Any], node: Any) -> dict[str, Any]:
    """A schema with its `allOf` parts merged in (properties, required) and `const` as a
    one-value enum, so schemas written in different shapes compare by meaning."""
    resolved = _resolve(document, node)
    if not isinstance(resolved, dict):
        return {}
    merged = {**resolved, "properties": dict(resolved.get("properties", {}))}
    merged["required"] = list(resolved.get("required", []))
    if "const" in merged and "enum" not in merged:
        merged["enum"] = [merged["const"]]
    for member in resolved.get("allOf", []):
        part = _schema(document, member)
        for name, value in part.get("properties", {}).items():
            merged["properties"][name] = {**_schema(document, merged["properties"].get(name)), **value}
        merged["required"] += [r for r in part.get("required", []) if r not in merged["required"]]
    return merged


def _object(document: dict[str, Any], node: Any) -> dict[str, Any]:
    resolved = _resolve(document, node)
    return resolved if isinstance(resolved, dict) else {}


def _media(document: dict[str, Any], node: Any) -> dict[str, Any]:
    media = _object(document, node).get("content", {}).get("application/json", {})
    return media if isinstance(media, dict) else {}


def _param(document: dict[str, Any], node: Any) -> tuple[str, str, bool]:
    param = _object(document, node)
    return param.get("name", ""), param.get("in", ""), bool(param.get("required"))


def _example(document: dict[str, Any], response: Any, style: str) -> Any:
    """Our example for an error response in a style (named examples), or the single one."""
    media = _media(document, response)
    named = media.get("examples")
    if isinstance(named, dict):
        chosen = named.get(style)
        return None if chosen is None else chosen.get("value")
    return media.get("example")


@click.command("drift", context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("vendor_file", metavar="[VENDOR_FILE]", required=False)
@click.option(
    "--provider",
    type=click.Choice(list(PROVIDERS)),
    default=None,
    help="The provider the file describes [default: found from its servers or paths].",
)
@click.option("--all", "show_all", is_flag=True, help="Also list the deliberate differences.")
@click.option(
    "--recording",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    metavar="FILE.har",
    help="Instead of a vendor file: the exchanges a proxy recorded (mockserver --upstream ... --record), "
    "checked as the live drift report checks them.",
)
@click.option(
    "--junit",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="With --recording: write a JUnit XML report, one test per operation (classname drift.<provider>).",
)
def drift_command(
    vendor_file: str | None, provider: str | None, show_all: bool, recording: Path | None, junit: Path | None
) -> None:
    """Compare a provider's published OpenAPI file (JSON or YAML) with this project's spec; or,
    with --recording, what a provider really answered (a HAR recording of the proxy) with the spec
    and the fake's lifecycle.

    Exit codes: 0 no drift, 1 drift found, 2 unreadable file or not a provider's file (or a usage
    error: both or neither of VENDOR_FILE and --recording)."""
    if vendor_file is None and recording is None:
        raise click.UsageError("Missing argument 'VENDOR_FILE' (or --recording FILE.har)")
    if vendor_file is not None and recording is not None:
        raise click.UsageError("give VENDOR_FILE or --recording FILE.har, not both")
    if recording is not None:
        sys.exit(drift_of_recording(recording, junit))
    if junit is not None:
        raise click.UsageError("--junit goes with --recording")
    assert vendor_file is not None
    try:
        document = load(Path(vendor_file))
        slug = provider or identify(document)
    except DriftInputError as error:
        click.echo(f"contracts drift: {error}", err=True)
        sys.exit(2)
    differences = compare(slug, document)
    drifted = [d for d in differences if not d.deliberate]
    deliberate = len(differences) - len(drifted)
    click.echo(f"{vendor_file}: {slug}, error style {error_style(document)}")
    for difference in differences if show_all else drifted:
        click.echo(f"  {'deliberate: ' if difference.deliberate else ''}{difference}")
    known = f"{deliberate} deliberate difference{'s' if deliberate != 1 else ''} (docs/fidelity.md)"
    if drifted:
        click.echo(f"drift: {len(drifted)} difference{'s' if len(drifted) != 1 else ''}; {known}")
        sys.exit(1)
    click.echo(f"no drift; {known}")
