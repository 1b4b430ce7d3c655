"""The dependency rule, checked by walking imports: engine and store import neither Starlette
nor a provider; engine <- web <- providers <- app; the client never imports the mock server;
only contracts and tests import both; and no module imports itself back through others."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("mockserver", "client", "contracts")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_type_checking(node: ast.If) -> bool:
    return isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"


def imports_in(tree: ast.AST, *, top_level: bool, typing: bool = True) -> set[str]:
    """Names imported; `top_level`: only what runs at import time (no function bodies, no
    `if TYPE_CHECKING:` blocks); `typing=False`: not what only type checkers read."""
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Import):
                found.update(alias.name for alias in child.names)
            elif isinstance(child, ast.ImportFrom) and child.module and child.level == 0:
                # `from pkg import name`: "pkg:name", resolved to the submodule pkg.name or to pkg.
                found.add(child.module)
                found.update(f"{child.module}:{alias.name}" for alias in child.names)
            else:
                in_function = isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
                for_types = isinstance(child, ast.If) and _is_type_checking(child)
                if not ((top_level and in_function) or ((top_level or not typing) and for_types)):
                    visit(child)

    visit(tree)
    return found


def modules(*, top_level: bool, typing: bool = True) -> dict[str, set[str]]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            tree = ast.parse(path.read_text())
            found[module_name(path)] = imports_in(tree, top_level=top_level, typing=typing)
    return found


def files_of(package: str) -> dict[str, set[str]]:
    """What each module of `package` needs at run time (type-only imports aside)."""
    everything = modules(top_level=False, typing=False)
    prefix = package.replace("/", ".").removesuffix(".py")
    return {m: names for m, names in everything.items() if m == prefix or m.startswith(prefix + ".")}


M = "mockserver."
LAYERS = [
    (
        "mockserver/engine",
        (
            "starlette",
            "httpx",
            *(M + p for p in ("store", "web", "providers", "control", "callbacks", "app", "fake", "runtime")),
        ),
    ),
    (
        "mockserver/store",
        (
            "starlette",
            "httpx",
            *(M + p for p in ("web", "providers", "control", "callbacks", "app", "fake", "runtime")),
        ),
    ),
    (
        "mockserver/callbacks",
        ("starlette", *(M + p for p in ("web", "providers", "control", "app", "fake", "runtime"))),
    ),
    (
        "mockserver/runtime.py",
        ("starlette", "httpx", *(M + p for p in ("web", "providers", "control", "app"))),
    ),
    ("mockserver/fake.py", ("starlette", *(M + p for p in ("web", "control", "app")))),
    ("mockserver/web", (M + "providers", M + "control", M + "app")),
    ("mockserver/providers", (M + "control", M + "app")),
    ("mockserver/control", (M + "providers", M + "app")),
    ("client", ("mockserver", "contracts")),
]


@pytest.mark.parametrize(("package", "forbidden"), LAYERS, ids=[layer[0] for layer in LAYERS])
def test_layer_does_not_import_what_sits_above_it(package: str, forbidden: tuple[str, ...]) -> None:
    bad = {
        module: sorted(n for n in names if n.startswith(forbidden))
        for module, names in files_of(package).items()
        if any(n.startswith(forbidden) for n in names)
    }
    assert bad == {}


def find_cycles(imports: dict[str, set[str]]) -> list[list[str]]:
    """Import cycles among these modules (`imports`: what each imports at import time)."""

    def targets(names: set[str]) -> set[str]:
        """`from pkg import sub` needs the submodule `pkg.sub`; `from pkg import name`, `pkg`."""
        found = {name for name in names if ":" not in name}
        for name in names:
            if ":" in name:
                package, _, attribute = name.partition(":")
                submodule = f"{package}.{attribute}"
                if submodule in imports:
                    found.add(submodule)
                    found.discard(package)
        for name in names:
            if ":" in name and name.replace(":", ".") not in imports:
                found.add(name.partition(":")[0])
        return found

    graph = {
        module: {name for name in targets(names) if name in imports and name != module}
        for module, names in imports.items()
    }
    cycles: list[list[str]] = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def walk(module: str, path: list[str]) -> None:
        state[module] = 1
        for target in sorted(graph[module]):
            if state.get(target) == 1:
                cycles.append([*path[path.index(target) :], target])
            elif target not in state:
                walk(target, [*path, target])
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            walk(module, [module])
    return cycles


def test_no_module_imports_itself_back() -> None:
    assert find_cycles(modules(top_level=True)) == []


def test_the_cycle_check_can_fail() -> None:
    tree = ast.parse("import a.b\nfrom c import d\nif TYPE_CHECKING:\n    import e\ndef f():\n    import g\n")
    assert imports_in(tree, top_level=True) == {"a.b", "c", "c:d"}
    assert imports_in(tree, top_level=False) == {"a.b", "c", "c:d", "e", "g"}
    assert find_cycles({"a": {"b:x"}, "b": {"c"}, "c": {"a"}}) == [["a", "b", "c", "a"]]
    assert find_cycles({"p": {"p:sub"}, "p.sub": {"p:other"}, "p.other": set()}) == []


def test_only_the_callback_sender_and_the_in_process_transport_use_httpx_in_the_fake() -> None:
    users = {m for m, names in files_of("mockserver").items() if "httpx" in names}
    assert users <= {"mockserver.callbacks.delivery", "mockserver.transport", "mockserver.app"}
