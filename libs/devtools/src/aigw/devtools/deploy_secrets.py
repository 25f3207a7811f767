"""Every secret `deploy/compose.yaml` mounts, as files, in one directory.

`python -m aigw.devtools.deploy_secrets <dir>` (also `make deploy-credentials`, default
`deploy/credentials`, which git ignores) writes, once (existing files are kept, so it can be
rerun, and rotating one means deleting it first):

- the NATS credentials of `aigw.devtools.nats_auth` (one nkey seed per identity: the four
  services, the snapshotter and the provisioner; `trust.json`, `nats-auth.conf`);
- `mongo.key`: the replica set members' shared key file (756 random bytes, base64);
- `mongo_root_password`: the root user the init job uses to initiate the replica set and
  create the services' user; `mongo_app_password` and `mongodb_url`: that user (`aigw`, read and
  write on the three services' databases) and the URL the services read it from;
- `aigw_secret_key`: the master key secrets are encrypted under; `admin_password`: the admin
  account keymanager creates at its first start.

Every file is mode 0600: only its owner reads it. Kubernetes takes the same files as Secrets
(README, "Running in production").
"""

import argparse
import base64
import os
import secrets
from collections.abc import Callable
from pathlib import Path

from aigw.common.crypto import generate_master_key
from aigw.devtools import nats_auth

MONGO_HOSTS = ("mongo-1:27017", "mongo-2:27017", "mongo-3:27017")
REPLICA_SET = "rs0"
APP_USER = "aigw"


def _password() -> str:
    return secrets.token_urlsafe(24)  # URL-safe: it goes into mongodb_url as it is


def _key_file() -> str:
    # mongod takes 6 to 1024 characters of the base64 alphabet (urlsafe's - and _ are not)
    return base64.b64encode(secrets.token_bytes(567)).decode()  # 756 characters


def mongodb_url(password: str, hosts: tuple[str, ...] = MONGO_HOSTS) -> str:
    return (
        f"mongodb://{APP_USER}:{password}@{','.join(hosts)}/"
        f"?replicaSet={REPLICA_SET}&authSource=admin"
    )


def _write_once(path: Path, make: Callable[[], str]) -> str:
    if path.exists():
        return path.read_text().strip()
    value = make()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)  # never world-readable
    with os.fdopen(fd, "w") as out:
        out.write(value + "\n")
    return value


def ensure_deploy_secrets(directory: Path) -> list[Path]:
    """Write whatever is missing; returns the files of this module's own (NATS's aside)."""
    nats_auth.ensure_credentials(directory)
    _write_once(directory / "mongo.key", _key_file)
    _write_once(directory / "mongo_root_password", _password)
    app_password = _write_once(directory / "mongo_app_password", _password)
    _write_once(directory / "mongodb_url", lambda: mongodb_url(app_password))
    _write_once(directory / "aigw_secret_key", generate_master_key)
    _write_once(directory / "admin_password", _password)
    names = (
        "mongo.key",
        "mongo_root_password",
        "mongo_app_password",
        "mongodb_url",
        "aigw_secret_key",
        "admin_password",
    )
    return [directory / name for name in names]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory", type=Path)
    args = parser.parse_args()
    written = ensure_deploy_secrets(args.directory)
    print(f"secrets in {args.directory}/: NATS credentials, " + ", ".join(p.name for p in written))


if __name__ == "__main__":
    main()
