"""Bus credentials for settings that never connect (route listings, settings parsing): the
settings require a seed and a trust file, and these are valid ones no server knows."""

import atexit
import functools
import shutil
import tempfile
from pathlib import Path
from typing import Any

from aigw.devtools import nats_auth


@functools.cache
def _credentials() -> Path:
    directory = Path(tempfile.mkdtemp(prefix="aigw-offline-credentials-"))
    atexit.register(shutil.rmtree, directory, ignore_errors=True)
    nats_auth.ensure_credentials(directory)
    return directory


def offline_bus_settings(identity: str) -> dict[str, Any]:
    return {
        "nats_seed_file": nats_auth.seed_path(_credentials(), identity),
        "trust_file": _credentials() / nats_auth.TRUST_FILE,
    }


def offline_bus_env(identity: str) -> dict[str, str]:
    return {
        "NATS_SEED_FILE": str(nats_auth.seed_path(_credentials(), identity)),
        "AIGW_TRUST_FILE": str(_credentials() / nats_auth.TRUST_FILE),
    }
