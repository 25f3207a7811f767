"""The access log's queue and lines (no I/O but a StringIO): a bounded queue that counts what
it drops, one JSON line per entry, written by `flush`."""

import io
import json

from prometheus_client import CollectorRegistry

from aigw.gateway.proxy import access_log
from aigw.gateway.proxy.access_log import AccessLog, line

ENTRY = (1_777_000_000.25, "rid-1", "Chat:1.0", "app1", "PRODUCTION", "m", "production", 200, 12, 30, 0.0842, 0.0837, "miss", None, None)  # fmt: skip


def test_a_line_has_every_field_in_json_and_milliseconds():
    parsed = json.loads(line(ENTRY))
    assert parsed == {
        "time": "2026-04-24T03:06:40.250Z",
        "request_id": "rid-1",
        "api": "Chat:1.0",
        "application": "app1",
        "key_type": "PRODUCTION",
        "model": "m",
        "target": "production",
        "status": 200,
        "input_tokens": 12,
        "output_tokens": 30,
        "latency_ms": 84.2,
        "upstream_ms": 83.7,
        "cache": "miss",
        "guardrail": None,
    }


def test_a_guardrail_outcome_names_it_and_its_direction():
    stopped = (*ENTRY[:13], "no-pii", "REQUEST")
    assert json.loads(line(stopped))["guardrail"] == {"name": "no-pii", "direction": "REQUEST"}


async def test_flush_writes_one_line_per_call_in_order():
    out = io.StringIO()
    log = AccessLog(out, batch_size=2)
    for n in range(5):
        log.add((*ENTRY[:1], f"rid-{n}", *ENTRY[2:]))
    await log.flush()
    assert [json.loads(text)["request_id"] for text in out.getvalue().splitlines()] == [
        f"rid-{n}" for n in range(5)
    ]
    assert log.queued == 0


def test_a_full_queue_drops_new_lines_and_counts_them(monkeypatch):
    monkeypatch.setattr(access_log, "MAX_QUEUED", 3)
    log = AccessLog(io.StringIO())
    for _ in range(5):
        log.add(ENTRY)
    assert (log.queued, log.dropped) == (3, 2)
    registry = CollectorRegistry()
    registry.register(log.collector())
    assert registry.get_sample_value("aigw_gateway_access_log_dropped_total") == 2
    assert registry.get_sample_value("aigw_gateway_access_log_queued") == 3


def test_off_is_no_log():
    assert AccessLog.open("off") is None
