"""Every shell and Python example in README.md and in each docs/*.md page runs, against live
fakes, as a reader would run it: shell blocks with bash (`set -euo pipefail`, and curl failing on
any HTTP error status), Python blocks as scripts in a fresh interpreter, pytest examples with
pytest. What a reader fills in is filled in by tests/readme.py; the blocks that cannot run here
are listed below; the set-up commands are checked against CI's.

Two fakes serve the examples, started with the `mockserver` command: one on a manual clock (so
a task made for `<id>` is still running when the next line completes, fails or cancels it), and
one whose tasks finish at once (so the client examples, which poll in real time, end quickly).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests import readme

EXAMPLES = readme.all_examples()
# Every block that cannot run here, by page, with the reason its page gives (keep this short).
NOT_RUN: list[tuple[str, str]] = [
    ("docs/container.md", "needs a docker daemon (tests/container runs it)"),
    ("docs/container.md", "needs a docker daemon (tests/container runs it)"),
    ("docs/container.md", "needs a docker daemon (tests/container runs it)"),
    ("docs/container.md", "needs a docker daemon (tests/container runs it)"),
    ("docs/container.md", "needs a docker daemon (tests/container runs it)"),
    ("docs/container.md", "needs a docker daemon (tests/container runs it)"),
    ("docs/container.md", "needs a docker daemon (tests/container runs it)"),
    ("docs/container.md", "needs a docker daemon (tests/container runs it)"),
    ("docs/container.md", "needs a docker daemon (tests/container runs it)"),
    ("docs/kubernetes.md", "needs a Kubernetes cluster (tests/container checks the manifest)"),
]
RUN_TIMEOUT = 90  # seconds for one example
START_TIMEOUT = 30
READY = "mockserver: ready on "
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64  # enough of a JPEG for the client's and the fake's checks
EVOLINK_BODY = (
    '{"model": "kling-o1-image-to-video", "prompt": "x", "image_urls": ["https://example.com/a.jpg"]}'
)
# Shell functions the placeholders call (tests/readme.py), against $FAKE, with the curlrc below.
PRELUDE = f"""
set -euo pipefail
trap 'kill $(jobs -p) 2>/dev/null || true; wait' EXIT
field() {{ "$PYTHON" -c "import json, sys; print(json.load(sys.stdin)$1)"; }}
new_evolink_task() {{
  command curl -s "$FAKE/v1/videos/generations" -H 'Authorization: Bearer mock-key' -d '{EVOLINK_BODY}' \\
    -H 'Content-Type: application/json' | field '["id"]'
}}
result_token() {{
  command curl -s -X POST "$FAKE/__mock/tasks/$(new_evolink_task)/complete" \\
    | field '["result_url"].rsplit("/", 1)[1].removesuffix(".mp4")'
}}
delivery_id() {{
  local id
  id=$(command curl -s "$FAKE/v1/videos/generations" -H 'Authorization: Bearer mock-key' \\
    -H 'Content-Type: application/json' \\
    -d '{EVOLINK_BODY[:-1]}, "callback_url": "http://127.0.0.1:9/hook"}}' | field '["id"]')
  command curl -s -X POST "$FAKE/__mock/tasks/$id/complete" > /dev/null
  command curl -s "$FAKE/__mock/callbacks" | field '["callbacks"][-1]["id"]'
}}
"""
# curl as the examples run it: any HTTP error status fails the line (and so the example).
CURLRC = "fail\nshow-error\nmax-time = 60\n"


@contextmanager
def fake(*arguments: str, env: dict[str, str] | None = None) -> Iterator[str]:
    """The `mockserver` command on a free loopback port; its base URL."""
    command = [sys.executable, "-m", "mockserver", "--port", "0", *arguments]
    environment = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
    with subprocess.Popen(
        command, env=environment, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    ) as proc:
        try:
            assert proc.stdout is not None
            while not (line := proc.stdout.readline()).startswith(READY):
                assert line, "the fake ended before it was ready"
            yield line.removeprefix(READY).split()[0]
        finally:
            proc.terminate()
            proc.wait(10)


@pytest.fixture(scope="module")
def manual_fake() -> Iterator[str]:
    with fake("--clock", "manual", "--allow-callback-host", "127.0.0.1") as base:
        yield base


@pytest.fixture(scope="module")
def instant_fake() -> Iterator[str]:
    with fake(env={"MOCKSERVER_QUEUE_SECONDS": "0", "MOCKSERVER_RUN_SECONDS": "0"}) as base:
        yield base


def new_generation(base: str) -> str:
    body = {
        "model": "klingai/video-o1-image-to-video",
        "prompt": "x",
        "image_url": "https://example.com/a.jpg",
    }
    created = httpx.post(
        f"{base}/v2/video/generations", json=body, headers={"Authorization": "Bearer mock-key"}
    )
    created.raise_for_status()
    return str(created.json()["id"])


def run(command: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run an example in its own process group: whatever it started in the background is
    stopped with it, even on a timeout."""
    with subprocess.Popen(
        command,
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    ) as proc:
        try:
            out, _ = proc.communicate(timeout=RUN_TIMEOUT)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            out, _ = proc.communicate()
            raise AssertionError(f"timed out after {RUN_TIMEOUT} s:\n{out}") from None
        return subprocess.CompletedProcess(command, proc.returncode, out, "")


