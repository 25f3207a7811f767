"""The gateway's Prometheus metrics (served on /metrics).

Every metric's `api` label is the deployed API's `name:version` (`Route.label`, e.g.
`MistralAIAPI:0.0.2`), `-` for a call that matched no API: bounded by what is deployed, never
a per-call or per-key value (no request id, key, application or caller text).

- `aigw_gateway_requests_total{api,model,status}`: invocations; `model` is the model the
  provider says it served ("-" when it did not answer), never the caller's free text, so
  callers cannot blow up the label set;
- `aigw_gateway_tokens_total{api,model,kind}`: prompt and completion tokens;
- `aigw_gateway_request_duration_seconds{api}`: request to end of response;
- `aigw_gateway_added_latency_seconds{api}`: the gateway's own share (total - provider time);
- `aigw_gateway_provider_latency_seconds{api}`: from sending to the provider to its last byte;
- `aigw_gateway_quota_rejections_total{api,kind}`: 429s by exhausted counter (requests,
  prompt_tokens, completion_tokens, total_tokens) and 503s of backend protection (backend);
- `aigw_gateway_target_failures_total{api,endpoint,reason}`: routed calls' failed attempts
  (reason: status (429/5xx), timeout, connection), each followed by a suspension;
- `aigw_gateway_guardrail_interventions_total{api,guardrail,direction}`: calls a guardrail
  stopped (guardrail: its name, at most 16 per API; direction: REQUEST or RESPONSE);
- `aigw_gateway_quota_peers`: other gateway processes sharing quota counts with this one;
- `aigw_gateway_event_sequence`: the last event stream sequence folded into the routing table;
- `aigw_gateway_replay_target_sequence`: the stream's last sequence when the gateway started
  following it (0 until connected): the replay is done once the first reaches it (`make run`
  shows the two as the replay's progress).

Label children are cached, so recording costs a dict lookup per metric.
"""

from collections.abc import Callable
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
_FINE_BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5)


class GatewayMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        def counter(name: str, doc: str, *labels: str) -> Counter:
            return Counter(name, doc, ["api", *labels], registry=registry)

        def histogram(name: str, doc: str, buckets: tuple[float, ...]) -> Histogram:
            return Histogram(name, doc, ["api"], registry=registry, buckets=buckets)

        self.requests = counter(
            "aigw_gateway_requests",
            "Invocations by API, served model and response status",
            *("model", "status"),
        )
        self.tokens = counter(
            "aigw_gateway_tokens",
            "Tokens by API, served model and kind (prompt, completion)",
            *("model", "kind"),
        )
        self.rejections = counter(
            "aigw_gateway_quota_rejections",
            "Calls refused by a quota (kind: the exhausted counter) or backend protection",
            "kind",
        )
        self.target_failures = counter(
            "aigw_gateway_target_failures",
            "Failed attempts of routed calls by API, endpoint and reason",
            *("endpoint", "reason"),
        )
        self.interventions = counter(
            "aigw_gateway_guardrail_interventions",
            "Calls a guardrail stopped, by API, guardrail name and direction",
            *("guardrail", "direction"),
        )
        self._latencies(histogram)
        self.peers = Gauge(
            "aigw_gateway_quota_peers",
            "Other gateway processes this one shares quota counts with",
            registry=registry,
        )
        self.event_sequence = Gauge(
            "aigw_gateway_event_sequence",
            "The last event stream sequence folded into the routing table",
            registry=registry,
        )
        self.replay_target = Gauge(
            "aigw_gateway_replay_target_sequence",
            "The event stream's last sequence at start: replayed once the event sequence is here",
            registry=registry,
        )
        self._children: dict[tuple[Any, ...], Any] = {}

    def _latencies(self, histogram: Callable[[str, str, tuple[float, ...]], Histogram]) -> None:
        self.latency = histogram(
            "aigw_gateway_request_duration_seconds",
            "Time from request to the end of the response, by API",
            _BUCKETS,
        )
        self.added = histogram(
            "aigw_gateway_added_latency_seconds",
            "Latency the gateway adds (total minus provider time), by API",
            _FINE_BUCKETS,
        )
        self.provider = histogram(
            "aigw_gateway_provider_latency_seconds",
            "Provider time, from sending the request to its last byte, by API",
            _BUCKETS,
        )

    def watch_peers(self, count: Callable[[], int]) -> None:
        self.peers.set_function(count)

    def watch_replay(self, sequence: Callable[[], int], target: Callable[[], int]) -> None:
        self.event_sequence.set_function(sequence)
        self.replay_target.set_function(target)

    def _child(self, metric: Any, *labels: str) -> Any:
        key = (id(metric), *labels)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = metric.labels(*labels)
        return child

    def observe(
        self, api: str, model: str, status: int, seconds: float, provider: float | None
    ) -> None:
        self._child(self.requests, api, model, str(status)).inc()
        self._child(self.latency, api).observe(seconds)
        if provider is not None:
            self._child(self.provider, api).observe(provider)
            self._child(self.added, api).observe(max(0.0, seconds - provider))

    def count_tokens(self, api: str, model: str, prompt: int, completion: int) -> None:
        if prompt:
            self._child(self.tokens, api, model, "prompt").inc(prompt)
        if completion:
            self._child(self.tokens, api, model, "completion").inc(completion)

    def rejected(self, api: str, kind: str) -> None:
        self._child(self.rejections, api, kind).inc()

    def intervened(self, api: str, guardrail: str, direction: str) -> None:
        self._child(self.interventions, api, guardrail, direction).inc()

    def failed_target(self, api: str, endpoint: str, reason: str) -> None:
        self._child(self.target_failures, api, endpoint, reason).inc()
