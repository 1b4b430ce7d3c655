"""docs/pytest-routing.md's examples run as written: each python block with a test in it is a
test module of a fresh pytest project, which has only the installed package and its plugin."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

PAGE = Path(__file__).resolve().parents[2] / "docs" / "pytest-routing.md"
FENCE = re.compile(r"^```python\n(?P<body>.*?)^```$", re.MULTILINE | re.DOTALL)


def examples() -> list[str]:
    return [m["body"] for m in FENCE.finditer(PAGE.read_text()) if "def test_" in m["body"]]


def test_the_page_has_a_test_example_for_each_part() -> None:
    found = "\n".join(examples())
    for part in ("requests", "aiohttp", "UnroutedProviderCall", "FastAPI", "Flask", "video_mock_server"):
        assert part in found


@pytest.mark.slow
def test_the_pages_examples_pass_in_a_fresh_project(pytester: pytest.Pytester) -> None:
    modules = {f"test_example_{n}": body for n, body in enumerate(examples())}
    pytester.makepyfile(**modules)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q", "-W", "error")
    tests = sum(len(re.findall(r"^def test_", body, re.MULTILINE)) for body in modules.values())
    result.assert_outcomes(passed=tests)
