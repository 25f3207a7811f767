"""The batching exporter: spans are queued by the traced code and posted by a thread of
their own, in batches, so that tracing never waits for the collector.

Like the SDK's BatchSpanProcessor: a bounded queue (spans past it are dropped and counted,
never blocking a call), a batch posted every `interval` seconds or as soon as `max_batch`
spans wait, and `shutdown` posting what is left. A collector that is down or slow costs the
thread a timeout and the batch; the calls go on as before.
"""

import logging
import threading
import urllib.error
import urllib.request
from collections import deque
from collections.abc import Mapping

from aigw.common.tracing.otlp import encode
from aigw.common.tracing.spans import AttributeValue, Span

log = logging.getLogger(__name__)


class BatchExporter:
    def __init__(
        self,
        url: str,
        resource: Mapping[str, AttributeValue],
        scope: str,
        headers: Mapping[str, str] | None = None,
        max_queue: int = 4096,
        max_batch: int = 512,
        interval: float = 1.0,
        timeout: float = 5.0,
    ) -> None:
        self.url, self.resource, self.scope = url, dict(resource), scope
        self.headers = {"Content-Type": "application/json", **(headers or {})}
        self.max_queue, self.max_batch = max_queue, max_batch
        self.interval, self.timeout = interval, timeout
        self.dropped = 0  # spans the full queue turned away
        self.failed = 0  # batches the collector did not take
        self._queue: deque[Span] = deque()
        self._wake = threading.Event()
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    def add(self, span: Span) -> None:
        """Queue a finished span (any thread; never blocks)."""
        queue = self._queue
        if len(queue) >= self.max_queue or self._stopping:
            self.dropped += 1
            return
        queue.append(span)
        if self._thread is None:
            self._start()
        elif len(queue) >= self.max_batch:
            self._wake.set()

    def flush(self) -> None:
        """Post what is queued now, on the caller's thread (tests, shutdown)."""
        while self._queue:
            self._post(self._take())

    def shutdown(self, timeout: float = 5.0) -> None:
        self._stopping = True
        self._wake.set()
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
        self.flush()

    def _start(self) -> None:
        with self._start_lock:
            if self._thread is None:
                thread = threading.Thread(target=self._run, name="otlp-exporter", daemon=True)
                thread.start()
                self._thread = thread

    def _run(self) -> None:
        while not self._stopping:
            self._wake.wait(self.interval)
            self._wake.clear()
            while self._queue and not self._stopping:
                self._post(self._take())

    def _take(self) -> list[Span]:
        queue, batch = self._queue, list[Span]()
        while queue and len(batch) < self.max_batch:
            batch.append(queue.popleft())
        return batch

    def _post(self, batch: list[Span]) -> None:
        if not batch:
            return
        body = encode(batch, self.resource, self.scope)
        request = urllib.request.Request(self.url, body, self.headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as answer:
                answer.read()
        except (OSError, urllib.error.URLError, ValueError) as exc:  # the thread goes on
            self.failed += 1
            # the endpoint only: OTEL_EXPORTER_OTLP_HEADERS may carry a collector's token
            log.warning("OTLP export to %s failed (%d spans): %s", self.url, len(batch), exc)
