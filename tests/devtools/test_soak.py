"""`make soak` (aigw.devtools.soak): the trend it reports (unit), and a short run of the whole
thing on the platform's processes, checking the report's shape and that nothing failed. The
figures themselves are the README's, from a real `make soak`; nothing here times anything."""

import json
import os
from pathlib import Path

import pytest

from aigw.devtools import soak, soak_sampling
from aigw.devtools.soak_sampling import per_hour, slope

PROCESSES = {
    "nats",
    "mongodb",
    "mock-provider",
    "embeddings",
    "keymanager",
    "publisher",
    "devportal",
    "gateway",
    "snapshotter",
}


def test_the_slope_of_points_on_a_line_is_the_line_s() -> None:
    assert slope([(0.0, 5.0), (1.0, 7.0), (2.0, 9.0), (3.0, 11.0)]) == pytest.approx(2.0)


def test_the_slope_is_the_least_squares_fit_of_scattered_points() -> None:
    # y = x + noise: the fit is (sum of (x - 1.5)(y - mean y)) / (sum of (x - 1.5)^2)
    assert slope([(0.0, 1.0), (1.0, 0.0), (2.0, 3.0), (3.0, 2.0)]) == pytest.approx(0.6)


def test_a_flat_series_has_no_slope() -> None:
    assert slope([(0.0, 100.0), (60.0, 100.0), (120.0, 100.0)]) == 0.0


def test_there_is_no_slope_without_two_distinct_times() -> None:
    assert slope([]) is None
    assert slope([(1.0, 2.0)]) is None
    assert slope([(1.0, 2.0), (1.0, 3.0)]) is None


def test_the_trend_per_hour_leaves_the_warm_up_samples_out() -> None:
    # a start-up jump in the first two samples, then one MiB more every minute
    warm_up = [(0.0, 50.0), (60.0, 90.0)]
    steady = [(60.0 * m, 100.0 + (m - 2)) for m in range(2, 10)]
    assert soak_sampling.WARM_UP_SAMPLES == 2
    assert per_hour(warm_up + steady) == pytest.approx(60.0)
    assert per_hour(warm_up + steady[:1]) is None


def test_a_process_s_usage_is_read_from_proc() -> None:
    here = soak_sampling.usage(os.getpid())
    assert here.rss_bytes > 10 * soak_sampling.MIB
    assert here.fds > 2
    assert soak_sampling.descendants(os.getpid())[0] == os.getpid()


def test_the_duration_in_seconds_wins_over_minutes_and_paces_the_changes() -> None:
    short = soak.parse(["--minutes", "5", "--seconds", "20", "--sample-seconds", "5"])
    assert (short.seconds, short.sample_seconds, short.management_seconds) == (20, 5, 5)
    default = soak.parse([])
    assert (default.seconds, default.rate, default.management_seconds) == (1800, 50, 60)


@pytest.mark.integration
@pytest.mark.e2e
def test_a_short_soak_reports_every_process_and_no_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["--seconds", "20", "--sample-seconds", "5", "--rate", "20", "--data-dir", str(tmp_path)]
    assert soak.main(argv) == 0
    printed = capsys.readouterr().out
    assert "result: OK" in printed
    [path] = tmp_path.glob("soak-*.json")
    report = json.loads(path.read_text())
    assert report["ok"] is True
    assert set(report["processes"]) == PROCESSES
    for name, process in report["processes"].items():
        assert len(process["samples"]) >= 4, name
        assert all(s["rssMiB"] > 0 and s["fds"] > 0 for s in process["samples"]), name
        assert isinstance(process["rssMiBPerHour"], float), name
        assert isinstance(process["fdsPerHour"], float), name
    assert report["errors"] == {"total": 0, "byKind": {}}
    kinds = report["calls"]["byKind"]
    for kind in ("production", "production, streamed", "sandbox", "rotating key"):
        assert kinds[kind] > 0, kind
    for kind in ("refused: unknown key", "refused: unknown API"):
        assert kinds[kind] > 0, kind
    assert set(report["latencyMs"]) == {"chat", "stream"}
    management = report["management"]
    assert management["deploys"] >= 2
    assert management["keys replaced and revoked"] >= 1
    assert management["keys regenerated"] >= 1
    usage = report["usage"]
    assert usage["ok"] is True
    assert usage["counted"] == usage["served"] > 0
