"""`make run`: the whole platform in the foreground, with live status; Ctrl-C stops everything.

Dev defaults, said out loud: admin password `admin` (AIGW_ADMIN_PASSWORD overrides), a secret
key generated once and kept in the data folder's secret.key (AIGW_SECRET_KEY overrides), NATS
and the embedded store started here unless NATS_URL / MONGODB_URL point elsewhere. The data
folder is one per port set, or AIGW_DATA_DIR (aigw.devtools.data_dir), and locked while the run
lasts. Bring-up and failures: aigw.devtools.startup; the live table: aigw.devtools.status.
"""

import os
import signal
import sys
import time
from dataclasses import astuple
from pathlib import Path
from types import FrameType
from urllib.parse import urlsplit, urlunsplit

from aigw.common.crypto import generate_master_key
from aigw.devtools import data_dir
from aigw.devtools.stack import Ports, Stack, StackConfig
from aigw.devtools.startup import StartFailure, Startup, externals
from aigw.devtools.status import LiveLines, StatusBoard

REFRESH_SECONDS = 2.0


def _secret_key(directory: Path) -> tuple[str, str]:
    if key := os.environ.get("AIGW_SECRET_KEY"):
        return key, "from AIGW_SECRET_KEY"
    path = directory / "secret.key"
    if not path.exists():
        directory.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)  # never world-readable
        with os.fdopen(fd, "w") as out:
            out.write(generate_master_key())
    return path.read_text().strip(), f"dev key generated and kept in {path}"


def ports_from_environment() -> Ports:
    """Each port from its variable (PUBLISHER_PORT, MOCK_PROVIDER_PORT, ...), else the default."""
    try:
        return Ports(
            **{
                name: int(os.environ.get(Stack.port_variable(name), default))
                for name, default in vars(Ports()).items()
            }
        )
    except ValueError as exc:
        sys.exit(f"make run: a *_PORT variable is not a number ({exc})")


def _config(directory: Path, ports: Ports) -> tuple[StackConfig, list[str]]:
    notes = []
    key, key_note = _secret_key(directory)
    notes.append(f"secret key: {key_note}")
    password = os.environ.get("AIGW_ADMIN_PASSWORD") or "admin"
    if "AIGW_ADMIN_PASSWORD" not in os.environ:
        notes.append("admin password: dev default 'admin' (set AIGW_ADMIN_PASSWORD to change)")
    config = StackConfig(
        data_dir=directory,
        secret_key=key,
        admin_password=password,
        ports=ports,
        nats_url=os.environ.get("NATS_URL"),
        mongodb_url=os.environ.get("MONGODB_URL"),
    )
    return config, notes


def _banner(stack: Stack, notes: list[str]) -> str:
    c = stack.config
    lines = [
        "aigw is running (Ctrl-C stops everything)",
        f"  Publisher Portal  {stack.url('publisher')}/publisher",
        f"  Admin Portal      {stack.url('publisher')}/admin",
        f"  Developer Portal  {stack.url('devportal')}/devportal",
        f"  publisher      {stack.url('publisher')}/api/publisher/v1   (API docs: /docs, /redoc)",
        f"  devportal      {stack.url('devportal')}/api/devportal/v1",
        f"  keymanager     {stack.url('keymanager')}/api/keymanager/v1",
        f"  gateway        {stack.url('gateway')}",
        *_snapshotter_line(stack),
        f"  mock provider  {stack.url('mock_provider')}  (keys: {c.mock_provider_keys})",
        f"  embeddings     {stack.embeddings_url}  (all-MiniLM-L6-v2 on this machine, loopback only)",
        f"  NATS           {stack.nats_url}"
        + ("" if c.nats_url else "  (started here)")
        + f"  authenticated: one nkey per service in {stack.credentials}/",
        f"  MongoDB        {without_password(stack.mongodb_url)}"
        + ("" if c.mongodb_url else f"  (embedded, {c.data_dir}/store.sqlite)"),
        f"  admin login    admin / {'(from AIGW_ADMIN_PASSWORD)' if c.admin_password != 'admin' else 'admin'}",
        f"  data           {c.data_dir}/  (logs in {stack.logs}/)",
        *(f"  note: {n}" for n in notes),
    ]
    if overridden := _overridden_ports(c.ports):
        lines.append(f"  the README's walkthrough in another shell: export {overridden}")
    return "\n".join(lines)


def _snapshotter_line(stack: Stack) -> list[str]:
    if not stack.config.snapshotter:
        return []
    every = os.environ.get("SNAPSHOTTER_INTERVAL", "300")
    shown = f"  snapshotter    {stack.url('snapshotter')}/metrics"
    return [f"{shown}  (the gateways' shared routing table snapshot, every {every} s)"]


# the ports the README's walkthrough reads from the environment
WALKTHROUGH_PORTS = ("publisher", "devportal", "keymanager", "gateway", "mock_provider")


def _overridden_ports(ports: Ports) -> str:
    """`PUBLISHER_PORT=9001 ...` for each of the walkthrough's ports not at its default."""
    defaults = Ports()
    return " ".join(
        f"{Stack.port_variable(name)}={getattr(ports, name)}"
        for name in WALKTHROUGH_PORTS
        if getattr(ports, name) != getattr(defaults, name)
    )


def without_password(url: str) -> str:
    """A MongoDB URL fit to print: the password of `user:password@` masked."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def _stop_on_signals() -> None:
    def _stop(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    # SIGINT too: it may arrive ignored from a shell; SIGHUP: the terminal closed
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _stop)


def _follow(stack: Stack, screen: LiveLines) -> None:
    """The live status table until Ctrl-C."""
    board = StatusBoard(
        stack.processes, stack.url("gateway"), screen, externals(stack), stack.url("snapshotter")
    )
    while True:
        board.refresh()
        time.sleep(REFRESH_SECONDS)


def _prepare() -> tuple[Stack, data_dir.DataDirLock, list[str]]:
    """The stack on this port set's data folder, which this run now holds."""
    ports = ports_from_environment()
    directory = data_dir.choose(ports)
    lock = data_dir.DataDirLock(directory)
    try:
        lock.acquire()
    except data_dir.DataDirBusy as busy:
        sys.exit(f"make run: {busy}")
    moved = data_dir.adopt_legacy(directory)
    config, notes = _config(directory, ports)
    if moved:
        notes.append(f"moved {', '.join(moved)} from {data_dir.ROOT}/ into {directory}/")
    if astuple(ports) != astuple(Ports()) and "AIGW_DATA_DIR" not in os.environ:
        notes.append(f"ports overridden: this port set's data folder is {directory}/")
    return Stack(config), lock, notes


def main() -> None:
    stack, lock, notes = _prepare()
    screen = LiveLines(sys.stdout, sys.stdout.isatty())
    _stop_on_signals()
    failure: StartFailure | None = None
    try:
        print(f"starting aigw (data in {stack.config.data_dir}/) ...", flush=True)
        Startup(stack, screen).run()
        print(_banner(stack, notes), flush=True)
        _follow(stack, screen)
    except StartFailure as failed:
        failure = failed
    except KeyboardInterrupt:
        print("\nstopping ...", flush=True)
    finally:
        # a second Ctrl-C must not cut the stop short
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, signal.SIG_IGN)
        stack.stop()
        lock.release()
    if failure is not None:  # after the stop: the report is the last thing on the screen
        print(failure.report(), file=sys.stderr, flush=True)
        sys.exit(1)
    print("stopped", flush=True)


if __name__ == "__main__":
    main()
