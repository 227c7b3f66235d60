"""deploy/ is checked as far as a tool can: YAML parses, every command and setting it names exists."""

from __future__ import annotations

import dataclasses
import re
import shlex
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import pytest
import yaml

from hookline.cli import main
from hookline.config import _SECTIONS, env_name
from hookline.ingress.app import API

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
K8S = DEPLOY / "k8s"


def known_env_names() -> set[str]:
    names = {"HOOKLINE_DATABASE_URL", "HOOKLINE_HANDLERS", "HOOKLINE_CONFIG"}
    for section, cls in _SECTIONS.items():
        names |= {env_name(section, f.name) for f in dataclasses.fields(cls)}
    for command in _commands(main):
        for param in command.params:
            envvar = getattr(param, "envvar", None)
            if isinstance(envvar, str):
                names.add(envvar)
    return names


def _commands(group: click.Group) -> Iterator[click.Command]:
    for command in group.commands.values():
        yield command
        if isinstance(command, click.Group):
            yield from _commands(command)


def assert_cli_accepts(args: list[str]) -> None:
    """The arguments parse as a real `hookline` command line (nothing runs)."""
    command: click.Command = main
    rest = list(args)
    while isinstance(command, click.Group):
        assert rest, f"{args} stops at a command group"
        name, *rest = rest
        found = command.commands.get(name)
        assert found is not None, f"no command {name!r} in {args}"
        command = found
    command.make_context(command.name or "hookline", rest)


def k8s_documents() -> list[dict[str, Any]]:
    return [
        doc for path in sorted(K8S.glob("*.yaml")) for doc in yaml.safe_load_all(path.read_text())
    ]


def containers(doc: dict[str, Any]) -> list[dict[str, Any]]:
    spec = doc["spec"]
    template = spec["template"] if "template" in spec else spec["jobTemplate"]["spec"]["template"]
    found: list[dict[str, Any]] = template["spec"]["containers"]
    return found


def env_names_in(text: str) -> set[str]:
    return set(re.findall(r"\bHOOKLINE_[A-Z0-9_]+", text))


@pytest.mark.parametrize(
    "path",
    [
        pytest.param(p, id=p.relative_to(DEPLOY).as_posix())
        for p in sorted(DEPLOY.rglob("*"))
        if p.is_file()
    ],
)
def test_every_setting_named_exists(path: Path) -> None:
    """Every HOOKLINE_* variable a deploy file sets is a setting hookline reads."""
    unknown = env_names_in(path.read_text()) - known_env_names()
    assert not unknown, f"{path.name} names unknown settings {sorted(unknown)}"


def test_dockerfile_is_multi_stage_non_root_with_healthcheck() -> None:
    """The image builds in two stages, runs as a non-root user, and checks /healthz."""
    text = (DEPLOY / "Dockerfile").read_text()
    assert len(re.findall(r"^FROM ", text, flags=re.M)) >= 2
    user = re.findall(r"^USER (\S+)", text, flags=re.M)
    assert user
    assert not user[-1].startswith(("root", "0"))
    assert "HEALTHCHECK" in text
    assert "/healthz" in text
    assert re.search(r'^ENTRYPOINT \["hookline"\]', text, flags=re.M)
    cmd = re.search(r"^CMD (\[.*\])", text, flags=re.M)
    assert cmd is not None
    assert_cli_accepts(yaml.safe_load(cmd.group(1)))


