"""deploy/k8s: the kustomize base and the production overlay build with `kubectl kustomize`
and validate against the Kubernetes schemas; every Deployment has its probes and resources,
runs unprivileged and takes its secrets by reference only; every service has its disruption
budget, the snapshotter is one pod with no master key."""

import copy
from typing import Any

import pytest
import yaml

from aigw.common.identity import SNAPSHOTTER
from aigw.devtools import nats_auth
from tests.support.deploy import (
    AIGW_SERVICES,
    K8S,
    KUSTOMIZATIONS,
    PORTS,
    SECRET_NAME,
    kustomize,
    of_kind,
    schema_errors,
    selects,
)

PROCESSES = (*AIGW_SERVICES, SNAPSHOTTER)
SECRETS_DIR = "/run/secrets/aigw/"
DATABASE_SERVICES = ("publisher", "devportal", "keymanager")


@pytest.fixture(scope="module", params=KUSTOMIZATIONS, ids=lambda p: p.name)
def manifests(request) -> list[dict[str, Any]]:
    return kustomize(request.param)


def _pod(deployment: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = deployment["spec"]["template"]["spec"]
    return spec


def _mounted_secrets(pod: dict[str, Any]) -> set[str]:
    names = set()
    for volume in pod.get("volumes", []):
        if "secret" in volume:
            names.add(volume["secret"]["secretName"])
        for source in volume.get("projected", {}).get("sources", []):
            if "secret" in source:
                names.add(source["secret"]["name"])
    return names


def test_every_manifest_validates_against_the_kubernetes_schemas(manifests) -> None:
    errors = [e for e in map(schema_errors, manifests) if e]
    assert not errors, "\n".join(errors)


def test_a_broken_manifest_is_refused(manifests) -> None:
    deployment = copy.deepcopy(of_kind(manifests, "Deployment")["gateway"])
    _pod(deployment)["containers"][0]["readinessProbes"] = {}  # a typo: an unknown field
    assert schema_errors(deployment) is not None


def test_the_four_services_and_the_snapshotter_each_have_a_deployment_and_a_service(
    manifests,
) -> None:
    deployments, services = of_kind(manifests, "Deployment"), of_kind(manifests, "Service")
    assert set(deployments) == set(PROCESSES)
    for name in PROCESSES:
        container = _pod(deployments[name])["containers"][0]
        assert container["args"] == [name]
        assert container["ports"] == [{"name": "http", "containerPort": PORTS[name]}]
        assert services[name]["spec"]["ports"][0]["port"] == PORTS[name]
        assert selects(
            {"matchLabels": services[name]["spec"]["selector"]},
            deployments[name]["spec"]["template"]["metadata"]["labels"],
        )


def test_every_deployment_has_probes_on_its_health_paths(manifests) -> None:
    for name, deployment in of_kind(manifests, "Deployment").items():
        container = _pod(deployment)["containers"][0]
        assert container["readinessProbe"]["httpGet"]["path"] == "/health/ready", name
        assert container["livenessProbe"]["httpGet"]["path"] == "/health/live", name
        assert container["startupProbe"]["httpGet"]["path"] == "/health/live", name


def test_every_deployment_requests_resources_and_limits_memory(manifests) -> None:
    for name, deployment in of_kind(manifests, "Deployment").items():
        resources = _pod(deployment)["containers"][0]["resources"]
        assert {"cpu", "memory"} <= set(resources["requests"]), name
        assert "memory" in resources["limits"], name


def test_every_service_has_a_disruption_budget(manifests) -> None:
    budgets = of_kind(manifests, "PodDisruptionBudget").values()
    for name in AIGW_SERVICES:
        deployment = of_kind(manifests, "Deployment")[name]
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        covering = [b for b in budgets if selects(b["spec"]["selector"], labels)]
        assert len(covering) == 1, name
        assert deployment["spec"]["replicas"] >= 2, f"{name}: a budget needs two replicas"
        assert deployment["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0, name


def test_one_snapshotter_never_two_and_no_budget_to_hold_up_a_drain(manifests) -> None:
    deployment = of_kind(manifests, "Deployment")[SNAPSHOTTER]
    assert deployment["spec"]["replicas"] == 1
    assert deployment["spec"]["strategy"] == {"type": "Recreate"}  # no second during a rollout
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    budgets = of_kind(manifests, "PodDisruptionBudget").values()
    assert not [b for b in budgets if selects(b["spec"]["selector"], labels)]
    autoscalers = of_kind(manifests, "HorizontalPodAutoscaler").values()
    assert all(h["spec"]["scaleTargetRef"]["name"] != SNAPSHOTTER for h in autoscalers)


def _environment(pod: dict[str, Any], config_maps: dict[str, dict[str, Any]]) -> dict[str, str]:
    """The container's variables as the kubelet sets them (a missing key: KeyError)."""
    container = pod["containers"][0]
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        env |= config_maps[source["configMapRef"]["name"]]["data"]
    for variable in container.get("env", []):
        if "value" in variable:
            env[variable["name"]] = variable["value"]
        elif ref := variable.get("valueFrom", {}).get("configMapKeyRef"):
            env[variable["name"]] = config_maps[ref["name"]]["data"][ref["key"]]
    return env


def _mounted_files(pod: dict[str, Any]) -> set[str]:
    (mount,) = [m for m in pod["containers"][0]["volumeMounts"] if m["name"] == "secrets"]
    assert mount["mountPath"] + "/" == SECRETS_DIR
    (volume,) = [v for v in pod["volumes"] if v["name"] == "secrets"]
    sources = volume["projected"]["sources"]
    return {SECRETS_DIR + item["path"] for s in sources for item in s["secret"]["items"]}


def test_every_file_a_pod_is_told_to_read_is_mounted(manifests) -> None:
    """The entrypoint refuses to start on a `<NAME>_FILE` it cannot read: the snapshotter,
    which mounts no master key, must not be given the shared config's AIGW_SECRET_KEY_FILE."""
    config_maps = of_kind(manifests, "ConfigMap")  # by the hashed names the pods refer to
    for name, deployment in of_kind(manifests, "Deployment").items():
        pod = _pod(deployment)
        env = _environment(pod, config_maps)
        told = {v for k, v in env.items() if k.endswith("_FILE") and v.startswith(SECRETS_DIR)}
        assert told <= _mounted_files(pod), f"{name}: {told - _mounted_files(pod)} not mounted"
        assert {"NATS_URL", "NATS_SEED_FILE", "AIGW_TRUST_FILE"} <= set(env), name
    snapshotter = _environment(_pod(of_kind(manifests, "Deployment")[SNAPSHOTTER]), config_maps)
    assert not {"AIGW_SECRET_KEY_FILE", "MONGODB_URL_FILE"} & set(snapshotter)


def test_the_gateway_scales_on_cpu(manifests) -> None:
    (hpa,) = of_kind(manifests, "HorizontalPodAutoscaler").values()
    assert hpa["spec"]["scaleTargetRef"]["name"] == "gateway"
    assert hpa["spec"]["minReplicas"] >= 2
    (metric,) = hpa["spec"]["metrics"]
    assert metric["resource"]["name"] == "cpu"


def test_every_pod_runs_unprivileged_on_a_read_only_root(manifests) -> None:
    pods = [_pod(d) for d in of_kind(manifests, "Deployment").values()]
    pods += [j["spec"]["template"]["spec"] for j in of_kind(manifests, "Job").values()]
    for pod in pods:
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["automountServiceAccountToken"] is False
        for container in pod["containers"]:
            context = container["securityContext"]
            assert context["readOnlyRootFilesystem"] is True
            assert context["allowPrivilegeEscalation"] is False
            assert context["capabilities"]["drop"] == ["ALL"]


def test_secrets_are_referenced_never_included(manifests) -> None:
    assert not of_kind(manifests, "Secret"), "a Secret's data in the manifests"
    for name, deployment in of_kind(manifests, "Deployment").items():
        for variable in _pod(deployment)["containers"][0].get("env", []):
            if SECRET_NAME.search(variable["name"]):
                assert variable["name"].endswith("_FILE"), f"{name}: {variable['name']}"
    for config_map in of_kind(manifests, "ConfigMap").values():
        for variable in config_map["data"]:
            assert not SECRET_NAME.search(variable) or variable.endswith("_FILE"), variable


def test_each_pod_mounts_only_its_own_secrets(manifests) -> None:
    database = {"aigw-mongodb-admin-aigw"}
    for name, deployment in of_kind(manifests, "Deployment").items():
        expected = {f"aigw-nats-{name}", "aigw-nats-trust"}
        if name != SNAPSHOTTER:  # it folds sealed provider keys, never opens one
            expected.add("aigw-master-key")
        if name in DATABASE_SERVICES:
            expected |= database
        if name == "keymanager":
            expected.add("aigw-admin-password")
        assert _mounted_secrets(_pod(deployment)) == expected, name
    (job,) = of_kind(manifests, "Job").values()
    assert _mounted_secrets(job["spec"]["template"]["spec"]) == {"aigw-nats-provisioner"}


def test_the_services_reach_the_three_nats_nodes_of_the_chart(manifests) -> None:
    (config_map,) = of_kind(manifests, "ConfigMap").values()
    servers = config_map["data"]["NATS_URL"].split(",")
    assert servers == [f"nats://nats-{i}.nats-headless:4222" for i in range(3)]
    assert config_map["data"]["AIGW_STREAM_REPLICAS"] == "3"


def test_the_nats_chart_values_make_a_jetstream_cluster_with_aigw_auth() -> None:
    values = yaml.safe_load((K8S / "nats" / "values.yaml").read_text())
    assert values["config"]["cluster"] == {"enabled": True, "replicas": 3}
    assert values["config"]["jetstream"]["enabled"] is True
    include = values["config"]["merge"]["$include"]
    assert include.endswith("/" + nats_auth.SERVER_CONFIG)
    (mount,) = [p["value"] for p in values["container"]["patch"]]
    assert f"/etc/nats-config/{include}".startswith(mount["mountPath"] + "/")
    assert values["natsBox"]["enabled"] is False


def test_the_mongodb_replica_set_makes_the_secret_the_services_mount() -> None:
    resource = yaml.safe_load((K8S / "mongodb" / "replica-set.yaml").read_text())
    assert resource["spec"]["members"] == 3
    (user,) = resource["spec"]["users"]
    databases = {role["db"] for role in user["roles"]}
    assert databases == {f"aigw_{s}" for s in ("publisher", "devportal", "keymanager")}
    assert {role["name"] for role in user["roles"]} == {"readWrite"}
    # the operator names the connection string's Secret <resource>-<auth db>-<user>
    made = f"{resource['metadata']['name']}-{user['db']}-{user['name']}"
    assert made == "aigw-mongodb-admin-aigw"
