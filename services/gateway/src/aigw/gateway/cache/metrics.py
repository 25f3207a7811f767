"""The cache's Prometheus metrics, read when scraped (nothing is done per call but a count):

- `aigw_gateway_cache_outcomes_total{api,outcome}`: calls to APIs with a cache, by outcome
  (hit, miss, bypass; `api` is the deployed API's `name:version`, so the labels stay bounded);
- `aigw_gateway_cache_entries_rejected_total{reason}`: bucket entries ignored (unsigned,
  unknown_signer, bad_signature, subject_not_allowed, malformed);
- `aigw_gateway_cache_entries`, `aigw_gateway_cache_bytes`: what this gateway's index holds;
- `aigw_gateway_cache_writes_dropped_total`: answers not written (NATS away, too many in flight).
"""

from collections.abc import Iterable

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from aigw.gateway.cache.policy import CacheOutcomes
from aigw.gateway.cache.shared import SharedCache


class CacheCollector(Collector):
    def __init__(self, outcomes: CacheOutcomes, shared: SharedCache) -> None:
        self._outcomes, self._shared = outcomes, shared

    def collect(self) -> Iterable[Metric]:
        outcomes = CounterMetricFamily(
            "aigw_gateway_cache_outcomes",
            "Calls to APIs with a response cache, by API and outcome (hit, miss, bypass)",
            labels=["api", "outcome"],
        )
        for (api, outcome), count in sorted(self._outcomes.items()):
            outcomes.add_metric([api, outcome], count)
        yield outcomes
        rejected = CounterMetricFamily(
            "aigw_gateway_cache_entries_rejected",
            "Shared cache entries ignored: unsigned, wrongly signed or malformed",
            labels=["reason"],
        )
        for reason, count in sorted(self._shared.rejected.items()):
            rejected.add_metric([reason], count)
        yield rejected
        index = self._shared.index
        yield GaugeMetricFamily(
            "aigw_gateway_cache_entries", "Entries in this gateway's cache index", len(index)
        )
        yield GaugeMetricFamily(
            "aigw_gateway_cache_bytes", "Bytes of this gateway's cache index", index.bytes
        )
        yield CounterMetricFamily(
            "aigw_gateway_cache_writes_dropped",
            "Answers not written to the shared cache (NATS away, too many writes in flight)",
            self._shared.dropped_writes,
        )