def test_compose_runs_the_documented_topology() -> None:
    """compose.yaml: postgres, a migrate job, two APIs, two workers, a receiver; commands parse."""
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    services = compose["services"]
    assert {"postgres", "migrate", "api-1", "api-2", "worker", "receiver"} <= set(services)
    assert services["worker"]["deploy"]["replicas"] == 2
    assert services["migrate"]["command"] == ["migrate"]
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    for name in ("api-1", "api-2", "worker"):
        service = services[name]
        assert service["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        assert_cli_accepts(service["command"])
        assert service["environment"]["HOOKLINE_DATABASE_URL"].startswith("postgresql+asyncpg://")
    assert (DEPLOY / "receiver" / "receiver.py").is_file()


def test_compose_load_balancer_sends_to_every_api() -> None:
    """nginx's upstream lists exactly the compose API services, on the port each listens on."""
    services = yaml.safe_load((DEPLOY / "compose.yaml").read_text())["services"]
    lb = services["lb"]
    [mount] = lb["volumes"]
    source, target = mount.split(":")[:2]
    assert target == "/etc/nginx/nginx.conf"
    conf = (DEPLOY / source).read_text()
    upstream = set(re.findall(r"^\s*server (\S+):(\d+)", conf, flags=re.M))
    apis = {
        (name, service["command"][service["command"].index("--port") + 1])
        for name, service in services.items()
        if service.get("command", [None])[0] == "api"
    }
    assert upstream == apis
    [listen] = re.findall(r"^\s*listen (\d+);", conf, flags=re.M)
    assert lb["ports"] == [f"{listen}:{listen}"]


def test_kubernetes_manifests_are_consistent() -> None:
    """Every manifest parses; probes hit real endpoints on declared ports; args parse."""
    docs = k8s_documents()
    kinds = {(d["kind"], d["metadata"]["name"]) for d in docs}
    assert {
        ("Deployment", "hookline-api"),
        ("Deployment", "hookline-worker"),
        ("Job", "hookline-migrate"),
        ("Service", "hookline"),
        ("ConfigMap", "hookline"),
        ("Secret", "hookline"),
    } <= kinds
    health_paths = {"/healthz", "/readyz"}
    for doc in docs:
        if doc["kind"] not in ("Deployment", "Job"):
            continue
        for container in containers(doc):
            assert_cli_accepts(container["args"])
            ports = {p["name"]: p["containerPort"] for p in container.get("ports", [])}
            for probe in ("readinessProbe", "livenessProbe"):
                if doc["kind"] == "Deployment":
                    get = container[probe]["httpGet"]
                    assert get["path"] in health_paths
                    assert get["port"] in ports
            if doc["kind"] == "Deployment":
                args = container["args"]
                flag = "--port" if args[0] == "api" else "--health-port"
                assert int(args[args.index(flag) + 1]) in ports.values()
                assert doc["spec"]["template"]["spec"]["securityContext"]["runAsNonRoot"] is True
    service = next(d for d in docs if d["kind"] == "Service")
    api = next(d for d in docs if d["metadata"]["name"] == "hookline-api")
    assert (
        service["spec"]["selector"].items() <= api["spec"]["template"]["metadata"]["labels"].items()
    )
    assert {route.path for route in API} >= {"/v1/task/{key}", "/v1/tasks"}


def test_grace_periods_outlast_the_drain() -> None:
    """Kubernetes waits longer than a pod's preStop pause plus its drain deadline before killing it."""
    docs = k8s_documents()
    config = next(d for d in docs if d["kind"] == "ConfigMap")
    drain_s = float(config["data"]["HOOKLINE_DISPATCHER_DRAIN_S"])
    for name in ("hookline-api", "hookline-worker"):
        deployment = next(
            d for d in docs if d["kind"] == "Deployment" and d["metadata"]["name"] == name
        )
        pod = deployment["spec"]["template"]["spec"]
        [container] = pod["containers"]
        pause_s = 0.0
        if "lifecycle" in container:
            command = container["lifecycle"]["preStop"]["exec"]["command"]
            assert command[0] == "sleep"
            pause_s = float(command[1])
        assert pod["terminationGracePeriodSeconds"] > pause_s + drain_s, name


def test_disruption_budgets_select_real_pods() -> None:
    """Each PodDisruptionBudget selects the pods of a Deployment."""
    docs = k8s_documents()
    budgets = [d for d in docs if d["kind"] == "PodDisruptionBudget"]
    assert {b["metadata"]["name"] for b in budgets} == {"hookline-api", "hookline-worker"}
    for budget in budgets:
        deployment = next(
            d
            for d in docs
            if d["kind"] == "Deployment" and d["metadata"]["name"] == budget["metadata"]["name"]
        )
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert budget["spec"]["selector"]["matchLabels"].items() <= labels.items()


@pytest.mark.parametrize(
    "unit",
    [pytest.param(p, id=p.name) for p in sorted((DEPLOY / "systemd").glob("*.service"))],
)
def test_systemd_units_run_real_commands(unit: Path) -> None:
    """Each unit's ExecStart is a hookline command line that parses (instance %i filled in)."""
    exec_start = re.search(r"^ExecStart=(.+)$", unit.read_text(), flags=re.M)
    assert exec_start is not None
    argv = shlex.split(exec_start.group(1).replace("%i", "1"))
    assert argv[0].endswith("/hookline")
    assert_cli_accepts(argv[1:])
    assert re.search(r"^User=hookline$", unit.read_text(), flags=re.M)


def test_example_receiver_verifies_hookline_signatures() -> None:
    """The example receiver accepts what hookline signs and rejects a tampered body."""
    import importlib.util
    from datetime import UTC, datetime

    from standardwebhooks import WebhookVerificationError

    from hookline.signing import new_secret, webhook_headers

    spec = importlib.util.spec_from_file_location("receiver", DEPLOY / "receiver" / "receiver.py")
    assert spec is not None
    assert spec.loader is not None
    receiver = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(receiver)
    secret = new_secret(lambda n: bytes(range(n)))
    body = b'{"task_id": "abc", "status": "completed"}'
    headers = webhook_headers([secret], msg_id="msg_1", timestamp=datetime.now(UTC), body=body)
    assert receiver.verify(secret, body, headers)["task_id"] == "abc"
    with pytest.raises(WebhookVerificationError):
        receiver.verify(secret, body.replace(b"abc", b"xyz"), headers)
