"""Services reach NATS over TLS when the deployment asks for it: NATS_TLS_CA_FILE verifies the
server, and the server (configured with a certificate) refuses clients that skip TLS."""

import ssl
from collections.abc import Iterator
from pathlib import Path

import nats
import nats.errors
import pytest

from aigw.common.events import ApplicationCreated, new_event
from aigw.common.identity import PROVISIONER
from aigw.common.provision import provision_streams
from aigw.common.runtime import ServiceRuntime
from aigw.devportal.settings import Settings
from aigw.devtools import nats_auth
from aigw.devtools.processes import free_port, nats_server
from tests.support.infra import Infra
from tests.support.tls import self_signed

pytestmark = pytest.mark.integration


@pytest.fixture
def tls_nats(infra: Infra, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A NATS server with the session's authorization and a certificate: tls://…, its CA."""
    cert, key = self_signed(tmp_path)
    auth = (infra.credentials / nats_auth.SERVER_CONFIG).read_text()
    config = tmp_path / "nats-tls.conf"
    config.write_text(auth + f'tls: {{cert_file: "{cert}", key_file: "{key}"}}\n')
    server = nats_server(free_port(), tmp_path / "js", config, tmp_path / "nats.log")
    server.start()
    try:
        server.wait_ready()
        yield f"tls://127.0.0.1:{server.port}", cert
    finally:
        server.stop()


async def test_a_service_publishes_over_tls(
    infra: Infra, tls_nats: tuple[str, Path], secret_key: str, unique: str
) -> None:
    url, cert = tls_nats
    context = ssl.create_default_context(cafile=str(cert))
    await provision_streams(url, infra.identity(PROVISIONER), tls=context)
    settings = Settings(
        **{**infra.bus_settings("devportal"), "nats_url": url},
        nats_tls_ca_file=cert,
        mongodb_url=infra.mongodb_url,
        secret_key=secret_key,
        mongodb_db=f"tls_{unique}",
    )
    event = new_event(
        ApplicationCreated(application_id=f"app-{unique}", name="tls", owner="alice"),
        source="devportal",
        actor="alice",
    )
    async with ServiceRuntime(settings, database=settings.mongodb_db) as runtime:
        assert runtime.broker.connection.is_connected
        await runtime.bus.publish(event)
    nc = await nats.connect(url, tls=context, **infra.nats_options())
    try:
        info = await nc.jetstream().stream_info("AIGW_EVENTS")
    finally:
        await nc.close()
    assert info.state.messages == 1


async def test_a_client_that_skips_tls_is_refused(infra: Infra, tls_nats: tuple[str, Path]) -> None:
    url, _ = tls_nats
    with pytest.raises((nats.errors.Error, OSError, ssl.SSLError)):
        await nats.connect(
            url.replace("tls://", "nats://"),
            connect_timeout=2,
            allow_reconnect=False,
            max_reconnect_attempts=0,
            **infra.nats_options("devportal"),
        )
