"""`make run`: the whole platform in the foreground, with live status; Ctrl-C stops everything.

Dev defaults, said out loud: admin password `admin` (AIGW_ADMIN_PASSWORD overrides), a secret
key generated once and kept in .data/secret.key (AIGW_SECRET_KEY overrides), NATS and the
embedded store started here unless NATS_URL / MONGODB_URL point elsewhere.
"""

import os
import signal
import sys
import time
from pathlib import Path
from types import FrameType
from urllib.parse import urlsplit, urlunsplit

from aigw.common.crypto import generate_master_key
from aigw.devtools.processes import port_open
from aigw.devtools.stack import Ports, Stack, StackConfig

DATA_DIR = Path(".data")


def _secret_key() -> tuple[str, str]:
    if key := os.environ.get("AIGW_SECRET_KEY"):
        return key, "from AIGW_SECRET_KEY"
    path = DATA_DIR / "secret.key"
    if not path.exists():
        DATA_DIR.mkdir(exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)  # never world-readable
        with os.fdopen(fd, "w") as out:
            out.write(generate_master_key())
    return path.read_text().strip(), f"dev key generated and kept in {path}"


def _config() -> tuple[StackConfig, list[str]]:
    notes = []
    key, key_note = _secret_key()
    notes.append(f"secret key: {key_note}")
    password = os.environ.get("AIGW_ADMIN_PASSWORD") or "admin"
    if "AIGW_ADMIN_PASSWORD" not in os.environ:
        notes.append("admin password: dev default 'admin' (set AIGW_ADMIN_PASSWORD to change)")
    ports = Ports(
        **{
            name: int(os.environ.get(f"{name.upper()}_PORT", default))
            for name, default in vars(Ports()).items()
        }
    )
    config = StackConfig(
        data_dir=DATA_DIR,
        secret_key=key,
        admin_password=password,
        ports=ports,
        nats_url=os.environ.get("NATS_URL"),
        mongodb_url=os.environ.get("MONGODB_URL"),
    )
    return config, notes


def _check_ports(stack: Stack) -> None:
    busy = [f"{p.name}:{p.port}" for p in stack.processes if port_open(p.port)]
    if busy:
        sys.exit(f"ports already in use ({', '.join(busy)}); stop what holds them or set *_PORT")


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
        f"  mock provider  {stack.url('mock_provider')}  (keys: {c.mock_provider_keys})",
        f"  embeddings     {stack.embeddings_url}  (all-MiniLM-L6-v2 on this machine, loopback only)",
        f"  NATS           {stack.nats_url}"
        + ("" if c.nats_url else "  (started here)")
        + f"  authenticated: one nkey per service in {stack.credentials}/",
        f"  MongoDB        {without_password(stack.mongodb_url)}"
        + ("" if c.mongodb_url else "  (embedded, .data/)"),
        f"  admin login    admin / {'(from AIGW_ADMIN_PASSWORD)' if c.admin_password != 'admin' else 'admin'}",
        f"  logs           {stack.logs}/",
        *(f"  note: {n}" for n in notes),
    ]
    return "\n".join(lines)


def without_password(url: str) -> str:
    """A MongoDB URL fit to print: the password of `user:password@` masked."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def _status(stack: Stack) -> str:
    return "  ".join(f"{p.name}:{'up' if p.alive() else 'DOWN'}" for p in stack.processes)


def main() -> None:
    config, notes = _config()
    stack = Stack(config)
    _check_ports(stack)

    def _stop(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    for sig in (signal.SIGINT, signal.SIGTERM):  # SIGINT too: it may arrive ignored from a shell
        signal.signal(sig, _stop)
    try:
        print(
            "starting NATS, the store, the mock provider, the embedding model and the four "
            "services ...",
            flush=True,
        )
        stack.start()
        print(_banner(stack, notes), flush=True)
        last = ""
        while True:
            status = _status(stack)
            if status != last:
                print(time.strftime("%H:%M:%S"), "status", status, flush=True)
                last = status
            time.sleep(2)
    except KeyboardInterrupt:
        print("\nstopping ...", flush=True)
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):  # a second Ctrl-C must not cut the stop short
            signal.signal(sig, signal.SIG_IGN)
        stack.stop()
        print("stopped", flush=True)


if __name__ == "__main__":
    main()
