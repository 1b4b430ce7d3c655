"""compose.yaml: what it says (read as compose reads it), and `docker compose up` as
docs/container.md runs it. Run here, every service uses the host's network bound to 127.0.0.1
on free ports, in a copy of the file changed only for that (never docker's bridge)."""

from __future__ import annotations

import copy
import os
import shlex
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import yaml

from mockserver.settings import Settings
from tests.container import docs
from tests.container.docker import Container
from tests.helpers import AUTH, EVOLINK_CREATE, evolink_body, free_port

COMPOSE_TIMEOUT = 120
POLLS = 20  # each on a connection of its own, so both workers answer some


def test_compose_publishes_the_fake_on_loopback_port_8000_by_default() -> None:
    [published] = docs.compose()["services"]["mockserver"]["ports"]
    assert docs.interpolate(published) == f"127.0.0.1:8000:{docs.dockerfile().expose[0]}"
    bind, port, _ = docs.interpolate(published, {"MOCK_BIND": "0.0.0.0", "MOCK_PORT": "9000"}).split(":")
    assert (bind, port) == ("0.0.0.0", "9000")


def test_compose_starts_several_workers_on_the_redis_service_once_it_is_healthy() -> None:
    services = docs.compose()["services"]
    fake, redis = services["mockserver"], services["redis"]
    assert fake["depends_on"] == {"redis": {"condition": "service_healthy"}}
    assert redis["healthcheck"]["test"][0] in ("CMD", "CMD-SHELL")
    store = urlsplit(docs.interpolate(fake["environment"]["MOCKSERVER_STORE"]))
    assert (store.scheme, store.hostname, store.port) == ("redis", "redis", 6379)
    assert int(docs.interpolate(fake["environment"]["MOCKSERVER_WORKERS"])) >= 2
    assert set(fake["environment"]) <= docs.variable_names()
    assert set(fake["build"]["args"]) <= docs.dockerfile().args


def test_compose_gives_a_stop_more_time_than_the_fake_takes_to_stop() -> None:
    grace = docs.compose()["services"]["mockserver"]["stop_grace_period"]
    assert grace.endswith("s") and int(grace[:-1]) > Settings().shutdown_timeout


def test_the_container_page_lists_every_variable_compose_reads_with_its_default() -> None:
    read = docs.compose_variables((docs.ROOT / "compose.yaml").read_text())
    rows = [line.split("|")[1:3] for line in docs.CONTAINER_DOCS.read_text().splitlines()]
    listed = {
        cells[0].strip(" `"): cells[1].strip(" `")
        for cells in rows
        if len(cells) == 2 and cells[0].strip(" `") in read
    }
    assert set(listed) == set(read)
    assert all(listed[name].startswith(default) for name, default in read.items() if default)


def started_at(container: Container) -> float:
    """When docker started it, in seconds (its RFC 3339 time has nanoseconds, trailing zeros cut)."""
    stamp = container.state("StartedAt").strip('"').removesuffix("Z")
    whole, _, fraction = stamp.partition(".")
    return datetime.fromisoformat(whole).replace(tzinfo=UTC).timestamp() + float(f"0.{fraction or 0}")


def compose_command() -> list[str] | None:
    """`docker compose` (v2, what users run) where it is installed, else `docker-compose` (v1)."""
    if subprocess.run(["docker", "compose", "version"], capture_output=True, check=False).returncode == 0:
        return ["docker", "compose"]
    found = shutil.which("docker-compose")
    return [found] if found else None


