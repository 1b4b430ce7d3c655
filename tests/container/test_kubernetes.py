"""docs/kubernetes/videogen-mock.yaml and the commands of docs/kubernetes.md agree with the
Dockerfile, the fake's settings and its control spec (read as YAML; no cluster)."""

from __future__ import annotations

import shlex
from typing import Any
from urllib.parse import urlsplit

import yaml

from mockserver.control.access import OPEN_OPERATIONS
from tests.container import docs

MANIFEST = docs.ROOT / "docs" / "kubernetes" / "videogen-mock.yaml"
PAGE = docs.ROOT / "docs" / "kubernetes.md"
FAKE, REDIS = "videogen-mock", "videogen-mock-redis"


def objects(kind: str) -> dict[str, dict[str, Any]]:
    loaded = [o for o in yaml.safe_load_all(MANIFEST.read_text()) if o]
    return {o["metadata"]["name"]: o for o in loaded if o["kind"] == kind}


def pod(name: str) -> dict[str, Any]:
    spec: dict[str, Any] = objects("Deployment")[name]["spec"]["template"]["spec"]
    return spec


def fake_container() -> dict[str, Any]:
    [container] = pod(FAKE)["containers"]
    return container


def env(container: dict[str, Any]) -> dict[str, Any]:
    return {variable["name"]: variable for variable in container.get("env", [])}


def port_number(container: dict[str, Any], port: int | str) -> int:
    """A port by number or by the name a container gives it."""
    if isinstance(port, int):
        return port
    [found] = [p["containerPort"] for p in container["ports"] if p.get("name") == port]
    return int(found)


def test_the_fake_runs_the_documented_image_on_the_port_the_dockerfile_exposes() -> None:
    container = fake_container()
    image = container["image"].rsplit(":", 1)[0].rsplit("/", 1)[-1]
    assert image == docs.IMAGE
    assert [p["containerPort"] for p in container["ports"]] == list(docs.dockerfile().expose)
    assert not {"MOCKSERVER_HOST", "MOCKSERVER_PORT"} & set(env(container))  # the image's own


def test_the_probes_ask_the_health_operation_that_needs_no_token() -> None:
    container = fake_container()
    probes = [container[kind]["httpGet"] for kind in ("readinessProbe", "livenessProbe")]
    assert {p["path"] for p in probes} == {docs.health_operation_path(), docs.dockerfile().health_path}
    assert {port_number(container, p["port"]) for p in probes} == set(docs.dockerfile().expose)
    assert "getHealth" in OPEN_OPERATIONS


def test_replicas_share_one_redis_through_its_service() -> None:
    deployment = objects("Deployment")[FAKE]
    assert deployment["spec"]["replicas"] >= 2
    store = urlsplit(env(fake_container())["MOCKSERVER_STORE"]["value"])
    [service_port] = objects("Service")[REDIS]["spec"]["ports"]
    assert (store.scheme, store.hostname, store.port) == ("redis", REDIS, service_port["port"])
    [redis] = pod(REDIS)["containers"]
    assert port_number(redis, service_port["targetPort"]) == service_port["port"]
    [wait] = pod(FAKE)["initContainers"]
    assert f"-h {store.hostname} -p {store.port} ping" in wait["command"][-1]


def test_every_variable_is_one_the_fake_reads_and_the_token_comes_from_the_secret() -> None:
    variables = env(fake_container())
    assert set(variables) <= docs.variable_names()
    reference = variables["MOCKSERVER_CONTROL_TOKEN"]["valueFrom"]["secretKeyRef"]
    create = next(c for c in docs.commands(PAGE) if c.startswith("kubectl create secret generic"))
    words = shlex.split(create)
    key, _, _ = words[words.index(reference["name"]) + 1].removeprefix("--from-literal=").partition("=")
    assert key == reference["key"]
    assert "Secret" not in {o["kind"] for o in yaml.safe_load_all(MANIFEST.read_text()) if o}


def test_each_service_selects_its_deployments_pods_and_names_their_port() -> None:
    for name, service in objects("Service").items():
        template = objects("Deployment")[name]["spec"]["template"]
        assert service["spec"]["selector"].items() <= template["metadata"]["labels"].items()
        [container] = template["spec"]["containers"]
        for port in service["spec"]["ports"]:
            assert port_number(container, port["targetPort"]) == port["port"]


def test_the_pods_run_as_the_images_user_without_root_or_a_writable_root() -> None:
    security = pod(FAKE)["securityContext"]
    assert (security["runAsNonRoot"], security["runAsUser"]) == (True, docs.dockerfile().uid)
    container = fake_container()["securityContext"]
    assert (container["readOnlyRootFilesystem"], container["allowPrivilegeEscalation"]) == (True, False)
    assert container["capabilities"]["drop"] == ["ALL"]


def test_the_pages_commands_build_push_apply_and_reach_what_the_manifest_names() -> None:
    commands = docs.commands(PAGE)
    image = fake_container()["image"]
    assert f"docker build -t {image} ." in commands and f"docker push {image}" in commands
    applied = [shlex.split(c)[-1] for c in commands if c.startswith("kubectl apply -f")]
    assert [docs.ROOT / path for path in applied] == [MANIFEST]
    forward = shlex.split(next(c for c in commands if c.startswith("kubectl port-forward")))
    service, ports = forward[-2].removeprefix("service/"), forward[-1].split(":")
    assert [p["port"] for p in objects("Service")[service]["spec"]["ports"]] == [int(ports[1])]
    assert ports[0] == "8000"  # the port every example in the docs uses
    curls = [c for c in commands if c.startswith("curl")]
    assert curls and all(c.startswith("curl -s http://127.0.0.1:8000/__mock/") for c in curls)
