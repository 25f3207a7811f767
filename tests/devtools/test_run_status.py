"""`make run`'s status table: its numbers from the gateway's metrics, its rendering, the last
error line of each log in this run, and the redraw on a terminal."""

import io
from pathlib import Path

from aigw.devtools.processes import ManagedProcess
from aigw.devtools.status import (
    REQUESTS,
    SNAPSHOT_SEQUENCE,
    ErrorWatch,
    LiveLines,
    RequestRate,
    Row,
    StatusBoard,
    metric_totals,
    one_line,
    render,
)

METRICS = """\
# HELP aigw_gateway_requests_total Invocations by API, served model and response status
# TYPE aigw_gateway_requests_total counter
aigw_gateway_requests_total{api="MistralAIAPI:0.0.2",model="mistral-small",status="200"} 40.0
aigw_gateway_requests_total{api="MistralAIAPI:0.0.2",model="-",status="502"} 2.0
aigw_gateway_requests_total{api="Other:1.0",model="gpt-4o",status="200"} 8.0
# HELP aigw_gateway_event_sequence The last event stream sequence folded into the routing table
# TYPE aigw_gateway_event_sequence gauge
aigw_gateway_event_sequence 120.0
# HELP aigw_gateway_replay_target_sequence The event stream's last sequence at start
# TYPE aigw_gateway_replay_target_sequence gauge
aigw_gateway_replay_target_sequence 450.0
"""

ROWS = [
    Row("nats", True),
    Row("mongodb", True),
    Row("mock-provider", True),
    Row("publisher", False, "exited (1)", "2026-01-01 ERROR aigw.publisher: cannot reach NATS"),
    Row("gateway", True, "120 events folded"),
]


def test_the_request_counter_is_summed_over_every_label_set() -> None:
    totals = metric_totals(METRICS)
    assert totals[REQUESTS] == 50.0
    assert totals["aigw_gateway_event_sequence"] == 120.0
    assert totals["aigw_gateway_replay_target_sequence"] == 450.0


def test_requests_per_second_come_from_two_scrapes() -> None:
    rate = RequestRate()
    assert rate.update({REQUESTS: 50.0}, now=10.0) is None  # one look is no rate yet
    assert rate.update({REQUESTS: 70.0}, now=12.0) == 10.0
    assert rate.update({REQUESTS: 70.0}, now=14.0) == 0.0
    assert rate.update({}, now=15.0) is None  # the counter went back: the gateway restarted
    assert rate.update({}, now=16.0) == 0.0
    assert rate.update(None, now=17.0) is None  # the gateway did not answer
    assert rate.update({REQUESTS: 5.0}, now=18.0) is None


def test_the_table_shows_each_component_its_state_and_last_error() -> None:
    lines = render(ROWS, 12.345, "12:00:00", width=120)
    assert lines[0].startswith("aigw status at 12:00:00   gateway: 12.3 requests/s")
    assert "last error (this run)" in lines[1]
    by_name = {line.split()[0]: line for line in lines[2:]}
    assert by_name["NATS"].split()[1] == "up"
    assert by_name["store"].split()[1] == "up"
    assert "mock provider  up" in lines[4]
    assert by_name["publisher"].split()[1] == "DOWN"
    assert "exited (1)" in by_name["publisher"]
    assert by_name["publisher"].endswith("ERROR aigw.publisher: cannot reach NATS")
    assert "120 events folded" in by_name["gateway"]
    assert by_name["gateway"].endswith(" -")


def test_the_snapshotter_row_says_where_its_last_snapshot_is(tmp_path: Path) -> None:
    snapshotter = ManagedProcess("snapshotter", ["true"], port=1, log_path=tmp_path / "s.log")
    board = StatusBoard([snapshotter], "http://127.0.0.1:1", LiveLines(io.StringIO(), tty=False))

    def detail(metrics: dict[str, float] | None) -> str:
        (row,) = board.rows(None, metrics)
        return row.detail

    assert detail({SNAPSHOT_SEQUENCE: 42.0}) == "snapshot at event 42"
    assert detail({SNAPSHOT_SEQUENCE: 0.0}) == "no snapshot yet"
    assert detail(None) == "exited (None)"  # not answering: what the process says


def test_no_rate_yet_is_a_dash_and_lines_fit_the_terminal() -> None:
    lines = render(ROWS, None, "12:00:00", width=60)
    assert "gateway: - requests/s" in lines[0]
    assert all(len(line) <= 60 for line in lines)
    assert lines[5].endswith("…")


def test_without_a_terminal_the_status_is_one_line_naming_what_is_down() -> None:
    text = one_line(ROWS, 0.5, "12:00:00")
    first, second = text.splitlines()
    assert first == (
        "12:00:00 status nats:up mongodb:up mock-provider:up publisher:DOWN gateway:up "
        "gateway:0.5 req/s"
    )
    assert second.endswith(
        "last error of publisher: 2026-01-01 ERROR aigw.publisher: cannot reach NATS"
    )


def test_the_last_error_is_read_from_this_run_only_and_as_the_log_grows(tmp_path: Path) -> None:
    log = tmp_path / "gateway.log"
    log.write_text("2026 ERROR aigw.gateway: from an earlier run\n")
    process = ManagedProcess("gateway", ["true"], port=1, log_path=log)
    process.log_offset = log.stat().st_size  # what start() notes
    watch = ErrorWatch(process)
    assert watch.poll() is None
    with log.open("a") as out:
        out.write(
            "2026 INFO aigw.gateway: started\n2026 ERROR aigw.gateway: first\n[12] [ERR] half"
        )
    assert watch.poll() == "2026 ERROR aigw.gateway: first"
    with log.open("a") as out:
        out.write(" a line\n2026 WARNING aigw.gateway: not an error\n")
    assert watch.poll() == "[12] [ERR] half a line"


def test_a_terminal_gets_the_block_redrawn_in_place_and_only_when_it_changed() -> None:
    out = io.StringIO()
    screen = LiveLines(out, tty=True)
    screen.show(["a", "b"])
    screen.show(["a", "b"])
    screen.show(["a", "c"])
    assert out.getvalue() == "a\nb\n\x1b[2F\x1b[Ja\nc\n"


def test_elsewhere_lines_are_written_out_as_they_come() -> None:
    out = io.StringIO()
    screen = LiveLines(out, tty=False)
    screen.show(["one"])
    screen.show(["two"])
    assert out.getvalue() == "one\ntwo\n"
