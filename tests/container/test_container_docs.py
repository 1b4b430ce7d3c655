"""docs/container.md: every command on the page is one the container tests run (the image's,
the shared topology's, the compose test's) or, where it cannot run here (a published port, a
pull), one checked here against the Dockerfile, compose.yaml and the fake's flags, variables
and specs."""

from __future__ import annotations

import re
import shlex
import tomllib
from collections.abc import Callable

import yaml

from tests.container import docs

SPECS = ("aimlapi.yaml", "evolink.yaml", "control.yaml")


def check_build(command: str) -> None:
    words = shlex.split(command)
    arguments = [words[i + 1].split("=")[0] for i, w in enumerate(words) if w == "--build-arg"]
    assert set(arguments) <= docs.dockerfile().args


def check_run(command: str) -> None:
    words = shlex.split(command)
    before, after = words[: words.index(docs.IMAGE)], words[words.index(docs.IMAGE) + 1 :]
    variables = dict(words[i + 1].split("=", 1) for i, w in enumerate(before) if w == "-e")
    assert set(variables) <= docs.variable_names()
    port = int(variables.get("MOCKSERVER_PORT", docs.dockerfile().env["MOCKSERVER_PORT"]))
    published = [words[i + 1] for i, w in enumerate(before) if w == "-p"]
    assert all(p.startswith("127.0.0.1:") and p.endswith(f":{port}") for p in published)
    assert {w.split("=")[0] for w in after if w.startswith("--")} <= docs.flag_names()


def check_curl(command: str) -> None:
    path = urlpath(shlex.split(command)[2])
    documented = set()
    for name in SPECS:
        documented |= set(yaml.safe_load((docs.ROOT / "openapi" / name).read_text())["paths"])
    assert path in documented


def urlpath(url: str) -> str:
    assert url.startswith("http://127.0.0.1:8000/"), url
    return url.removeprefix("http://127.0.0.1:8000")


def check_wheel(command: str) -> None:
    extra = re.search(r"\.\[(\w+)\]", command)
    project = tomllib.loads((docs.ROOT / "pyproject.toml").read_text())
    assert extra and extra[1] in project["project"]["optional-dependencies"]
    assert "wheels/" in docs.dockerignore_allowed()


def check_compose(command: str) -> None:
    variables = set(docs.assignments(command))
    assert variables <= set(docs.compose_variables((docs.ROOT / "compose.yaml").read_text()))
    words = shlex.split(command)[len(variables) :]
    if words[2] == "logs":
        assert words[3] in docs.compose()["services"]


KINDS: list[tuple[str, Callable[[str], None]]] = [
    (r"docker build( --build-arg \w+=\S+)* -t videogen-mock \.", check_build),
    (
        r"docker run --rm( -p 127\.0\.0\.1:\d+:\d+)?( -e \w+=\S+)* videogen-mock( --?[\w-]+( [\w,.-]+)?)*",
        check_run,
    ),
    (r"curl -s http://127\.0\.0\.1:8000/\S*( -H '[^']+')?", check_curl),
    (r'pip wheel "\.\[\w+\]" -w wheels/', check_wheel),
    (r"(\w+=\S+ )*docker compose (up|up -d|down|logs \w+)", check_compose),
]


def test_every_command_on_the_container_page_is_of_a_kind_the_tests_run_or_check() -> None:
    unknown = []
    for command in docs.commands():
        kinds = [check for pattern, check in KINDS if re.fullmatch(pattern, command)]
        if len(kinds) != 1:
            unknown.append(command)
            continue
        kinds[0](command)
    assert not unknown


def test_the_commands_the_container_tests_run_are_on_the_page() -> None:
    for prefix in (
        "docker build -t videogen-mock .",
        "docker run --rm -p 127.0.0.1:8000:8000 videogen-mock",
        "docker run --rm -p 127.0.0.1:8000:8000 -e MOCKSERVER_CONTROL_TOKEN",
        "docker run --rm -p 127.0.0.1:8000:8000 -e MOCKSERVER_RUN_SECONDS",
        "docker run --rm videogen-mock --help",
        "pip wheel",
        "docker compose up",
        "MOCK_CONTROL_TOKEN=s3cret docker compose up -d",
        "docker compose logs mockserver",
        "docker compose down",
    ):
        assert docs.first_command(prefix)
