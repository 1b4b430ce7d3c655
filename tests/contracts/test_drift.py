"""`contracts drift VENDOR_FILE`: no drift against a file that says what our spec says, each kind
of change reported readably with exit code 1, and exit code 2 (one line) for a file it cannot
use. The vendor files are built from our own spec here, so these tests need no ../shared."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from contracts.cli import main
from mockserver.spec import read_document

CREATE = "/v1/videos/generations"


def evolink_vendor_file(style: str = "current") -> dict[str, Any]:
    """What EvoLink would publish if its API were exactly our spec: one example per error."""
    document = copy.deepcopy(read_document("evolink"))
    document["servers"] = [{"url": "https://api.evolink.ai"}]
    for item in document["paths"].values():
        for op in item.values():
            for status in list(op["responses"]):
                media = op["responses"][status].get("content", {}).get("application/json", {})
                examples = media.pop("examples", None)
                if examples is None:
                    continue
                if style not in examples:
                    del op["responses"][status]
                    continue
                media["example"] = json.loads(
                    json.dumps(examples[style]["value"]).replace(
                        "https://ai.odkkk.com/apiv1/dashboard/billing", "https://evolink.ai/dashboard/billing"
                    )
                )
    return document


def run(tmp_path: Path, document: Any, *args: str, suffix: str = ".json") -> tuple[int, str]:
    path = tmp_path / f"vendor{suffix}"
    path.write_text(json.dumps(document) if suffix == ".json" else yaml.safe_dump(document))
    result = CliRunner().invoke(main, ["drift", str(path), *args])
    return result.exit_code, result.output


def request(document: dict[str, Any]) -> dict[str, Any]:
    schema: dict[str, Any] = document["components"]["schemas"]["VideoGenerationRequest"]
    return schema


@pytest.mark.parametrize("style", ["seed", "current"])
def test_a_vendor_file_that_says_what_our_spec_says_is_no_drift(tmp_path: Path, style: str) -> None:
    code, output = run(tmp_path, evolink_vendor_file(style))
    assert code == 0, output
    assert output.splitlines()[0].endswith(f"evolink, error style {style}")
    assert output.splitlines()[-1].startswith("no drift;")


def test_yaml_vendor_files_are_read_too(tmp_path: Path) -> None:
    code, output = run(tmp_path, evolink_vendor_file(), suffix=".yaml")
    assert code == 0, output


CHANGES: list[tuple[str, Callable[[dict[str, Any]], None], str]] = [
    (
        "a new enum value",
        lambda d: request(d)["properties"]["duration"]["enum"].append(15),
        "createVideoGeneration (POST /v1/videos/generations): request enum duration: "
        "ours [5, 10], theirs [5, 10, 15]",
    ),
    (
        "a new required field",
        lambda d: request(d)["required"].append("aspect_ratio"),
        'request required: ours ["image_urls", "model", "prompt"], '
        'theirs ["aspect_ratio", "image_urls", "model", "prompt"]',
    ),
    (
        "a new field",
        lambda d: request(d)["properties"].update(seed={"type": "integer"}),
        "request fields: ours",
    ),
    (
        "a changed limit",
        lambda d: request(d)["properties"]["prompt"].update(maxLength=2500),
        "request maxLength prompt: ours 5000, theirs 2500",
    ),
    (
        "a changed error body",
        lambda d: d["paths"][CREATE]["post"]["responses"]["401"]["content"]["application/json"]["example"][
            "error"
        ].update(message="Unauthorized"),
        "error example 401: ours",
    ),
    (
        "a new error status",
        lambda d: d["paths"][CREATE]["post"]["responses"].update(
            {"409": copy.deepcopy(d["paths"][CREATE]["post"]["responses"]["400"])}
        ),
        'error statuses (current style): ours ["400", "401", "402", "403", "429", "500"], '
        'theirs ["400", "401", "402", "403", "409", "429", "500"]',
    ),
    (
        "a new operation",
        lambda d: d["paths"].update({"/v1/tasks/{task_id}/cancel": {"post": {"operationId": "cancelTask"}}}),
        "cancelTask (POST /v1/tasks/{task_id}/cancel): operation: ours (none)",
    ),
]


@pytest.mark.parametrize(("case", "change", "reported"), CHANGES, ids=[c[0] for c in CHANGES])
def test_each_kind_of_change_is_reported_as_drift(
    tmp_path: Path, case: str, change: Callable[[dict[str, Any]], None], reported: str
) -> None:
    document = evolink_vendor_file()
    change(document)
    code, output = run(tmp_path, document)
    assert code == 1
    assert reported in output
    assert output.splitlines()[-1].startswith("drift: 1 difference;")


def test_deliberate_differences_are_not_drift_but_all_lists_them(tmp_path: Path) -> None:
    document = evolink_vendor_file()
    del request(document)["properties"]["callback_url"]["maxLength"]
    code, output = run(tmp_path, document)
    assert code == 0 and "1 deliberate difference" in output and "maxLength" not in output
    code, output = run(tmp_path, document, "--all")
    assert code == 0
    assert "  deliberate: createVideoGeneration (POST /v1/videos/generations): request maxLength" in output


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (None, "cannot read"),
        ("{not json", "is not JSON or YAML"),
        ('{"openapi": "3.1.0"}', "is not an OpenAPI document"),
        ('{"paths": {"/v9/other": {}}}', "names no server or path of a provider"),
    ],
)
def test_an_unusable_file_exits_2_with_one_line(tmp_path: Path, content: str | None, words: str) -> None:
    path = tmp_path / "vendor.json"
    if content is not None:
        path.write_text(content)
    result = CliRunner().invoke(main, ["drift", str(path)])
    assert result.exit_code == 2
    assert len(result.output.strip().splitlines()) == 1 and words in result.output
    assert "Traceback" not in result.output


def test_a_missing_argument_is_a_usage_error() -> None:
    result = CliRunner().invoke(main, ["drift"])
    assert result.exit_code == 2 and "Missing argument 'VENDOR_FILE'" in result.output


def test_the_provider_can_be_named_when_the_file_does_not_say(tmp_path: Path) -> None:
    document = evolink_vendor_file()
    document["servers"] = [{"url": "https://mirror.example"}]
    document["paths"] = {"/v1/videos/generations": document["paths"][CREATE]}
    code, output = run(tmp_path, document, "--provider", "evolink")
    assert code == 0, output
