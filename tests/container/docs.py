"""What the container files say, read the way their tools read them: the Dockerfile's
instructions, .dockerignore's allow-list, compose's `${VAR:-default}`, the commands of
docs/container.md, and the variable names the fake reads.

Test helpers: no test here.
"""

from __future__ import annotations

import dataclasses
import json
import re
import shlex
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from mockserver.cli import FLAG_FIELDS
from mockserver.cli import main as mockserver_command
from mockserver.settings import ENV_PREFIX, Settings
from tests.container.docker import loopback_node

ROOT = Path(__file__).resolve().parents[2]
CONTAINER_DOCS = ROOT / "docs" / "container.md"
FENCE = re.compile(r"^```sh\n(?P<body>.*?)^```$", re.MULTILINE | re.DOTALL)
IMAGE = "videogen-mock"  # the tag the page builds and runs
COMPOSE_VARIABLE = re.compile(r"\$\{(?P<name>\w+)(?::-(?P<default>[^}]*))?\}")


@dataclass(frozen=True)
class Dockerfile:
    args: frozenset[str]  # ARG names
    env: dict[str, str]  # the final stage's ENV
    expose: tuple[int, ...]
    user: str
    healthcheck: str  # the HEALTHCHECK instruction, options and command
    entrypoint: list[str]
    stages: int

    @property
    def health_path(self) -> str:
        found = re.search(r"'(/__mock/[\w/]+)'", self.healthcheck)
        assert found, self.healthcheck
        return found[1]

    @property
    def uid(self) -> int:
        return int(self.user.split(":")[0])


@cache
def dockerfile() -> Dockerfile:
    instructions = _instructions((ROOT / "Dockerfile").read_text())
    final = max(i for i, (word, _) in enumerate(instructions) if word == "FROM")
    env: dict[str, str] = {}
    for word, rest in instructions[final:]:
        if word == "ENV":
            env.update(pair.split("=", 1) for pair in shlex.split(rest))
    last = {word: rest for word, rest in instructions[final:]}
    return Dockerfile(
        args=frozenset(rest.split("=")[0] for word, rest in instructions if word == "ARG"),
        env=env,
        expose=tuple(int(port.split("/")[0]) for port in last["EXPOSE"].split()),
        user=last["USER"],
        healthcheck=last["HEALTHCHECK"],
        entrypoint=json.loads(last["ENTRYPOINT"]),
        stages=sum(word == "FROM" for word, _ in instructions),
    )


def _instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, its arguments) with continuation lines joined and comments left out."""
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    joined = re.sub(r"\\\n\s*", " ", "\n".join(lines))
    found = []
    for line in joined.splitlines():
        if line.strip():
            word, _, rest = line.strip().partition(" ")
            found.append((word.upper(), rest.strip()))
    return found


def health_operation_path() -> str:
    """The path of the control plane's health check (`getHealth` in openapi/control.yaml)."""
    control = yaml.safe_load((ROOT / "openapi" / "control.yaml").read_text())
    [path] = [
        p for p, ops in control["paths"].items() if ops.get("get", {}).get("operationId") == "getHealth"
    ]
    return str(path)


def dockerignore_allowed() -> list[str]:
    """The paths .dockerignore lets in (it ignores everything, then allows these)."""
    lines = [line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()]
    assert "*" in lines, ".dockerignore is an allow-list: it starts by ignoring everything"
    return [line[1:] for line in lines if line.startswith("!")]


def variable_names() -> frozenset[str]:
    """Every variable the `mockserver` command reads: its flags' and those of the settings that
    have no flag (as its help lists them)."""
    fields = dataclasses.fields(Settings)
    settings = {ENV_PREFIX + field.name.upper() for field in fields if field.name not in FLAG_FIELDS}
    flags = {param.envvar for param in mockserver_command.params if isinstance(param.envvar, str)}
    return frozenset(settings | flags)


def flag_names() -> frozenset[str]:
    """The `mockserver` command's long options, --help included."""
    options = {opt for param in mockserver_command.params for opt in param.opts}
    options |= set(mockserver_command.context_settings["help_option_names"])
    return frozenset(opt for opt in options if opt.startswith("--"))


def interpolate(value: Any, environ: dict[str, str] | None = None) -> Any:
    """A compose value with `${VAR:-default}` filled from `environ` (default: none set)."""
    if not isinstance(value, str):
        return value
    environ = environ or {}
    return COMPOSE_VARIABLE.sub(lambda m: environ.get(m["name"]) or (m["default"] or ""), value)


def compose_variables(text: str) -> dict[str, str]:
    """The `${VAR:-default}` a compose file reads, with their defaults."""
    return {m["name"]: m["default"] or "" for m in COMPOSE_VARIABLE.finditer(text)}


@cache
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "compose.yaml").read_text())
    return loaded


def commands(path: Path = CONTAINER_DOCS) -> list[str]:
    """Every shell command of a page's ```sh blocks, continuation lines joined, without the
    comment lines that show output."""
    found = []
    for block in FENCE.finditer(path.read_text()):
        text = re.sub(r"\\\n\s*", " ", block["body"])
        lines = (line.strip() for line in text.splitlines())
        found += [line for line in lines if line and not line.startswith("#")]
    return found


def first_command(prefix: str) -> str:
    """The page's first command that starts with `prefix`, with or without its VAR=value words."""
    for command in commands():
        if command.startswith(prefix) or _without_assignments(command).startswith(prefix):
            return command
    raise LookupError(f"docs/container.md has no command starting with {prefix!r}")


def _without_assignments(command: str) -> str:
    return re.sub(r"^(\w+=\S*\s+)+", "", command)


def assignments(command: str) -> dict[str, str]:
    """The `VAR=value` words before a command."""
    words = shlex.split(command)
    found = {}
    for word in words:
        name, equals, value = word.partition("=")
        if not equals or not re.fullmatch(r"\w+", name):
            break
        found[name] = value
    return found


def loopback_run(command: str, image: str, port: int, env: dict[str, str] | None = None) -> list[str]:
    """A `docker run` command of the page as the tests run it (the arguments after `docker run`):
    on the host's network bound to 127.0.0.1:`port` where the page publishes a port through
    docker's bridge (`-p`), kept once it ends (no `--rm`) so its exit code can be read, with
    `image` standing for videogen-mock; `env` adds variables."""
    words = shlex.split(command)
    assert words[:2] == ["docker", "run"], command
    kept: list[str] = []
    rest = iter(words[2:])
    for word in rest:
        if word == "--rm":
            continue
        if word == "-p":
            next(rest)
            continue
        if word == IMAGE:
            return loopback_node(image, port, *rest, before=kept, env=env)
        kept.append(word)
    raise AssertionError(f"no image {IMAGE} in {command!r}")
