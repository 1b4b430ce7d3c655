"""A skipped test says what is missing and how to provide it (the test command shows the
reasons: `-rs` in addopts)."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import vendor


@pytest.fixture
def reload_vendor(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    yield monkeypatch
    monkeypatch.undo()
    importlib.reload(vendor)


def test_without_the_vendor_files_the_reason_names_the_folder_and_the_variable(
    reload_vendor: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    absent = tmp_path / "absent"
    reload_vendor.setenv("VIDEOGEN_VENDOR_SPECS", str(absent))
    reload_vendor.setenv("VIDEOGEN_SEED_DOCS", str(absent))
    importlib.reload(vendor)
    assert vendor.needs_vendor.kwargs["reason"] == (
        f"vendor OpenAPI files not found at {absent}; set VIDEOGEN_VENDOR_SPECS to a folder of them "
        "to compare the specs with them"
    )
    assert vendor.needs_vendor.args == (True,) and vendor.needs_seeds.args == (True,)
    assert "set VIDEOGEN_SEED_DOCS" in vendor.needs_seeds.kwargs["reason"]


def test_the_variable_points_the_tests_at_another_folder(
    reload_vendor: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    reload_vendor.setenv("VIDEOGEN_VENDOR_SPECS", str(tmp_path))
    importlib.reload(vendor)
    assert tmp_path == vendor.VENDOR_DIR and vendor.needs_vendor.args == (False,)


def test_the_test_command_shows_skip_reasons() -> None:
    config = Path(__file__).resolve().parents[1] / "pyproject.toml"
    assert "-rs" in next(line for line in config.read_text().splitlines() if line.startswith("addopts"))
