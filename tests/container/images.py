"""The images the container tests run, each built once and kept in the docker daemon:

- a base: a minimal Debian root with Python from mmdebstrap, imported (base images cannot be
  pulled here), which stands for `python:3.12-slim` as BASE_IMAGE;
- a Redis for the compose file, made the same way;
- the fake's image, built by the Dockerfile from a copy of the project with a wheelhouse
  (`pip wheel`, as docs/container.md says), so the build needs no index; and once more from
  a package index (those wheels, served on loopback), as users build it.
Their tags name a digest of what the build reads, so a changed source builds new images and
an unchanged one is reused, by every test session and every xdist worker (a file lock orders
them).

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
import tomllib
from collections.abc import Iterator
from pathlib import Path

from tests.container import docs, index
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
    """The fake's image from this checkout and a wheelhouse: `videogen-mock:test-<digest>`."""
    base = debian_root(BASE)
    with _locked():
        tag = f"{IMAGE}:test-{_digest(base)}"
        if not exists(tag):
            with tempfile.TemporaryDirectory(dir=CACHE) as scratch:
                context = _context(Path(scratch) / "context")
                shutil.copytree(_wheelhouse(base), context / "wheels")
                _build(context, tag, f"BASE_IMAGE={base}")
        return tag


def index_image() -> str:
    """The fake's image built as most users build it, from a package index with no wheels/:
    the index is the wheelhouse's packages less the fake (built from the sources) plus the
    build backend, served on loopback. `videogen-mock:test-index-<digest>`."""
    base = debian_root(BASE)
    with _locked():
        tag = f"{IMAGE}:test-index-{_digest(base)}"
        if not exists(tag):
            with tempfile.TemporaryDirectory(dir=CACHE) as scratch:
                context = _context(Path(scratch) / "context")
                packages = shutil.copytree(_wheelhouse(base), Path(scratch) / "packages")
                for built in packages.glob("videogen_mock-*.whl"):
                    built.unlink()
                _fetch_for(base, packages, _build_requirements())
                with index.serving(packages) as url:
                    _build(context, tag, f"BASE_IMAGE={base}", f"PIP_INDEX_URL={url}")
        return tag


def _build(context: Path, tag: str, *arguments: str) -> None:
    """docs/container.md's `docker build` line, with build arguments, on the host's network."""
    options = [part for argument in arguments for part in ("--build-arg", argument)]
    build = _documented("docker build", tag, "--network", "host", *options)
    docker(*build[1:], timeout=BUILD_TIMEOUT, cwd=context)
    _forget_older(tag)


def _build_requirements() -> list[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    requirements: list[str] = project["build-system"]["requires"]
    return requirements


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


def _wheelhouse(base: str) -> Path:
    """The wheelhouse of this checkout for `base`, made once per digest: docs/container.md's
    `pip wheel` line, run in a copy of the checkout; then what the base image's own Python needs
    beyond what this one chose (compiled wheels, when the tests run on another Python version;
    markers: Debian 12's Python 3.11.2 needs async-timeout for redis, which 3.11.3 and later do
    not), fetched for the base's version."""
    digest = _digest(base)
    wheels = CACHE / f"wheels-{digest}"
    if wheels.is_dir():
        return wheels
    for older in CACHE.glob("wheels-*"):
        shutil.rmtree(older)
    with tempfile.TemporaryDirectory(dir=CACHE) as scratch:
        context = _context(Path(scratch) / "context")
        words = shlex.split(docs.first_command("pip wheel"))
        pip = [sys.executable, "-m", "pip", "wheel", "--quiet", *words[2:]]
        subprocess.run(pip, cwd=context, check=True, capture_output=True, timeout=BUILD_TIMEOUT)
        # pip names one missing requirement per dry run: one round each (a test interpreter
        # other than the base's Python misses every compiled wheel), until one comes back.
        fetched: set[str] = set()
        while missing := _missing_for(base, context / "wheels"):
            if fetched.issuperset(missing):
                raise RuntimeError(f"the wheelhouse still misses {missing} for {base}")
            fetched.update(missing)
            _fetch_for(base, context / "wheels", missing, deps=False)
        shutil.move(context / "wheels", wheels)
        return wheels


def _fetch_for(base: str, wheels: Path, requirements: list[str], deps: bool = True) -> None:
    """`pip download` of binary wheels for the base image's Python version into `wheels`."""
    version = docker("run", "--rm", "--network", "none", "--entrypoint", "python3", base, "-c",
                     "import sys; print('%d.%d' % sys.version_info[:2])").strip()  # fmt: skip
    fetch = [sys.executable, "-m", "pip", "download", "--quiet", "--only-binary=:all:"]
    fetch += [] if deps else ["--no-deps"]
    fetch += ["--python-version", version, "--dest", str(wheels), *requirements]
    subprocess.run(fetch, check=True, capture_output=True, timeout=BUILD_TIMEOUT)


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
    """Older test builds of the same kind (`test-` or `test-index-` and a digest), and build
    stages left untagged."""
    kind = tag.rsplit("-", 1)[0]
    listed = docker("images", "--format", "{{.Repository}}:{{.Tag}}", IMAGE).split()
    for old in (t for t in listed if t.rsplit("-", 1)[0] == kind and t != tag):
        docker("rmi", old, check=False, timeout=120)
    docker("image", "prune", "--force", "--filter", BUILD_STAGE, timeout=120, check=False)
