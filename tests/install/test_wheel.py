"""The project as a user gets it: a wheel built from this tree and installed into a fresh
virtualenv outside the repository, plain first (the fake and the client), then with the
[contracts] extra, used from projects whose own packages are named contracts, mockserver and
client. The tests run in file order: the plain install's come before the extra is added."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
STEP_TIMEOUT = 300  # seconds for one build, install or command
TEST_TOOLS = {"pytest", "hypothesis", "schemathesis", "respx"}
READY = "mockserver: ready on "
# The user's environment, not this suite's: no settings of ours, no path to this tree.
DROPPED = ("MOCKSERVER_", "CONTRACTS_", "PYTHON", "VIRTUAL_ENV", "PYTEST_")


@dataclass(frozen=True)
class Venv:
    root: Path

    def env(self) -> dict[str, str]:
        kept = {k: v for k, v in os.environ.items() if not k.startswith(DROPPED)}
        return kept | {
            "PATH": f"{self.root / 'bin'}{os.pathsep}{kept.get('PATH', '')}",
            "PYTHONUNBUFFERED": "1",
        }

    def run(self, *command: str, cwd: Path, check: bool = True) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [str(self.root / "bin" / command[0]), *command[1:]],
            check=False,
            cwd=cwd,
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=STEP_TIMEOUT,
        )
        if check:
            assert done.returncode == 0, f"{command}: {done.returncode}\n{done.stdout}\n{done.stderr}"
        return done

    @contextmanager
    def fake(self, cwd: Path, *arguments: str) -> Iterator[str]:
        """`mockserver` from this virtualenv on a free loopback port: its base URL."""
        command = [str(self.root / "bin" / "mockserver"), "--port", "0", *arguments]
        with subprocess.Popen(
            command, cwd=cwd, env=self.env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        ) as proc:
            try:
                assert proc.stdout is not None
                deadline = time.monotonic() + 30
                while not (line := proc.stdout.readline()).startswith(READY):
                    assert line and time.monotonic() < deadline, "the fake did not start"
                yield line.removeprefix(READY).split()[0]
            finally:
                proc.terminate()
                proc.wait(10)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    command = [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(out), str(ROOT)]
    subprocess.run(command, check=True, capture_output=True, timeout=STEP_TIMEOUT)
    [built] = out.glob("videogen_mock-*.whl")
    return built


@pytest.fixture(scope="module")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Venv:
    """A fresh virtualenv with the wheel installed, nothing else asked for."""
    made = Venv(tmp_path_factory.mktemp("venv") / "env")
    subprocess.run([sys.executable, "-m", "venv", str(made.root)], check=True, timeout=STEP_TIMEOUT)
    made.run("pip", "install", "-q", str(wheel), cwd=made.root)
    return made


@pytest.fixture(scope="module")
def with_contracts(venv: Venv, wheel: Path) -> Venv:
    venv.run("pip", "install", "-q", f"{wheel}[contracts]", cwd=venv.root)
    return venv


def installed(venv: Venv) -> set[str]:
    listed = json.loads(venv.run("pip", "list", "--format", "json", cwd=venv.root).stdout)
    return {entry["name"].lower() for entry in listed}


def test_the_plain_install_brings_the_fake_and_the_client_and_no_test_tools(
    venv: Venv, tmp_path: Path
) -> None:
    names = installed(venv)
    assert {"videogen-mock", "httpx", "uvicorn", "starlette"} <= names
    assert names.isdisjoint(TEST_TOOLS)
    where = venv.run("python", "-c", "import client, mockserver; print(mockserver.__file__)", cwd=tmp_path)
    assert where.stdout.startswith(str(venv.root))  # the wheel's, not this tree's


def test_the_fake_from_the_wheel_serves_its_specs_videos_and_dashboard_outside_the_repository(
    venv: Venv, tmp_path: Path
) -> None:
    with venv.fake(tmp_path, "--clock", "manual") as base, httpx.Client(base_url=base, timeout=10) as http:
        health = http.get("/__mock/health").json()
        spec = http.get("/__mock/specs/evolink").json()
        task = http.post(
            "/v1/videos/generations",
            headers={"Authorization": "Bearer mock-key"},
            json={
                "model": "kling-o1-image-to-video",
                "prompt": "x",
                "image_urls": ["https://example.com/a.jpg"],
            },
        ).json()
        done = http.post(f"/__mock/tasks/{task['id']}/complete").json()
        video = http.get(done["result_url"])
        page, script = http.get("/__mock/ui"), http.get("/__mock/ui/app.js")  # package data
    assert health == {"status": "ok"} and spec["openapi"].startswith("3.1")
    assert page.headers["content-type"].startswith("text/html") and script.status_code == 200
    assert video.headers["content-type"] == "video/mp4" and len(video.content) > 1000
    assert venv.run("mockserver", "--version", cwd=tmp_path).stdout.startswith("mockserver, version ")


def test_without_the_extra_contracts_check_says_what_to_install(venv: Venv, tmp_path: Path) -> None:
    done = venv.run(
        "contracts", "check", "--base-url", "http://127.0.0.1:9", "--key", "k", cwd=tmp_path, check=False
    )
    assert done.returncode == 2
    assert "pip install 'videogen-mock[contracts]'" in done.stderr and len(done.stderr.splitlines()) == 1


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


# A user's project whose own packages take this project's three names.
CLASHING = {
    "contracts/__init__.py": "OWNER = 'the project'\n",
    "mockserver/__init__.py": "OWNER = 'the project'\n",
    "client.py": "OWNER = 'the project'\n",
    "tests/test_own.py": (
        "import client, contracts, mockserver\n\n\n"
        "def test_the_projects_own_packages():\n"
        "    assert client.OWNER == contracts.OWNER == mockserver.OWNER == 'the project'\n"
    ),
}


def test_a_project_with_its_own_contracts_mockserver_and_client_runs_pytest_and_the_commands(
    with_contracts: Venv, tmp_path: Path
) -> None:
    project = write(tmp_path / "project", CLASHING)
    tests = with_contracts.run("python", "-m", "pytest", "-q", "-p", "no:cacheprovider", cwd=project)
    assert "1 passed" in tests.stdout
    markers = with_contracts.run("python", "-m", "pytest", "--markers", cwd=project).stdout
    assert "@pytest.mark.video_mock(**settings)" in markers  # the plugin is loaded all the same
    for name in ("mockserver", "videogen", "contracts"):
        assert with_contracts.run(name, "--version", cwd=project).stdout.startswith(f"{name}, version ")
    with with_contracts.fake(project, "--speed", "500", "--keys", "mock-key,contracts-other-key") as base:
        check = with_contracts.run(
            "contracts", "check", "--base-url", base, "--key", "mock-key", "--provider", "evolink",
            "--max-examples", "2", "--stateful-examples", "1", "--no-negative", cwd=project, check=False,
        )  # fmt: skip
    assert check.returncode == 0, check.stdout + check.stderr
    assert check.stdout.splitlines()[-1] == "3 checked: 3 passed, 0 failed"


USES_FIXTURE = (
    "import client\n\n\n"
    "def test_the_fixture(video_mock):\n"
    "    assert client.OWNER == 'the project'\n"
    "    assert video_mock.tasks() == []\n"
)


def test_the_fixtures_work_beside_a_local_client_and_name_a_package_that_hides_ours(
    with_contracts: Venv, tmp_path: Path
) -> None:
    beside_client = write(tmp_path / "a", {"client.py": "OWNER = 'the project'\n", "test_a.py": USES_FIXTURE})
    works = with_contracts.run("python", "-m", "pytest", "-q", "-p", "no:cacheprovider", cwd=beside_client)
    assert "1 passed" in works.stdout
    # The limit of keeping the name `client`: beside a client.py, Python finds that file first.
    shadowed = with_contracts.run(
        "python", "-c", "from client import EvolinkClient", cwd=beside_client, check=False
    )
    assert "cannot import name 'EvolinkClient' from 'client'" in shadowed.stderr
    hiding = write(tmp_path / "b", {**CLASHING, "test_b.py": USES_FIXTURE})
    refused = with_contracts.run(
        "python", "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_b.py", cwd=hiding, check=False
    )
    assert refused.returncode == 1
    assert (
        "the video_mock fixture needs videogen-mock's `contracts` package, but `contracts` here is"
        in refused.stdout
    )
    assert str(hiding / "contracts" / "__init__.py") in refused.stdout
