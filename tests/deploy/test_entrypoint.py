"""deploy/entrypoint.sh, the images' entrypoint, run outside Docker with the image's Python
environment (deploy/docker/build-venv.sh): it picks the service by its first argument, turns
each `<NAME>_FILE` secret into `<NAME>`, and execs the service, a real process that starts
from those files and answers its health checks."""

import os
import subprocess
from pathlib import Path

import httpx
import pytest

from aigw.common.crypto import generate_master_key
from aigw.common.identity import SNAPSHOTTER
from aigw.devtools.processes import ManagedProcess, free_port
from tests.support.deploy import (
    ENTRYPOINT,
    IMAGE_PACKAGES,
    build_image_venv,
    image_pins,
    normalised,
)
from tests.support.keymanager import token_for


@pytest.fixture(scope="module")
def venv(tmp_path_factory) -> Path:
    return build_image_venv(tmp_path_factory.mktemp("image") / "venv")


@pytest.fixture(scope="module")
def path(venv: Path) -> str:
    """PATH as in the image: its venv first."""
    return f"{venv / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}"


def test_the_image_venv_holds_exactly_what_uv_lock_pins_and_aigws_wheels(venv: Path) -> None:
    listing = (
        "import importlib.metadata as m; "
        "print(' '.join(f'{d.name}=={d.version}' for d in m.distributions()))"
    )
    out = subprocess.check_output([str(venv / "bin" / "python"), "-c", listing], text=True)
    installed = {normalised(n): v for n, _, v in (line.partition("==") for line in out.split())}
    aigw = {name for name in installed if name.startswith("aigw-")}
    assert aigw == {"aigw-common", *IMAGE_PACKAGES}  # no devtools, no test helpers
    assert {n: v for n, v in installed.items() if n not in aigw} == image_pins()


def _entrypoint(path: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["sh", str(ENTRYPOINT), *args],
        env={"PATH": path, **env},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def _secret(directory: Path, name: str, value: str) -> str:
    file = directory / name
    file.write_text(value + "\n")  # as an editor or `echo` leaves it
    file.chmod(0o600)
    return str(file)


def test_an_unknown_service_is_refused(path) -> None:
    result = _entrypoint(path, "billing")
    assert result.returncode == 64
    assert "unknown service 'billing'" in result.stderr


def test_no_argument_prints_the_usage(path) -> None:
    result = _entrypoint(path)
    assert result.returncode == 64
    assert "usage: entrypoint.sh" in result.stderr


def test_a_secret_given_twice_is_refused_without_echoing_it(path, tmp_path) -> None:
    key = generate_master_key()
    file = _secret(tmp_path, "key", key)
    result = _entrypoint(path, "gateway", AIGW_SECRET_KEY=key, AIGW_SECRET_KEY_FILE=file)
    assert result.returncode == 64
    assert "AIGW_SECRET_KEY and AIGW_SECRET_KEY_FILE are both set" in result.stderr
    assert key not in result.stderr + result.stdout


@pytest.mark.parametrize("content", [None, ""])
def test_a_missing_or_empty_secret_file_is_refused(path, tmp_path, content) -> None:
    file = tmp_path / "admin_password"
    if content is not None:
        file.write_text(content)
    result = _entrypoint(path, "keymanager", AIGW_ADMIN_PASSWORD_FILE=str(file))
    assert result.returncode == 64
    assert "AIGW_ADMIN_PASSWORD_FILE" in result.stderr


def test_health_fails_when_nothing_listens(path) -> None:
    result = _entrypoint(path, "health", str(free_port()))
    assert result.returncode != 0


@pytest.mark.integration
def test_a_service_starts_from_file_secrets_and_answers_its_health_checks(
    infra, path, tmp_path, unique
) -> None:
    port = free_port()
    admin_password = f"from-a-file-{unique}"
    env = {
        "PATH": path,
        **infra.bus_env("keymanager"),
        "KEYMANAGER_PORT": str(port),
        "KEYMANAGER_MONGODB_DB": f"deploy_{unique}",
        "MONGODB_URL_FILE": _secret(tmp_path, "mongodb_url", infra.mongodb_url),
        "AIGW_SECRET_KEY_FILE": _secret(tmp_path, "aigw_secret_key", generate_master_key()),
        "AIGW_ADMIN_PASSWORD_FILE": _secret(tmp_path, "admin_password", admin_password),
    }
    url = f"http://127.0.0.1:{port}"
    service = ManagedProcess(
        "keymanager",
        ["sh", str(ENTRYPOINT), "keymanager"],
        port=port,
        env=env,
        ready_url=f"{url}/health/ready",
        log_path=tmp_path / "keymanager.log",
    )
    service.start()
    try:
        service.wait_ready(60)
        assert service.proc is not None
        # exec'd: the service is the container's first process, so SIGTERM reaches it
        cmdline = Path(f"/proc/{service.proc.pid}/cmdline").read_bytes().split(b"\0")
        assert cmdline[1:3] == [b"-m", b"aigw.keymanager"]
        # ... on the image's packages (their compiled modules are mapped from its venv)
        venv = str(Path(path.split(os.pathsep)[0]).parent)
        assert venv in Path(f"/proc/{service.proc.pid}/maps").read_text()
        environ = Path(f"/proc/{service.proc.pid}/environ").read_bytes().split(b"\0")
        names = {entry.split(b"=", 1)[0] for entry in environ}
        assert b"AIGW_ADMIN_PASSWORD" in names
        assert b"AIGW_ADMIN_PASSWORD_FILE" not in names
        assert httpx.get(f"{url}/health/live").status_code == 200
        assert _entrypoint(path, "health", str(port)).returncode == 0
        assert _entrypoint(path, "health", str(port), "/health/live").returncode == 0
        # the admin account was seeded with the file's password (its trailing newline dropped)
        assert token_for(url, "admin", admin_password)
    finally:
        service.stop()


@pytest.mark.integration
async def test_the_snapshotter_starts_from_its_seed_and_trust_files_alone(
    infra, node, path, tmp_path
) -> None:
    """No master key, no database: its own NATS identity and the trust file (on a NATS of the
    test's own: it writes the shared snapshot)."""
    port = free_port()
    env = {
        "PATH": path,
        **infra.bus_env(SNAPSHOTTER),
        "NATS_URL": node.url,
        "SNAPSHOTTER_PORT": str(port),
    }
    assert not any(name.startswith(("AIGW_SECRET_KEY", "MONGODB_URL")) for name in env)
    snapshotter = ManagedProcess(
        "snapshotter",
        ["sh", str(ENTRYPOINT), "snapshotter"],
        port=port,
        env=env,
        ready_url=f"http://127.0.0.1:{port}/health/ready",
        log_path=tmp_path / "snapshotter.log",
    )
    with snapshotter.running(60):
        assert snapshotter.proc is not None
        cmdline = Path(f"/proc/{snapshotter.proc.pid}/cmdline").read_bytes().split(b"\0")
        assert cmdline[1:3] == [b"-m", b"aigw.gateway.snapshotter"]
        assert _entrypoint(path, "health", str(port)).returncode == 0
        assert _entrypoint(path, "health", str(port), "/health/live").returncode == 0
