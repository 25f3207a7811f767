"""`make deploy-credentials` (aigw.devtools.deploy_secrets): every secret compose mounts,
private to its owner, consistent with each other and kept when rerun."""

import base64
import json
import re
from urllib.parse import urlsplit

from aigw.common.crypto import decode_master_key
from aigw.common.identity import IDENTITIES, SNAPSHOTTER, Identity
from aigw.devtools import deploy_secrets, nats_auth


def test_the_secrets_are_private_consistent_and_kept(tmp_path) -> None:
    written = deploy_secrets.ensure_deploy_secrets(tmp_path)
    for path in written:
        assert path.stat().st_mode & 0o777 == 0o600, path.name
    read = {path.name: path.read_text().strip() for path in written}
    url = urlsplit(read["mongodb_url"])
    assert (url.username, url.password) == ("aigw", read["mongo_app_password"])
    assert url.hostname == "mongo-1"
    assert "replicaSet=rs0" in url.query
    assert read["mongo_root_password"] != read["mongo_app_password"]
    decode_master_key(read["aigw_secret_key"])  # a usable master key
    # mongod's key file: 6 to 1024 characters of the base64 alphabet
    assert re.fullmatch(r"[A-Za-z0-9+/=]{6,1024}", read["mongo.key"])
    assert len(base64.b64decode(read["mongo.key"])) == 567

    deploy_secrets.ensure_deploy_secrets(tmp_path)  # rerun: nothing replaced
    assert {path.name: path.read_text().strip() for path in written} == read


def test_every_nats_identity_gets_its_private_seed_and_the_trust_file_names_the_signers(
    tmp_path,
) -> None:
    """The snapshotter's too: compose and Kubernetes mount it as its own secret."""
    deploy_secrets.ensure_deploy_secrets(tmp_path)
    for identity in IDENTITIES:
        seed = nats_auth.seed_path(tmp_path, identity)
        assert seed.stat().st_mode & 0o777 == 0o600, identity
        assert Identity.load(identity, seed).name == identity
    trusted = json.loads((tmp_path / nats_auth.TRUST_FILE).read_text())["eventKeys"]
    snapshotter = Identity.load(SNAPSHOTTER, nats_auth.seed_path(tmp_path, SNAPSHOTTER))
    # the gateways verify its snapshot's signature with it
    assert trusted[SNAPSHOTTER] == [snapshotter.event_public_key]
