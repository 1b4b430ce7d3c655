"""The specs of record: valid OpenAPI 3.1, complete for what the fake serves, and faithful to
the vendors' own files (in ../shared/vendor-specs, absent from a user's fresh clone)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from openapi_spec_validator import validate

from contracts import drift
from mockserver.spec import SPEC_NAMES, read_document
from tests.vendor import VENDOR_DIR, needs_vendor, vendor

VENDOR_FILES = [
    "aimlapi-video-o1-image-to-video.2026-08-21.json",
    "aimlapi-universal-video-fetch.2026-08-21.json",
    "evolink-kling-o1-image-to-video.2026-01-20.json",
    "evolink-kling-o1-image-to-video.2026-03-10.json",
    "evolink-get-task-detail.2026-01-20.json",
    "evolink-get-task-detail.2026-03-15.json",
]


def schema_of(document: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        target: Any = document
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


@pytest.mark.parametrize("name", SPEC_NAMES)
def test_spec_is_valid_openapi_3_1(name: str) -> None:
    document = read_document(name)
    assert document["openapi"].startswith("3.1")
    validate(document)


@pytest.mark.parametrize("name", SPEC_NAMES)
def test_every_operation_has_an_id_and_every_error_response_has_a_json_body(name: str) -> None:
    document = read_document(name)
    ids = []
    for item in document["paths"].values():
        for method, op in item.items():
            if method == "parameters":
                continue
            ids.append(op["operationId"])
            for status, raw in op["responses"].items():
                response = schema_of(document, raw)
                if int(status) >= 400 and int(status) != 416:
                    assert "application/json" in response["content"], (op["operationId"], status)
    assert len(ids) == len(set(ids))


def test_provider_specs_link_create_to_retrieve_and_evolink_declares_its_callback() -> None:
    aimlapi, evolink = read_document("aimlapi"), read_document("evolink")
    aiml_link = aimlapi["paths"]["/v2/video/generations"]["post"]["responses"]["200"]["links"][
        "GetGeneration"
    ]
    assert aiml_link == {
        "operationId": "getGeneration",
        "parameters": {"generation_id": "$response.body#/id"},
    }
    create = evolink["paths"]["/v1/videos/generations"]["post"]
    assert create["responses"]["200"]["links"]["GetTaskDetail"]["parameters"] == {
        "task_id": "$response.body#/id"
    }
    callback = create["callbacks"]["taskFinished"]["{$request.body#/callback_url}"]["post"]
    assert callback["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "TaskDetailResponse"
    )
    servers = [s["url"] for s in evolink["servers"]]
    assert "https://api.evolink.ai" in servers and "https://ai.odkkk.com/apiv1" in servers


def test_every_evolink_error_response_has_a_seed_body_and_current_ones_have_string_codes() -> None:
    evolink = read_document("evolink")
    for item in evolink["paths"].values():
        for op in item.values():
            for status, response in op["responses"].items():
                if int(status) >= 400:
                    examples = response["content"]["application/json"]["examples"]
                    assert examples["seed"]["value"]["error"]["code"] == int(status)
                    if "current" in examples:
                        assert isinstance(examples["current"]["value"]["error"]["code"], str)


@needs_vendor
@pytest.mark.parametrize(
    ("path", "method", "current"),
    [
        ("/v1/videos/generations", "post", "evolink-kling-o1-image-to-video.2026-03-10.json"),
        ("/v1/tasks/{task_id}", "get", "evolink-get-task-detail.2026-03-15.json"),
    ],
)
def test_evolink_current_bodies_exist_exactly_for_the_statuses_the_current_vendor_files_list(
    path: str, method: str, current: str
) -> None:
    op = read_document("evolink")["paths"][path][method]
    ours = {
        status
        for status, response in op["responses"].items()
        if int(status) >= 400 and "current" in response["content"]["application/json"]["examples"]
    }
    theirs = {status for status in vendor(current)["paths"][path][method]["responses"] if int(status) >= 400}
    assert ours == theirs


FIDELITY = Path(__file__).resolve().parents[2] / "docs" / "fidelity.md"


@needs_vendor
@pytest.mark.parametrize("name", VENDOR_FILES)
def test_our_specs_differ_from_each_vendor_file_only_deliberately(name: str) -> None:
    """The comparison `contracts drift` makes: operations, parameters, required fields, enums,
    limits, response fields, error statuses and every error example body."""
    document = drift.load(VENDOR_DIR / name)
    slug = drift.identify(document)
    assert slug == name.split("-", maxsplit=1)[0]
    assert [str(d) for d in drift.compare(slug, document) if not d.deliberate] == []


@needs_vendor
def test_every_deliberate_difference_is_still_seen_in_some_vendor_file() -> None:
    seen = set()
    for name in VENDOR_FILES:
        document = drift.load(VENDOR_DIR / name)
        seen |= {d.key for d in drift.compare(drift.identify(document), document)}
    assert set(drift.DELIBERATE) <= seen


def test_documented_differences_are_written_down() -> None:
    written = " ".join(FIDELITY.read_text().split())
    assert [key for key, words in drift.DELIBERATE.items() if words not in written] == []
