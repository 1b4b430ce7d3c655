"""The docs' generated sections, from the definitions they describe: the `mockserver` command's
flags (mockserver/cli.py), every setting (mockserver/settings.py, each field's own `doc`), the
control plane's operations (openapi/control.yaml), the fault kinds (mockserver/engine/faults.py)
and the drift report's kinds (mockserver/upstream/drift.py).

A page marks a section `<!-- generated: NAME -->` ... `<!-- end generated -->`; this rewrites
what is between. `python docs/generate.py` rewrites the pages, `--check` only says which are
stale (tests/docs/test_generated.py fails the same way). Docs tooling: imported by no package.
"""

from __future__ import annotations

import dataclasses
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
import yaml

from mockserver import cli
from mockserver.engine.faults import Trigger, kinds_of
from mockserver.settings import DOC, ENV_PREFIX, GROUP, NETWORK, SHOWN, Settings
from mockserver.upstream.drift import KINDS

ROOT = Path(__file__).resolve().parents[1]

SECTION = re.compile(
    r"(?P<start><!-- generated: (?P<name>[\w-]+) -->\n)(?P<body>.*?)(?P<end><!-- end generated -->)",
    re.DOTALL,
)
METHODS = ("get", "put", "post", "delete", "patch", "head", "options")


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _table(head: tuple[str, ...], rows: list[tuple[str, ...]]) -> str:
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def _value(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, float):
        return f"{value:.15g}"
    if isinstance(value, tuple):
        return ",".join(_value(v) for v in value) or "none"
    return str(value)


def _default(setting: dataclasses.Field[Any]) -> str:
    value = _value(setting.default)
    shown = setting.metadata.get(SHOWN, value)
    return f"`{value}`" if shown == value else str(shown)


SETTINGS = {f.name: f for f in dataclasses.fields(Settings)}


def _flag(option: click.Option) -> str:
    name = max(option.opts, key=len)
    if isinstance(option.type, click.Choice):
        # braces, not pipes: a pipe in a code span breaks the table in some renderers
        return f"`{name} {{{','.join(map(str, option.type.choices))}}}`"
    return f"`{name}`"


def flags() -> str:
    """The command's flags: each one's variable, default and meaning (its setting's, if it has one)."""
    rows = []
    for option in cli.main.params:
        if not isinstance(option, click.Option) or option.envvar is None:
            continue  # --version, --help
        setting = SETTINGS.get(option.name or "")
        if setting is not None:
            default, meaning = _default(setting), setting.metadata[DOC]
        else:
            default, meaning = f"`{option.default}`", option.help or ""
        rows.append((_flag(option), f"`{option.envvar}`", default, meaning))
    return _table(("flag", "variable", "default", "meaning"), rows)


def _variables(group: str | None) -> str:
    named = {option.name for option in cli.main.params}
    rows = [
        (f"`{ENV_PREFIX}{f.name.upper()}`", _default(f), f.metadata[DOC])
        for f in SETTINGS.values()
        if f.name not in named and f.metadata.get(GROUP) == group
    ]
    return _table(("variable", "default", "meaning"), rows)


def variables() -> str:
    """The settings with no flag of their own, but the network limits."""
    return _variables(None)


def limits() -> str:
    """The limits against slow or hostile clients on the network."""
    return _variables(NETWORK)


def control_plane() -> str:
    """Every operation of openapi/control.yaml, in the spec's order."""
    spec = yaml.safe_load((ROOT / "openapi" / "control.yaml").read_text())
    rows = [
        (f"`{method.upper()}`", f"`{path}`", operation["summary"])
        for path, item in spec["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]
    return _table(("method", "path", "what it does"), rows)


def fault_kinds() -> str:
    """Every fault kind (mockserver/engine/faults.py), by trigger: its grammar and what it does."""
    headers = {
        Trigger.FAULT: "`X-Mock-Fault`",
        Trigger.FAIL: "`X-Mock-Fail`",
        Trigger.CALLBACK: "`X-Mock-Callback`",
    }
    rows = [
        (headers[kind.trigger], f"`{kind.grammar}`", kind.meaning)
        for trigger in Trigger
        for kind in kinds_of(trigger)
    ]
    return _table(("trigger", "value", "what the client sees"), rows)


def drift_kinds() -> str:
    """Every kind of finding the drift report makes (mockserver/upstream/drift.py)."""
    rows = [(f"`{kind.name}`", kind.severity, kind.description) for kind in KINDS.values()]
    return _table(("kind", "severity", "what was seen"), rows)


SECTIONS: dict[str, Callable[[], str]] = {
    "drift-kinds": drift_kinds,
    "fault-kinds": fault_kinds,
    "flags": flags,
    "variables": variables,
    "limits": limits,
    "control-plane": control_plane,
}


def render(text: str) -> str:
    """The page with each generated section written afresh."""

    def fresh(match: re.Match[str]) -> str:
        return match["start"] + SECTIONS[match["name"]]() + match["end"]

    return SECTION.sub(fresh, text)


def stale(pages: list[Path]) -> list[Path]:
    return [page for page in pages if render(page.read_text()) != page.read_text()]


def main(argv: list[str]) -> int:
    pages = sorted((ROOT / "docs").glob("*.md"))
    if argv == ["--check"]:
        found = stale(pages)
        for page in found:
            print(f"{page.relative_to(ROOT)} is stale: run python docs/generate.py")
        return 1 if found else 0
    for page in pages:
        page.write_text(render(page.read_text()))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
