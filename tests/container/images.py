"""The images the container tests run, each built once and kept in the docker daemon:

- a base: a minimal Debian root with Python from mmdebstrap, imported (base images cannot be
  pulled here), which stands for `python:3.12-slim` as BASE_IMAGE;
- a Redis for the compose file, made the same way;
- the fake's image, built by the Dockerfile from a copy of the project with a wheelhouse
  (`pip wheel`, as docs/container.md says), so the build needs no index. Its tag names a
  digest of what the build reads, so a changed source builds a new image and an unchanged
  one is reused, by every test session and every xdist worker (a file lock orders them).

Test helpers: no test here.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from tests.container import docs
from tests.container.docker import docker, exists
from tests.container.docs import IMAGE

ROOT = Path(__file__).resolve().parents[2]
CACHE = Path(tempfile.gettempdir()) / "videogen-mock-container"
BASE = "videogen-mock-base:bookworm"
REDIS = "videogen-mock-redis:bookworm"
BUILD_TIMEOUT = 600
# A slim root: no documentation, manual pages or translations, as python:*-slim leaves out.
SLIM = [f"--dpkgopt=path-exclude=/usr/share/{d}/*" for d in ("doc", "man", "locale", "info")]
ROOTS = {
    BASE: (["--include=python3,python3-venv,ca-certificates"], []),
    REDIS: (["--include=redis-server"], ["--change", 'ENTRYPOINT ["redis-server"]']),
}
MISSING_WHEEL = re.compile(r"No matching distribution found for ([^;\s]+)")
# The build stage the classic builder leaves behind, untagged (the Dockerfile labels it).
BUILD_STAGE = "label=org.videogen-mock.stage=build"


class CannotBuild(Exception):
    """A tool the images need is missing: the reason says how to install it."""


@contextlib.contextmanager
def _locked() -> Iterator[None]:
    CACHE.mkdir(parents=True, exist_ok=True)
    with (CACHE / "build.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def debian_root(tag: str) -> str:
    """`tag`, made by mmdebstrap and `docker import` unless the daemon has it already."""
    with _locked():
        if exists(tag):
            return tag
        if shutil.which("mmdebstrap") is None:
            raise CannotBuild("mmdebstrap not found; install it as root: apt-get install -y mmdebstrap")
        includes, changes = ROOTS[tag]
        with tempfile.TemporaryDirectory(dir=CACHE) as scratch:
            archive = Path(scratch) / "root.tar"
            command = ["mmdebstrap", "--quiet", "--variant=minbase", *SLIM, *includes, "bookworm"]
            subprocess.run([*command, str(archive)], check=True, capture_output=True, timeout=BUILD_TIMEOUT)
            docker("import", *changes, str(archive), tag, timeout=BUILD_TIMEOUT)
        return tag


def mock_image() -> str:
    """The fake's image from this checkout: `videogen-mock:test-<digest>`."""
    base = debian_root(BASE)
    with _locked():
        tag = f"{IMAGE}:test-{_digest(base)}"
        if exists(tag):
            return tag
        with tempfile.TemporaryDirectory(dir=CACHE) as scratch:
            context = _context(Path(scratch) / "context")
            _wheelhouse(context, base)
            build = _documented("docker build", tag, "--network", "host", "--build-arg", f"BASE_IMAGE={base}")
            docker(*build[1:], timeout=BUILD_TIMEOUT, cwd=context)
        _forget_older(tag)
        return tag


def _documented(prefix: str, tag: str, *more: str) -> list[str]:
    """docs/container.md's first command starting with `prefix`, its image tag replaced by
    `tag` and `more` added before its last argument."""
    words = shlex.split(docs.first_command(prefix))
    words = [tag if word == IMAGE else word for word in words]
    return [*words[:-1], *more, words[-1]]


def _digest(base: str) -> str:
    """What the build reads: the files .dockerignore lets in, and the base image's id."""
    found = hashlib.sha256(docker("image", "inspect", "--format", "{{.Id}}", base).encode())
    for path in sorted(_build_inputs()):
        found.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes())
    return found.hexdigest()[:12]


def _build_inputs() -> Iterator[Path]:
    yield ROOT / "Dockerfile"
    yield ROOT / ".dockerignore"
    for name in docs.dockerignore_allowed():
        top = ROOT / name.rstrip("/")
        candidates = top.rglob("*") if top.is_dir() else [top]
        yield from (
            p for p in candidates if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"
        )


def _context(target: Path) -> Path:
    """A copy of the checkout, for .dockerignore to choose from as it would in the checkout
    (only the bulky folders of a working copy are left out here)."""
    heavy = shutil.ignore_patterns(".git", ".venv*", "__pycache__", "*_cache", "wheels", "node_modules")
    shutil.copytree(ROOT, target, ignore=heavy, symlinks=True)
    return target


def _wheelhouse(context: Path, base: str) -> None:
    """docs/container.md's `pip wheel` line, run in the context; then what the base image's own
    Python needs beyond what this one chose (markers: Debian 12's Python 3.11.2 needs
    async-timeout for redis, which 3.11.3 and later do not), fetched for the base's version."""
    words = shlex.split(docs.first_command("pip wheel"))
    pip = [sys.executable, "-m", "pip", "wheel", "--quiet", *words[2:]]
    subprocess.run(pip, cwd=context, check=True, capture_output=True, timeout=BUILD_TIMEOUT)
    wheels = context / "wheels"
    version = docker("run", "--rm", "--network", "none", "--entrypoint", "python3", base, "-c",
                     "import sys; print('%d.%d' % sys.version_info[:2])").strip()  # fmt: skip
    for _ in range(5):
        missing = _missing_for(base, wheels)
        if not missing:
            return
        fetch = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:"]
        fetch += ["--python-version", version, "--dest", str(wheels), *missing]
        subprocess.run(fetch, check=True, capture_output=True, timeout=BUILD_TIMEOUT)
    raise RuntimeError(f"the wheelhouse still misses {missing} for {base}")


def _missing_for(base: str, wheels: Path) -> list[str]:
    """The requirements the base image's pip cannot find in `wheels` (a dry run, no network)."""
    script = (
        "python3 -m venv /tmp/venv && /tmp/venv/bin/pip install --dry-run --quiet --no-index "
        "--find-links /wheels 'videogen-mock[redis]'"
    )
    mount = f"{wheels}:/wheels:ro"
    done = subprocess.run(
        ["docker", "run", "--rm", "--network", "none", "-v", mount, "--entrypoint", "sh", base, "-c", script],
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT,
        check=False,
    )
    return MISSING_WHEEL.findall(done.stderr)


def _forget_older(tag: str) -> None:
    """Other test builds of the image, and build stages left untagged."""
    listed = docker("images", "--format", "{{.Repository}}:{{.Tag}}", IMAGE).split()
    for old in (t for t in listed if t.startswith(f"{IMAGE}:test-") and t != tag):
        docker("rmi", old, check=False, timeout=120)
    docker("image", "prune", "--force", "--filter", BUILD_STAGE, timeout=120, check=False)
