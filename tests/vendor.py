"""The vendors' published OpenAPI files and the two provider documents the project started
from, used as test oracles. They live beside a clone in the team's workspace (../shared), or
where VIDEOGEN_VENDOR_SPECS and VIDEOGEN_SEED_DOCS say; where they are absent, the tests that
read them skip and say how to run them."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

SHARED = Path(__file__).resolve().parents[2] / "shared"
VENDOR_VARIABLE, SEED_VARIABLE = "VIDEOGEN_VENDOR_SPECS", "VIDEOGEN_SEED_DOCS"
VENDOR_DIR = Path(os.environ.get(VENDOR_VARIABLE) or SHARED / "vendor-specs")
needs_vendor = pytest.mark.skipif(
    not VENDOR_DIR.is_dir(),
    reason=f"vendor OpenAPI files not found at {VENDOR_DIR}; set {VENDOR_VARIABLE} to a folder of "
    "them to compare the specs with them",
)
SEED_DIR = Path(os.environ.get(SEED_VARIABLE) or SHARED / "seeds")
needs_seeds = pytest.mark.skipif(
    not SEED_DIR.is_dir(),
    reason=f"the providers' seed documents not found at {SEED_DIR}; set {SEED_VARIABLE} to a folder "
    "of them to check the fake against them",
)
AIMLAPI_CREATE = "aimlapi-video-o1-image-to-video.2026-08-21.json"
AIMLAPI_FETCH = "aimlapi-universal-video-fetch.2026-08-21.json"


def vendor(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((VENDOR_DIR / name).read_text())
    return document


def vendor_create_request(name: str = AIMLAPI_CREATE) -> dict[str, Any]:
    """The AI/ML API vendor file's create body schema."""
    op = vendor(name)["paths"]["/v2/video/generations"]["post"]
    schema: dict[str, Any] = op["requestBody"]["content"]["application/json"]["schema"]
    return schema


def seed_text(provider_name: str) -> str:
    """The seed document that names this provider's model."""
    for path in sorted(SEED_DIR.glob("*.txt")):
        text = path.read_text()
        if provider_name in text:
            return text
    raise LookupError(provider_name)
