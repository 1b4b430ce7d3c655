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


def imports_in(tree: ast.AST, *, functions: bool = True, typing: bool = True) -> set[str]:
    """Names imported: at import time, plus those in function bodies (`functions`) and in
    `if TYPE_CHECKING:` blocks (`typing`: a type-only import is a dependency too)."""
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
                if not ((in_function and not functions) or (for_types and not typing)):
                    visit(child)

    visit(tree)
    return found


def modules(*, functions: bool = True, typing: bool = True) -> dict[str, set[str]]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            tree = ast.parse(path.read_text())
            found[module_name(path)] = imports_in(tree, functions=functions, typing=typing)
    return found


def files_of(package: str) -> dict[str, set[str]]:
    """What each module of `package` imports, type-only imports and function bodies included."""
    everything = modules()
    prefix = package.replace("/", ".").removesuffix(".py")
    return {m: names for m, names in everything.items() if m == prefix or m.startswith(prefix + ".")}


# The layers, bottom to top: a module may import its own layer and those below it, never one
# above (docs/design.md lists the same order). The engine owns the Store protocol it is written
# against (`store/base.py`); the stores that implement it sit above it.
LAYERS = [
    (
        "foundations",
        ("mockserver.settings", "mockserver.spec", "mockserver.logs", "mockserver.loops", "mockserver.media"),
    ),
    ("engine", ("mockserver.engine", "mockserver.store.base")),
    ("store", ("mockserver.store",)),
    ("callbacks", ("mockserver.callbacks",)),
    ("runtime", ("mockserver.runtime",)),
    ("web", ("mockserver.web",)),
    ("events", ("mockserver.events", "mockserver.metrics")),
    ("providers", ("mockserver.providers",)),
    ("upstream", ("mockserver.upstream",)),
    ("fake", ("mockserver.fake",)),
    ("control", ("mockserver.control",)),
    ("app", ("mockserver",)),
]
# Libraries a layer must not use, whatever sits below it.
LIBRARIES = {"engine": ("starlette", "httpx"), "store": ("starlette", "httpx"), "callbacks": ("starlette",)}


def layer_of(module: str) -> int | None:
    """The index of the layer a mockserver module belongs to (its longest matching prefix)."""
    best: tuple[int, int] | None = None
    for index, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            matches = module == prefix or module.startswith(prefix + ".")
            if matches and (best is None or len(prefix) > best[0]):
                best = (len(prefix), index)
    return None if best is None else best[1]


def upward_imports(imports: dict[str, set[str]]) -> dict[str, list[str]]:
    """Each module's imports of a layer above its own."""
    bad = {}
    for module, names in imports.items():
        own = layer_of(module)
        if own is None:
            continue
        above = sorted(
            name
            for name in names
            if name.startswith("mockserver") and (layer_of(name.partition(":")[0]) or 0) > own
        )
        if above:
            bad[module] = above
    return bad


def test_no_layer_imports_what_sits_above_it() -> None:
    assert upward_imports(files_of("mockserver")) == {}


def test_the_layer_check_can_fail() -> None:
    assert upward_imports({"mockserver.engine.tasks": {"mockserver.web.api:Api"}}) == {
        "mockserver.engine.tasks": ["mockserver.web.api:Api"]
    }
    assert upward_imports({"mockserver.engine.engine": {"mockserver.store.base:Store"}}) == {}
    assert upward_imports({"mockserver.store.redis": {"mockserver.store.codec"}}) == {}


@pytest.mark.parametrize("layer", sorted(LIBRARIES))
def test_layer_uses_no_library_above_it(layer: str) -> None:
    index = [name for name, _ in LAYERS].index(layer)
    forbidden = LIBRARIES[layer]
    bad = {
        module: sorted(n for n in names if n.startswith(forbidden))
        for module, names in files_of("mockserver").items()
        if layer_of(module) == index and any(n.startswith(forbidden) for n in names)
    }
    assert bad == {}


def test_the_client_imports_neither_the_fake_nor_the_toolkit() -> None:
    found = files_of("client")
    bad = {
        m: names
        for m, names in found.items()
        if any(n.startswith(("mockserver", "contracts")) for n in names)
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
    assert find_cycles(modules(functions=False)) == []  # type-only imports count


def test_the_cycle_check_can_fail() -> None:
    tree = ast.parse("import a.b\nfrom c import d\nif TYPE_CHECKING:\n    import e\ndef f():\n    import g\n")
    assert imports_in(tree, functions=False, typing=False) == {"a.b", "c", "c:d"}
    assert imports_in(tree, functions=False) == {"a.b", "c", "c:d", "e"}
    assert imports_in(tree) == {"a.b", "c", "c:d", "e", "g"}
    assert find_cycles({"a": {"b:x"}, "b": {"c"}, "c": {"a"}}) == [["a", "b", "c", "a"]]
    assert find_cycles({"p": {"p:sub"}, "p.sub": {"p:other"}, "p.other": set()}) == []


# What talks to the network: callbacks, the in-process transport, and the proxy to upstreams
# (imported only for a proxied provider: tests/upstream checks a plain fake never loads httpx).
NETWORK = {"mockserver.callbacks.delivery", "mockserver.transport", "mockserver.app"} | {
    f"mockserver.upstream.{name}" for name in ("proxy", "relay", "target", "upstreams")
}


def test_only_what_talks_to_the_network_uses_httpx_in_the_fake() -> None:
    users = {m for m, names in files_of("mockserver").items() if "httpx" in names}
    assert users <= NETWORK


def test_the_design_page_lists_the_layers_in_this_order() -> None:
    page = (ROOT / "docs" / "design.md").read_text()
    listed = [
        line.split("|")[1].strip() for line in page.splitlines() if line.startswith("| ") and "`" in line
    ]
    assert listed == [name for name, _ in LAYERS]
