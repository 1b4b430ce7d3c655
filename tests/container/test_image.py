"""The image, run as docs/container.md runs it: on the host's network bound to 127.0.0.1 (or
with no network at all, to see the image's own defaults), stopped by SIGTERM."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.container import docs
from tests.container.docker import Container, docker, running
from tests.container.images import BASE
from tests.helpers import AUTH, EVOLINK_CREATE, evolink_body, free_port

pytestmark = pytest.mark.slow
CONTRACTS_TIMEOUT = 300
STOP_GRACE = 10  # docker stop's default
IN_FLIGHT_DELAY = 2  # real seconds a request waits while the container is told to stop
BANNER_TOKEN = "control token      "
TASK_SECONDS = 80  # a default task's whole life (2 s queued, 77 s running), in fake seconds


def curl(command: str, port: int) -> str:
    """A curl line of the page, with the test's port for 8000."""
    line = command.replace("127.0.0.1:8000", f"127.0.0.1:{port}")
    return subprocess.run(line, shell=True, capture_output=True, text=True, timeout=30, check=True).stdout


def control(container: Container, path: str, token: str | None = None) -> tuple[int, Any]:
    """GET `path` of the control plane from inside the container (which may have no network)."""
    headers = {"X-Mock-Token": token} if token else {}
    script = (
        "import http.client, json, sys; c = http.client.HTTPConnection('127.0.0.1', 8000, timeout=5); "
        f"c.request('GET', {path!r}, headers={headers!r}); r = c.getresponse(); "
        "print(json.dumps([r.status, json.loads(r.read())]))"
    )
    status, body = json.loads(container.exec("python", "-c", script))
    return status, body


def banner_token(container: Container) -> str:
    line = next(line for line in container.logs().splitlines() if BANNER_TOKEN in line)
    return line.split(BANNER_TOKEN)[1].split()[0]


def test_the_documented_docker_run_serves_a_task_to_its_video_and_passes_the_contract_check(
    image: str, tmp_path: Path
) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with running(docs.loopback_run(docs.first_command("docker run --rm -p"), image, port)) as fake:
        fake.wait_until_serving(base)
        assert json.loads(curl(docs.first_command("curl -s http://127.0.0.1:8000/__mock/health"), port)) == {
            "status": "ok"
        }
        task = httpx.post(f"{base}{EVOLINK_CREATE}", headers=AUTH, json=evolink_body()).json()
        httpx.post(f"{base}/__mock/clock/advance", json={"seconds": TASK_SECONDS}).raise_for_status()
        done = httpx.get(f"{base}/v1/tasks/{task['id']}", headers=AUTH).json()
        video = httpx.get(done["results"][0])  # a link to this port: the bundled MP4
        assert (done["status"], video.status_code, video.headers["content-type"]) == (
            "completed",
            200,
            "video/mp4",
        )
        assert video.content[4:8] == b"ftyp"

        check = [sys.executable, "-m", "contracts", "check", "--base-url", base, "--key", "mock-key"]
        check += ["--max-examples", "10", "--stateful-examples", "3", "--junit", str(tmp_path / "junit.xml")]
        checked = subprocess.run(
            check, capture_output=True, text=True, timeout=CONTRACTS_TIMEOUT, check=False
        )
        assert checked.returncode == 0, checked.stdout[-4000:] + checked.stderr[-4000:]
        assert "6 checked: 6 passed, 0 failed" in checked.stdout  # two providers: 2 operations + 1 chain


def test_docker_stop_ends_the_fake_cleanly_once_the_request_in_flight_is_answered(image: str) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with running(docs.loopback_run(docs.first_command("docker run --rm -p"), image, port)) as fake:
        fake.wait_until_serving(base)
        task = httpx.post(f"{base}{EVOLINK_CREATE}", headers=AUTH, json=evolink_body()).json()
        answers: list[httpx.Response] = []
        slow = threading.Thread(
            target=lambda: answers.append(
                httpx.get(
                    f"{base}/v1/tasks/{task['id']}",
                    headers={**AUTH, "X-Mock-Fault": f"delay={IN_FLIGHT_DELAY}"},
                    timeout=STOP_GRACE,
                )
            )
        )
        slow.start()
        # The request reaches the fake in milliseconds and waits there for IN_FLIGHT_DELAY seconds
        # (nothing shows it has arrived before it is answered: its log line comes after).
        time.sleep(IN_FLIGHT_DELAY / 4)
        took = fake.stop(STOP_GRACE)
        slow.join(STOP_GRACE)
        assert fake.state("ExitCode") == "0"  # not 137: SIGTERM ended it, SIGKILL was not needed
        assert took < STOP_GRACE
        assert [a.status_code for a in answers] == [200]  # the request in flight was answered


def test_beyond_loopback_the_image_makes_prints_and_requires_a_control_token(image: str) -> None:
    # No network: the image's own 0.0.0.0:8000 binds only the container's private loopback.
    # Its HEALTHCHECK is asked every second rather than every 10 s, to keep the test short.
    with running(["--network", "none", "--health-interval", "1s", image]) as fake:
        fake.wait_for_health_status('"healthy"')  # the image's HEALTHCHECK answered
        token = banner_token(fake)
        assert control(fake, "/__mock/tasks")[0] == 401
        assert control(fake, "/__mock/tasks", token) == (200, {"tasks": [], "next": None})
        status = fake.exec("cat", "/proc/1/status")
        uid = next(line.split()[1:] for line in status.splitlines() if line.startswith("Uid:"))
        assert uid == [str(docs.dockerfile().uid)] * 4  # real, effective, saved, filesystem: not root


