"""Docker for the container tests: whether it can run here, and containers that always go away.

Every container uses the host's network bound to 127.0.0.1, or no network at all; nothing is
published through docker's bridge. Every docker call has a deadline.

Test helpers: no test here.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import shutil
import subprocess
import time
from collections.abc import Iterator, Sequence
from typing import Any

import httpx

INSTALL = (
    "install and start it as root: apt-get install -y docker.io mmdebstrap docker-compose && "
    "dockerd --bridge=none --iptables=false >/var/log/dockerd.log 2>&1 &"
)
START_TIMEOUT = 30.0  # container start to a healthy answer
_names = itertools.count()


def unavailable() -> str | None:
    """Why the container tests cannot run here (with the install command), or None."""
    if shutil.which("docker") is None:
        return f"docker not found on PATH; {INSTALL}"
    try:
        answer = subprocess.run(
            ["docker", "info", "--format", "{{.ServerVersion}}"],
            capture_output=True,
            text=True,
            timeout=20,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return f"dockerd does not answer; {INSTALL}"
    if answer.returncode != 0 or not answer.stdout.strip():
        return f"dockerd is not running or not reachable ({answer.stderr.strip()[:200]}); {INSTALL}"
    return None


def docker(*args: str, timeout: float = 60, check: bool = True, **kwargs: Any) -> str:
    """`docker ARGS`, its standard output; a failure raises with what docker said."""
    kwargs.setdefault("stderr", subprocess.PIPE)
    done = subprocess.run(
        ["docker", *args], stdout=subprocess.PIPE, text=True, timeout=timeout, check=False, **kwargs
    )
    if check and done.returncode != 0:
        raise RuntimeError(
            f"docker {' '.join(args)} failed ({done.returncode}): {(done.stderr or done.stdout)[-3000:]}"
        )
    return done.stdout


def exists(image: str) -> bool:
    inspect = ["docker", "image", "inspect", image]
    return subprocess.run(inspect, capture_output=True, timeout=30, check=False).returncode == 0


def unique_name(role: str) -> str:
    return f"videogen-mock-test-{os.getpid()}-{next(_names)}-{role}"


class Container:
    """A container started detached (`docker run -d ARGS`); `remove()` always ends it."""

    def __init__(self, run_args: Sequence[str], role: str = "fake") -> None:
        self.name = unique_name(role)
        self.started = time.monotonic()
        docker("run", "-d", "--name", self.name, *run_args, timeout=60)

    @classmethod
    def existing(cls, name: str) -> Container:
        """One started by another tool (compose)."""
        container = cls.__new__(cls)
        container.name, container.started = name, time.monotonic()
        return container

    def logs(self) -> str:
        return docker("logs", self.name, timeout=30, stderr=subprocess.STDOUT)

    def state(self, field: str) -> Any:
        """A field of `docker inspect`'s State, e.g. `Health.Status`, `ExitCode`."""
        return docker("inspect", "--format", "{{json .State." + field + "}}", self.name, timeout=30).strip()

    def exec(self, *command: str, timeout: float = 30) -> str:
        return docker("exec", self.name, *command, timeout=timeout)

    def stop(self, grace: int) -> float:
        """`docker stop` (SIGTERM, then SIGKILL after `grace` seconds): the seconds it took."""
        began = time.monotonic()
        docker("stop", "--time", str(grace), self.name, timeout=grace + 30)
        return time.monotonic() - began

    def remove(self) -> None:
        docker("rm", "--force", "--volumes", self.name, timeout=60, check=False)

    def wait_until_serving(self, base: str, timeout: float = START_TIMEOUT) -> float:
        """Poll `base`/__mock/health until it answers 200: the seconds since the container started."""
        deadline = time.monotonic() + timeout
        while True:
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{base}/__mock/health", timeout=2).status_code == 200:
                    return time.monotonic() - self.started
            if time.monotonic() > deadline or self.state("Running") == "false":
                raise AssertionError(f"{self.name} did not become healthy at {base}:\n{self.logs()}")
            time.sleep(0.05)

    def wait_for_health_status(self, status: str = '"healthy"', timeout: float = START_TIMEOUT) -> float:
        """Wait for docker's own health status (the image's HEALTHCHECK) to become `status`: the
        seconds since the container started."""
        deadline = time.monotonic() + timeout
        while (found := self.state("Health.Status")) != status:
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.name} health is {found}, not {status}:\n{self.logs()}")
            time.sleep(0.1)
        return time.monotonic() - self.started


@contextlib.contextmanager
def running(run_args: Sequence[str], role: str = "fake") -> Iterator[Container]:
    container = Container(run_args, role)
    try:
        yield container
    finally:
        container.remove()


def loopback_node(
    image: str, port: int, *args: str, before: Sequence[str] = (), env: dict[str, str] | None = None
) -> list[str]:
    """`docker run` arguments for the fake on the host's 127.0.0.1:`port`, `before` the image
    and `args` after it (host networking: the image's default 0.0.0.0 would bind every address
    of this machine, so it binds loopback; the last `-e` of a name wins)."""
    variables = {**(env or {}), "MOCKSERVER_HOST": "127.0.0.1", "MOCKSERVER_PORT": str(port)}
    flags = [part for name, value in variables.items() for part in ("-e", f"{name}={value}")]
    return ["--network", "host", *before, *flags, image, *args]