def on_host_network(redis_port: int, fake_port: int) -> dict[str, Any]:
    """compose.yaml with every service on the host's network on loopback: no published ports,
    Redis and the fake on the given ports, the fake's store naming 127.0.0.1 for `redis`."""
    spec = copy.deepcopy(docs.compose())
    for service in spec["services"].values():
        service.pop("ports", None)
        service["network_mode"] = "host"
    redis, fake = spec["services"]["redis"], spec["services"]["mockserver"]
    redis["command"] = ["--bind", "127.0.0.1", "--port", str(redis_port), *redis["command"]]
    kind, probe = redis["healthcheck"]["test"]
    redis["healthcheck"]["test"] = [kind, probe.replace("-cli ping", f"-cli -p {redis_port} ping")]
    store = urlsplit(fake["environment"]["MOCKSERVER_STORE"])
    fake["environment"].update(
        MOCKSERVER_HOST="127.0.0.1",
        MOCKSERVER_PORT=str(fake_port),
        MOCKSERVER_STORE=f"redis://127.0.0.1:{redis_port}{store.path}",
    )
    fake["build"]["context"] = str(docs.ROOT)
    return spec


class Project:
    """The page's `docker compose ...` lines, run on a copy of compose.yaml in `folder`."""

    def __init__(self, tool: list[str], folder: Path, spec: dict[str, Any], env: dict[str, str]) -> None:
        self.file = folder / "compose.yaml"
        self.file.write_text(yaml.safe_dump(spec, sort_keys=False))
        self.spec = spec
        self.name = f"videogen-mock-test-{os.getpid()}"
        self.tool, self.env = tool, env

    def run(self, line: str) -> str:
        """A line of the page (`[VAR=value ...] docker compose ARGS`), on this project."""
        words = shlex.split(line)
        variables = docs.assignments(line)
        arguments = words[len(variables) + 2 :]
        command = [*self.tool, "--project-name", self.name, "--file", str(self.file), *arguments]
        done = subprocess.run(
            command,
            env={**os.environ, **self.env, **variables},
            capture_output=True,
            text=True,
            timeout=COMPOSE_TIMEOUT,
            check=False,
        )
        assert done.returncode == 0, f"{line}: {done.stderr[-3000:]}"
        return done.stdout + done.stderr

    def container(self, service: str) -> str:
        return self.run(f"docker compose ps -q {service}").split()[-1]


@pytest.mark.slow
def test_docker_compose_up_gives_a_shared_fake_behind_its_token(
    image: str, redis_image: str, tmp_path: Path
) -> None:
    tool = compose_command()
    if tool is None:
        pytest.skip("neither `docker compose` nor docker-compose found; apt-get install -y docker-compose")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    images = {"MOCK_IMAGE": image, "REDIS_IMAGE": redis_image}
    project = Project(tool, tmp_path, on_host_network(free_port(), port), images)
    up = docs.first_command("MOCK_CONTROL_TOKEN=s3cret docker compose up -d")
    token = docs.assignments(up)["MOCK_CONTROL_TOKEN"]
    try:
        project.run(up)
        fake = Container.existing(project.container("mockserver"))
        fake.wait_until_serving(base)

        redis = Container.existing(project.container("redis"))
        # Docker runs a first health check one interval after the start: the fake waited for it.
        interval = project.spec["services"]["redis"]["healthcheck"]["interval"]
        assert started_at(fake) - started_at(redis) >= float(interval.removesuffix("s"))

        assert httpx.get(f"{base}/__mock/tasks").status_code == 401
        task = httpx.post(f"{base}{EVOLINK_CREATE}", headers=AUTH, json=evolink_body()).json()
        polls = [httpx.get(f"{base}/v1/tasks/{task['id']}", headers=AUTH).status_code for _ in range(POLLS)]
        tasks = httpx.get(f"{base}/__mock/tasks", headers={"X-Mock-Token": token}).json()["tasks"]
        assert (polls, [t["id"] for t in tasks]) == ([200] * POLLS, [task["id"]])

        logs = project.run(docs.first_command("docker compose logs mockserver"))
        assert f"control token      {token}" in logs and "2 worker(s)" in logs
    finally:
        project.run(docs.first_command("docker compose down"))
    assert project.run("docker compose ps -q").split() == []
