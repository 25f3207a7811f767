"""`python -m aigw.devtools.openapi_export DIR`: each management service's OpenAPI document as
`DIR/<service>.json`, built from the apps themselves without connecting to anything.

The portals generate their API types from these files, so a change to a service's API that
breaks a portal breaks the portal's build."""

import base64
import json
import secrets
import sys
import tempfile
from pathlib import Path
from typing import Any

from aigw.devtools import nats_auth

SERVICES = ("publisher", "devportal", "keymanager")


def documents() -> dict[str, dict[str, Any]]:
    # imported here: each app module pulls in its whole service
    from aigw.devportal.app import create_app as devportal_app
    from aigw.devportal.settings import Settings as DevportalSettings
    from aigw.keymanager.app import create_app as keymanager_app
    from aigw.keymanager.settings import Settings as KeymanagerSettings
    from aigw.publisher.app import create_app as publisher_app
    from aigw.publisher.settings import Settings as PublisherSettings

    with tempfile.TemporaryDirectory(prefix="aigw-openapi-") as tmp:
        credentials = Path(tmp)
        nats_auth.ensure_credentials(credentials)

        def offline(identity: str) -> dict[str, Any]:
            # valid bus credentials no server knows: the settings need them, nothing connects
            return {
                "nats_seed_file": nats_auth.seed_path(credentials, identity),
                "trust_file": credentials / nats_auth.TRUST_FILE,
                "secret_key": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
                "admin_password": "openapi-export",
            }

        return {
            "publisher": publisher_app(PublisherSettings(**offline("publisher"))).openapi(),
            "devportal": devportal_app(DevportalSettings(**offline("devportal"))).openapi(),
            "keymanager": keymanager_app(KeymanagerSettings(**offline("keymanager"))).openapi(),
        }


def main() -> None:
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "web/src/api/generated")
    target.mkdir(parents=True, exist_ok=True)
    for name, document in documents().items():
        (target / f"{name}.json").write_text(json.dumps(document, indent=1, sort_keys=True))
    print(f"wrote {', '.join(SERVICES)} OpenAPI documents to {target}")


if __name__ == "__main__":
    main()