def test_a_chosen_control_token_is_the_one_the_control_plane_takes(image: str) -> None:
    port = free_port()
    command = docs.first_command("docker run --rm -p 127.0.0.1:8000:8000 -e MOCKSERVER_CONTROL_TOKEN")
    with running(docs.loopback_run(command, image, port)) as fake:
        fake.wait_until_serving(f"http://127.0.0.1:{port}")
        given = docs.assignments(command.split(" -e ", 1)[1])["MOCKSERVER_CONTROL_TOKEN"]
        assert banner_token(fake) == given
        with_token = docs.first_command("curl -s http://127.0.0.1:8000/__mock/tasks -H")
        assert json.loads(curl(with_token, port)) == {"tasks": [], "next": None}
        without = httpx.get(f"http://127.0.0.1:{port}/__mock/tasks")
        assert without.status_code == 401  # on loopback too, once a token is chosen


def test_the_documented_flags_and_variables_reach_the_fake(image: str) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    command = docs.first_command("docker run --rm -p 127.0.0.1:8000:8000 -e MOCKSERVER_RUN_SECONDS")
    with running(docs.loopback_run(command, image, port)) as fake:
        fake.wait_until_serving(base)
        assert httpx.get(f"{base}/__mock/clock").json()["speed"] == 5  # --speed 5
        other = {"Authorization": "Bearer ci-key"}  # --keys mock-key,ci-key
        task = httpx.post(f"{base}{EVOLINK_CREATE}", headers=other, json=evolink_body()).json()
        httpx.post(f"{base}/__mock/clock/advance", json={"seconds": 2 + 10}).raise_for_status()
        done = httpx.get(f"{base}/v1/tasks/{task['id']}", headers=other).json()
        assert done["status"] == "completed"  # queued 2 s, then MOCKSERVER_RUN_SECONDS=10


def test_the_images_help_lists_every_variable_the_fake_reads(image: str) -> None:
    words = docs.first_command("docker run --rm videogen-mock --help").split()
    shown = docker("run", "--rm", "--network", "none", image, *words[words.index(docs.IMAGE) + 1 :])
    missing = sorted(name for name in docs.variable_names() if name not in shown)
    assert not missing


INSTALLED = (
    "import importlib.metadata as m, json; "
    "print(json.dumps(sorted([d.metadata['Name'].lower(), d.version] for d in m.distributions())))"
)


def test_built_from_a_package_index_the_image_holds_the_same_packages_and_serves(
    index_image: str, image: str
) -> None:
    installed = [
        json.loads(docker("run", "--rm", "--network", "none", "--entrypoint", "python", i, "-c", INSTALLED))
        for i in (index_image, image)
    ]
    assert installed[0] == installed[1]
    assert {"videogen-mock", "redis"} <= {name for name, _ in installed[0]}
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with running(docs.loopback_run(docs.first_command("docker run --rm -p"), index_image, port)) as fake:
        fake.wait_until_serving(base)
        task = httpx.post(f"{base}{EVOLINK_CREATE}", headers=AUTH, json=evolink_body())
        assert httpx.get(f"{base}/v1/tasks/{task.json()['id']}", headers=AUTH).status_code == 200


CONTENTS = """
import importlib.resources, importlib.util, json, os, shutil, sys
package = importlib.resources.files("mockserver")
print(json.dumps({
    "specs": sorted(p.name for p in (package / "openapi").iterdir()),
    "videos": sorted(p.name for p in (package / "media" / "files").iterdir()),
    "redis": importlib.util.find_spec("redis") is not None,
    "importable": [m for m in ("pip", "setuptools", "pytest", "schemathesis", "hypothesis", "mypy")
                   if importlib.util.find_spec(m)],
    "programs": [p for p in ("pip", "pip3", "gcc", "cc", "c++", "make") if shutil.which(p)],
    "left": [p for p in ("/src", "/root/.cache", "/tmp/venv") if os.path.exists(p)],
    "prefix": sys.prefix,
}))
"""


def test_the_image_holds_the_fake_its_specs_and_videos_and_no_pip_compilers_tests_or_caches(
    image: str,
) -> None:
    inside = docker("run", "--rm", "--network", "none", "--entrypoint", "python", image, "-c", CONTENTS)
    found = json.loads(inside)
    specs = sorted(p.name for p in (docs.ROOT / "openapi").glob("*.yaml"))
    videos = sorted(p.name for p in (docs.ROOT / "mockserver" / "media" / "files").glob("*.mp4"))
    assert (found["specs"], found["videos"], found["redis"]) == (specs, videos, True)
    assert (found["importable"], found["programs"], found["left"]) == ([], [], [])
    assert found["prefix"] == "/opt/venv"


def test_the_fake_adds_a_small_layer_to_its_base(image: str) -> None:
    sizes = [int(docker("image", "inspect", "--format", "{{.Size}}", name)) for name in (image, BASE)]
    assert sizes[0] - sizes[1] < 90 * 1024 * 1024  # today about 61 MB: the virtualenv
