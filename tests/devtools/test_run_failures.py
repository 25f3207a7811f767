"""`make run` failing to start says which component, why (its log from this run only) and
what to do, and exits non-zero at once: real `python -m aigw.devtools.run` processes, each
given its own free ports and data folder."""

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import fields
from pathlib import Path

import pytest

from aigw.devtools.data_dir import DataDirLock
from aigw.devtools.processes import free_port, port_open
from aigw.devtools.stack import Ports, Stack

pytestmark = pytest.mark.integration

# generous: a failure is reported within seconds; this only bounds a hang
BOUND_SECONDS = 60


def run(data: Path, ports: Ports, **env: str) -> subprocess.CompletedProcess[str]:
    """make run on `ports` with `data` as its folder; its exit code and output."""
    environment = {
        **os.environ,
        **{Stack.port_variable(f.name): str(getattr(ports, f.name)) for f in fields(ports)},
        "AIGW_DATA_DIR": str(data),
        **env,
    }
    for inherited in ("NATS_URL", "MONGODB_URL"):
        if inherited not in env:
            environment.pop(inherited, None)
    return subprocess.run(
        [sys.executable, "-m", "aigw.devtools.run"],
        env=environment,
        capture_output=True,
        text=True,
        timeout=BOUND_SECONDS,
        check=False,
    )


@pytest.fixture
def listening() -> Iterator[socket.socket]:
    """A port this test process listens on (taken, as far as make run can tell)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock


def test_a_nats_url_that_does_not_answer_is_named(tmp_path: Path) -> None:
    nats_url = f"nats://127.0.0.1:{free_port()}"
    result = run(tmp_path / "data", Ports.free(), NATS_URL=nats_url)
    assert result.returncode == 1
    assert "make run: NATS did not start" in result.stderr
    assert f"NATS_URL={nats_url} does not answer" in result.stderr
    assert "unset NATS_URL" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_taken_nats_port_names_the_holder_and_the_variable(
    tmp_path: Path, listening: socket.socket
) -> None:
    port = listening.getsockname()[1]
    ports = Ports.free()
    ports.nats = port
    result = run(tmp_path / "data", ports)
    assert result.returncode == 1
    assert f"port {port} is taken by another process: pid {os.getpid()}" in result.stderr
    assert "set NATS_PORT=<a free port>" in result.stderr


def test_a_taken_service_port_stops_the_run_before_anything_starts(
    tmp_path: Path, listening: socket.socket
) -> None:
    port = listening.getsockname()[1]
    ports = Ports.free()
    ports.publisher = port
    result = run(tmp_path / "data", ports)
    assert result.returncode == 1
    assert "make run: publisher did not start" in result.stderr
    assert f"port {port} is taken by another process" in result.stderr
    assert "set PUBLISHER_PORT=<a free port>" in result.stderr
    assert not port_open(ports.nats), "nothing was started"


def test_a_store_that_cannot_start_shows_its_own_lines_from_this_run(tmp_path: Path) -> None:
    data = tmp_path / "data"
    (data / "store.sqlite").mkdir(parents=True)  # a folder where the SQLite file must go
    (data / "logs").mkdir()
    (data / "logs" / "mongodb.log").write_text("a line from an earlier run\n")
    ports = Ports.free()
    result = run(data, ports)
    assert result.returncode == 1
    report = result.stderr
    assert "make run: store did not start" in report
    assert "the store did not start (exit code 1): sqlite3.OperationalError" in report
    assert f"{data}/logs/mongodb.log, this run only" in report
    assert "unable to open database file" in report
    assert "a line from an earlier run" not in report
    assert not port_open(ports.nats), "NATS, started first, was stopped on the way out"


def test_a_second_run_on_the_same_folder_is_refused(tmp_path: Path) -> None:
    data = tmp_path / "data"
    held = DataDirLock(data)
    held.acquire()
    try:
        result = run(data, Ports.free())
    finally:
        held.release()
    assert result.returncode == 1
    assert f"make run: {data}/ is in use by another make run (pid {os.getpid()})" in result.stderr
    assert "AIGW_DATA_DIR" in result.stderr