def environment(tmp_path: Path, fake_url: str, extra: dict[str, str]) -> dict[str, str]:
    (tmp_path / ".curlrc").write_text(CURLRC)
    bin_dir = str(Path(sys.executable).parent)
    return {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
        "CURL_HOME": str(tmp_path),
        "PYTHON": sys.executable,
        "FAKE": fake_url,
        # what the real-provider example expects its reader to have set
        "EVOLINK_API_KEY": "mock-key",
        "SECOND_KEY": "contracts-other-key",
        # the README's CI recipe runs the full check in .ci/run; here a short one
        "CONTRACTS_MAX_EXAMPLES": "2",
        "CONTRACTS_STATEFUL_EXAMPLES": "1",
        **extra,
    }


@pytest.mark.slow
@pytest.mark.parametrize("example", [e for e in EXAMPLES if e.runs and not e.is_setup], ids=lambda e: e.name)
def test_the_example_runs(
    example: readme.Example, manual_fake: str, instant_fake: str, tmp_path: Path
) -> None:
    if "redis-server" in example.text and shutil.which("redis-server") is None:
        pytest.skip("needs redis-server: apt-get install redis-server")
    waits_for_tasks = (
        re.search(r"videogen |Client\(", example.text) is not None and not example.is_pytest_module
    )
    live = instant_fake if waits_for_tasks else manual_fake
    # each example meets a fresh fake, as a reader's would: no fault rule or task of another one
    httpx.post(f"{live}/__mock/reset", timeout=10).raise_for_status()
    text, extra = readme.runnable(example, live, new_generation(live))
    env = environment(tmp_path, live, extra)
    (tmp_path / "mona.jpg").write_bytes(JPEG)
    if example.lang == "sh":
        (tmp_path / "example.sh").write_text(PRELUDE + text)
        done = run(["bash", "example.sh"], tmp_path, env)
    elif example.is_pytest_module:
        (tmp_path / "test_example.py").write_text(text)
        done = run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_example.py"], tmp_path, env
        )
    else:
        (tmp_path / "example.py").write_text(text)
        done = run([sys.executable, "example.py"], tmp_path, env)
    assert done.returncode == 0, (
        f"{example.page} line {example.line} ({example.heading}):\n{text}\n---\n{done.stdout}"
    )


def test_the_blocks_that_do_not_run_are_these_and_say_why() -> None:
    assert [(e.page, e.not_run) for e in EXAMPLES if e.not_run is not None] == NOT_RUN


def test_every_block_names_a_language_that_runs_or_one_that_is_data() -> None:
    unknown = [e.name for e in EXAMPLES if e.lang not in readme.RUN | readme.DATA]
    assert unknown == [], f"name the language: {sorted(readme.RUN)} run, {sorted(readme.DATA)} do not"


@pytest.mark.parametrize("page", readme.pages(), ids=lambda p: p.relative_to(readme.ROOT).as_posix())
def test_no_block_hides_in_an_indented_fence(page: Path) -> None:
    # examples are collected from fences at the start of a line; one indented (in a list or an
    # admonition) would not run
    assert not readme.INDENTED_FENCE.search(page.read_text())


def test_every_pip_install_names_extras_the_project_defines() -> None:
    defined = set(
        tomllib.loads((readme.ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    )
    named = {
        extra
        for page in readme.pages()
        for what in readme.pip_lines(page)
        for extra in readme.extras_named(what)
    }
    assert named and named <= defined, named - defined


def test_the_readmes_test_command_is_what_ci_runs() -> None:
    [setup] = [e for e in EXAMPLES if e.is_setup]
    [test_command] = [line for line in setup.text.splitlines() if "python -m pytest" in line]
    ci = (readme.ROOT / ".ci" / "run").read_text()
    assert test_command in ci.splitlines()


@pytest.mark.slow
def test_the_readmes_run_command_serves_from_this_tree(tmp_path: Path) -> None:
    [setup] = [e for e in EXAMPLES if e.is_setup]
    [run_line] = [line for line in setup.text.splitlines() if line.startswith("pip install -e . && ")]
    command = run_line.removeprefix("pip install -e . && ")  # installed already: this test's venv
    assert command == "mockserver"
    port = readme.free_port()
    with subprocess.Popen(
        [str(Path(sys.executable).parent / command)],
        cwd=tmp_path,
        env={**os.environ, "MOCKSERVER_PORT": str(port), "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    ) as proc:
        try:
            assert proc.stdout is not None
            printed = []
            while not (line := proc.stdout.readline()).startswith(READY):
                assert line, "mockserver ended before it was ready"
                printed.append(line)
            health = httpx.get(f"http://127.0.0.1:{port}/__mock/health", timeout=5)
        finally:
            proc.terminate()
            proc.wait(10)
    banner = "".join(printed)
    assert health.json() == {"status": "ok"}
    assert "API keys           mock-key" in banner and "curl -s" in banner  # as the README says


def test_a_comment_just_before_a_fence_keeps_that_block_from_running_and_a_new_page_is_collected(
    tmp_path: Path,
) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "README.md").write_text("# R\n")
    page = tmp_path / "docs" / "new.md"
    page.write_text(
        "# New\n\n<!-- not run: needs a docker daemon -->\n```sh\ndocker ps\n```\n\n"
        "<!-- not run: this comment is not the last thing before the fence -->\nProse.\n\n"
        "```sh\necho run\n```\n\n```text\noutput\n```\n"
    )
    assert readme.pages(tmp_path) == [tmp_path / "README.md", page]
    docker, echo, output = readme.examples(page, tmp_path)
    assert (docker.name, docker.not_run, docker.runs) == (
        "docs/new.md:sh-line-4",
        "needs a docker daemon",
        False,
    )
    assert (echo.not_run, echo.runs, output.runs) == (None, True, False)
