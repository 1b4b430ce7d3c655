"""The docs site holds together: every page is in mkdocs.yml's nav and every nav entry is a
page, the README's links reach pages that exist, and `mkdocs build --strict` (no broken link,
anchor or missing page) passes where MkDocs is installed."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
BUILD_TIMEOUT = 120
LINK = re.compile(r"\]\((?P<target>[^)#\s]+)(?:#[^)]*)?\)")


def nav_pages(entries: list[Any]) -> Iterator[str]:
    for entry in entries:
        value = next(iter(entry.values())) if isinstance(entry, dict) else entry
        if isinstance(value, list):
            yield from nav_pages(value)
        else:
            yield value


def test_every_page_is_in_the_nav_once_and_every_nav_entry_is_a_page() -> None:
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text())
    listed = list(nav_pages(config["nav"]))
    pages = sorted(page.name for page in DOCS.glob("*.md"))
    assert sorted(listed) == pages, "add the page to mkdocs.yml's nav (one line)"


def test_the_readmes_links_reach_files_that_exist() -> None:
    targets = [m["target"] for m in LINK.finditer((ROOT / "README.md").read_text())]
    local = [t for t in targets if "://" not in t]
    assert local and [t for t in local if not (ROOT / t).is_file()] == []


def test_the_site_builds_strictly(tmp_path: Path) -> None:
    if importlib.util.find_spec("mkdocs") is None:
        pytest.skip('needs MkDocs: pip install -e ".[docs]"')
    command = [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")]
    done = subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, timeout=BUILD_TIMEOUT, check=False
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "site" / "configuration" / "index.html").is_file()
