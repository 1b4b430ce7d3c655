"""The vendors' published OpenAPI files, used as test oracles. They live in the team's
workspace (../shared/vendor-specs), not in a user's clone: tests that read them skip there."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

VENDOR_DIR = Path(__file__).resolve().parents[2] / "shared" / "vendor-specs"
needs_vendor = pytest.mark.skipif(
    not VENDOR_DIR.is_dir(),
    reason=f"vendor OpenAPI files not found at {VENDOR_DIR} (only the team's workspace has ../shared)",
)
SEED_DIR = VENDOR_DIR.parent / "seeds"  # the two provider documents the project started from
needs_seeds = pytest.mark.skipif(
    not SEED_DIR.is_dir(),
    reason=f"seed documents not found at {SEED_DIR} (only the team's workspace has ../shared)",
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
