"""The images the container tests run, built once (see tests/container/images.py); every test
that needs one skips, naming the install command, where docker cannot run."""

from __future__ import annotations

import pytest

from tests.container import docker, images


@pytest.fixture(scope="session")
def docker_ready() -> None:
    reason = docker.unavailable()
    if reason is not None:
        pytest.skip(reason)


@pytest.fixture(scope="session")
def image(docker_ready: None) -> str:
    """The fake's image, built from this checkout by the Dockerfile with no package index."""
    try:
        return images.mock_image()
    except images.CannotBuild as missing:
        pytest.skip(str(missing))


@pytest.fixture(scope="session")
def redis_image(docker_ready: None) -> str:
    """A Redis image for compose.yaml (the tests cannot pull redis:7.2-alpine)."""
    try:
        return images.debian_root(images.REDIS)
    except images.CannotBuild as missing:
        pytest.skip(str(missing))


@pytest.fixture(scope="session")
def index_image(docker_ready: None) -> str:
    """The fake's image built the default way, from a package index (one on loopback)."""
    try:
        return images.index_image()
    except images.CannotBuild as missing:
        pytest.skip(str(missing))
