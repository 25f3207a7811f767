"""`make run`'s bring-up, the parts without processes: where external servers are, and what a
failure report says."""

import os
from pathlib import Path

from aigw.devtools.stack import Stack, StackConfig
from aigw.devtools.startup import StartFailure, externals


def stack(tmp_path: Path, nats_url: str | None = None, mongodb_url: str | None = None) -> Stack:
    config = StackConfig(tmp_path, "k", "a", nats_url=nats_url, mongodb_url=mongodb_url)
    return Stack(config)


def test_external_servers_are_every_host_of_their_urls(tmp_path: Path) -> None:
    found = externals(
        stack(
            tmp_path,
            nats_url="nats://user:pw@nats-a:4223,nats://nats-b",
            mongodb_url="mongodb://u:p@m1:27018,m2/?replicaSet=rs0",
        )
    )
    assert [(e.name, e.host, e.port) for e in found] == [
        ("nats", "nats-a", 4223),
        ("nats", "nats-b", 4222),
        ("mongodb", "m1", 27018),
        ("mongodb", "m2", 27017),
    ]
    assert all("p@" not in e.shown for e in found if e.name == "mongodb")


def test_started_here_or_resolved_by_dns_are_not_probed(tmp_path: Path) -> None:
    assert externals(stack(tmp_path)) == []
    assert externals(stack(tmp_path, mongodb_url="mongodb+srv://u:p@cluster.example/db")) == []


def test_a_report_names_the_component_why_what_to_do_and_this_run_s_lines() -> None:
    failure = StartFailure(
        "store",
        "the store did not start (exit code 1): boom",
        "read its log below",
        ["Traceback (most recent call last):", "boom"],
        Path(".data/default/logs/mongodb.log"),
    )
    assert failure.report().splitlines() == [
        "make run: store did not start",
        "  why:  the store did not start (exit code 1): boom",
        "  what to do: read its log below",
        "  its log (.data/default/logs/mongodb.log, this run only):",
        "    | Traceback (most recent call last):",
        "    | boom",
    ]


def test_the_gateway_keeps_its_state_in_the_data_folder(tmp_path: Path) -> None:
    """Its table snapshot and usage spool: a gateway restarted while NATS is down serves."""
    [gateway] = [p for p in stack(tmp_path).processes if p.name == "gateway"]
    assert gateway.env["GATEWAY_STATE_DIR"] == str(tmp_path / "gateway")


def test_the_snapshotter_gets_its_own_identity_and_no_master_key_or_store(tmp_path: Path) -> None:
    [snapshotter] = [p for p in stack(tmp_path).processes if p.name == "snapshotter"]
    given = {k for k, v in snapshotter.env.items() if os.environ.get(k) != v}
    assert given == {"NATS_URL", "NATS_SEED_FILE", "AIGW_TRUST_FILE", "SNAPSHOTTER_PORT"}
    assert snapshotter.env["NATS_SEED_FILE"] == str(tmp_path / "credentials" / "snapshotter.nk")
    assert snapshotter.env["SNAPSHOTTER_PORT"] == "8004"
    assert snapshotter.argv[1:] == ["-m", "aigw.gateway.snapshotter"]
    assert snapshotter.ready_url == "http://127.0.0.1:8004/health/ready"
    assert snapshotter.log_path == tmp_path / "logs" / "snapshotter.log"


def test_a_stack_on_a_shared_nats_may_run_without_the_snapshotter(tmp_path: Path) -> None:
    config = StackConfig(tmp_path, "k", "a", snapshotter=False)
    assert "snapshotter" not in {p.name for p in Stack(config).processes}
