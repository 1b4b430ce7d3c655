"""The dependency rule, checked by walking imports: engine <- providers <- app/control;
the client never imports the mock server; only contracts and tests import both."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def imports_of(package: str) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in (ROOT / package).rglob("*.py"):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module)
        found[str(path.relative_to(ROOT))] = names
    return found


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [
        (
            "mockserver/engine",
            (
                "starlette",
                "mockserver.providers",
                "mockserver.app",
                "mockserver.routing",
                "httpx",
                "mockserver.control",
                "mockserver.state",
            ),
        ),
        ("mockserver/providers", ("mockserver.app", "mockserver.control", "mockserver.state")),
        ("client", ("mockserver", "contracts")),
    ],
)
def test_layer_does_not_import_what_sits_above_it(package: str, forbidden: tuple[str, ...]) -> None:
    bad = {
        module: sorted(n for n in names if n.startswith(forbidden))
        for module, names in imports_of(package).items()
        if any(n.startswith(forbidden) for n in names)
    }
    assert bad == {}


def test_only_delivery_uses_httpx_in_the_fake() -> None:
    users = {m for m, names in imports_of("mockserver").items() if "httpx" in names}
    assert users <= {
        "mockserver/delivery.py",
        "mockserver/state.py",
        "mockserver/app.py",
        "mockserver/transport.py",
    }
