"""The Dockerfile and .dockerignore, read as docker reads them (no docker needed): what the
image runs, as whom, on which port, from which base, and what the build may read."""

from __future__ import annotations

import re
import tomllib

from mockserver.control.access import OPEN_OPERATIONS
from tests.container import docs


def test_the_image_runs_mockserver_on_every_address_on_the_port_it_exposes() -> None:
    dockerfile = docs.dockerfile()
    assert dockerfile.entrypoint == ["mockserver"]
    assert dockerfile.env["MOCKSERVER_HOST"] == "0.0.0.0"
    assert (int(dockerfile.env["MOCKSERVER_PORT"]),) == dockerfile.expose == (8000,)
    assert {name for name in dockerfile.env if name.startswith("MOCKSERVER_")} <= docs.variable_names()


def test_the_health_check_asks_the_health_operation_that_needs_no_token() -> None:
    dockerfile = docs.dockerfile()
    assert dockerfile.health_path == docs.health_operation_path()
    assert "getHealth" in OPEN_OPERATIONS
    # It reads the address and port the image is configured with, a wildcard asked on loopback.
    assert "MOCKSERVER_HOST" in dockerfile.healthcheck and "MOCKSERVER_PORT" in dockerfile.healthcheck


def test_the_image_runs_as_a_numeric_user_that_is_not_root() -> None:
    uid, _, gid = docs.dockerfile().user.partition(":")
    assert uid.isdigit() and gid.isdigit() and int(uid) > 0 and int(gid) > 0


def test_every_stage_starts_from_the_base_image_build_argument() -> None:
    dockerfile = docs.dockerfile()
    text = (docs.ROOT / "Dockerfile").read_text()
    froms = re.findall(r"^FROM (\S+)", text, re.MULTILINE)
    assert froms == ["${BASE_IMAGE}"] * dockerfile.stages and dockerfile.stages == 2
    assert re.search(r"^ARG BASE_IMAGE=python:3\.\d+-slim$", text, re.MULTILINE)


def test_the_build_context_lets_in_what_the_wheel_is_built_from_and_a_wheelhouse() -> None:
    project = tomllib.loads((docs.ROOT / "pyproject.toml").read_text())
    wheel = project["tool"]["hatch"]["build"]["targets"]["wheel"]
    needed = {project["project"]["readme"], *project["project"]["license-files"], "pyproject.toml"}
    needed |= set(wheel["only-include"]) | set(wheel["force-include"]) | {"wheels"}
    allowed = {name.rstrip("/") for name in docs.dockerignore_allowed()}
    assert needed == allowed  # all it needs, and nothing else (tests, docs, .git, .venv)
