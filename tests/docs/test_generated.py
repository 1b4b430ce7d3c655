"""The docs' generated tables say what the code defines: each setting's own description and
default (mockserver/settings.py), each flag of the `mockserver` command (mockserver/cli.py) and
each control-plane operation (openapi/control.yaml), as docs/generate.py writes them."""

from __future__ import annotations

import dataclasses
import importlib.util
from pathlib import Path
from types import ModuleType

import click
import pytest

from mockserver import cli
from mockserver.settings import DOC, ENV_PREFIX, Settings

ROOT = Path(__file__).resolve().parents[2]
PAGES = sorted((ROOT / "docs").glob("*.md"))


@pytest.fixture(scope="module")
def generate() -> ModuleType:
    spec = importlib.util.spec_from_file_location("docs_generate", ROOT / "docs" / "generate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_generated_section_is_what_the_definitions_give_now(generate: ModuleType) -> None:
    stale = [page.name for page in generate.stale(PAGES)]
    assert stale == [], "run python docs/generate.py"


def test_a_section_whose_source_changed_is_stale(generate: ModuleType, tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text("# P\n\n<!-- generated: limits -->\n| an old table |\n<!-- end generated -->\n")
    assert generate.stale([page]) == [page]
    page.write_text(generate.render(page.read_text()))
    assert generate.stale([page]) == [] and "`MOCKSERVER_MAX_CONNECTIONS`" in page.read_text()


def test_every_setting_has_a_description() -> None:
    undescribed = [f.name for f in dataclasses.fields(Settings) if not f.metadata.get(DOC, "").strip()]
    assert undescribed == []


def test_the_configuration_page_names_every_settings_variable_and_every_flag() -> None:
    page = (ROOT / "docs" / "configuration.md").read_text()
    variables = [f"`{ENV_PREFIX}{f.name.upper()}`" for f in dataclasses.fields(Settings)]
    flags = [max(p.opts, key=len) for p in cli.main.params if isinstance(p, click.Option) and p.envvar]
    assert [v for v in variables if v not in page] == []
    assert [f for f in flags if f"`{f}" not in page] == []


def test_each_flags_default_is_its_settings_default() -> None:
    # the page shows a flag's default from its setting: the command must start with that one
    fields = {f.name: f.default for f in dataclasses.fields(Settings)}
    differ = [
        option.name
        for option in cli.main.params
        if option.name in fields
        and isinstance(option.default, str | int | float)  # not a flag's, nor a repeated option's
        and option.default != fields[option.name]
    ]
    assert differ == []


def test_the_control_plane_page_lists_every_operation_of_its_spec(generate: ModuleType) -> None:
    page = (ROOT / "docs" / "control-plane.md").read_text()
    assert "| `POST` | `/__mock/clock/advance` |" in page
    assert generate.control_plane() in page
