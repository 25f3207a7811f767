"""The ordered reader (aigw.common.ordered) across NATS restarts: it resumes from the next
sequence as soon as the connection is back, without missing or repeating a message, as the
gateway's identity (which may create only unnamed ordered consumers on the events stream)."""

import nats
import nats.errors
import pytest
from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg

from aigw.common.messaging import STREAM_NAME
from aigw.common.ordered import OrderedReader, Reconnects, Start
from tests.support.infra import Infra
from tests.support.nats_nodes import NatsNode
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration


async def _connect(node: NatsNode, infra: Infra, identity: str, **options: object) -> NatsClient:
    return await nats.connect(
        servers=[node.url],
        max_reconnect_attempts=-1,
        reconnect_time_wait=0.1,
        **infra.nats_options(identity),
        **options,  # type: ignore[arg-type]
    )


async def _publish(nc: NatsClient, *bodies: str) -> None:
    """Each body once (its message id de-duplicates a retry), retried while JetStream is
    still recovering its stream after a restart."""
    js = nc.jetstream()
    for body in bodies:
        headers = {"Nats-Msg-Id": body}
        await eventually(
            lambda b=body, h=headers: js.publish(  # type: ignore[misc]
                "aigw.api.updated", b.encode(), stream=STREAM_NAME, headers=h, timeout=1
            ),
            ignoring=(nats.errors.Error,),
        )


class Seen:
    def __init__(self) -> None:
        self.bodies: list[str] = []
        self.sequences: list[int] = []

    async def __call__(self, msg: Msg) -> None:
        self.bodies.append(msg.data.decode())
        self.sequences.append(msg.metadata.sequence.stream)


async def test_reader_resumes_after_a_restart_without_missing_or_repeating(
    node: NatsNode, infra: Infra
) -> None:
    reconnects = Reconnects()
    reader_nc = await _connect(node, infra, "gateway", reconnected_cb=reconnects.fire)
    writer = await _connect(node, infra, "publisher")
    seen = Seen()
    reader = OrderedReader(reader_nc, STREAM_NAME, "aigw.>", seen, name="test reader")
    reconnects.subscribe(reader.reconnected)
    try:
        await _publish(writer, "a1", "a2", "a3")
        await reader.start()
        await eventually(lambda: seen.bodies, ["a1", "a2", "a3"])

        node.stop()  # the stream is on disk; the reader's consumer (in memory) is gone
        await eventually(lambda: not reader_nc.is_connected)
        node.start()
        await eventually(lambda: reader_nc.is_connected and writer.is_connected)
        await _publish(writer, "b1", "b2")
        await eventually(lambda: seen.bodies, ["a1", "a2", "a3", "b1", "b2"])
        assert seen.sequences == [1, 2, 3, 4, 5]
        assert reader.resets >= 1

        node.kill()  # kill -9 this time, with more published right after it is back
        node.start()
        await eventually(lambda: writer.is_connected)
        await _publish(writer, *(f"c{i}" for i in range(50)))
        await eventually(lambda: len(seen.bodies), 55)
        assert seen.sequences == list(range(1, 56))
        assert seen.bodies[5:] == [f"c{i}" for i in range(50)]
    finally:
        await reader.stop()
        await reader_nc.close()
        await writer.close()


async def test_reader_starts_at_a_sequence_and_refills_a_gap_itself(
    node: NatsNode, infra: Infra
) -> None:
    """From a checkpoint (publisher's audit trail starts after its checkpoint), and a reset
    asked for at any time (a gap, a reconnect) re-reads nothing already handed out."""
    reader_nc = await _connect(node, infra, "publisher")
    writer = await _connect(node, infra, "publisher")
    seen = Seen()
    reader = OrderedReader(reader_nc, STREAM_NAME, "aigw.>", seen, start=Start(sequence=3))
    try:
        await _publish(writer, *(f"m{i}" for i in range(1, 6)))
        await reader.start()
        await eventually(lambda: seen.sequences, [3, 4, 5])
        reader.reset("the test asks")
        await eventually(lambda: reader.resets, 1)
        await _publish(writer, "m6")
        await eventually(lambda: seen.sequences, [3, 4, 5, 6])
        assert seen.bodies == ["m3", "m4", "m5", "m6"]
    finally:
        await reader.stop()
        await reader_nc.close()
        await writer.close()
