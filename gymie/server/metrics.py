"""Prometheus metrics of one server process, in a registry of its own (not the global one).

With ``--processes N`` every process keeps and serves its own metrics: a scrape of ``/metrics``
reaches one of them (the kernel picks), so label scrapes by the ``pid`` of ``/healthz`` or
scrape each process through its own port behind the proxy.

Exposed (``gymie_`` prefix):

- ``connections``, ``envs``, ``workers`` (gauges);
- ``requests_total{method}``, ``errors_total{code,error}`` (counters);
- ``request_duration_seconds{method}`` (histogram; ``method="step"`` is the step latency);
- ``received_bytes_total``, ``sent_bytes_total`` (WebSocket payloads);
- ``process_*`` (CPU, resident memory, open fds) from prometheus-client's process collector.
"""

from __future__ import annotations

import bisect
import itertools
import math
from collections.abc import Callable, Iterable, Iterator

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    ProcessCollector,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily, Metric

from gymie.codec import Frame
from gymie.exceptions import GymieError

BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
OTHER = "other"
"""The ``method`` label of requests naming no known method (keeps the label set bounded)."""


class Metrics:
    """The counters and gauges of one server; also the dispatcher's ``Observer``."""

    content_type = CONTENT_TYPE_LATEST

    def __init__(
        self,
        methods: Iterable[str],
        connections: Callable[[], float],
        envs: Callable[[], float],
        workers: Callable[[], float],
    ) -> None:
        disable_created_metrics()  # type: ignore[no-untyped-call]  # *_created series say little
        self.registry = CollectorRegistry()
        reg = self.registry
        Gauge("gymie_connections", "Open WebSocket connections.", registry=reg).set_function(connections)
        Gauge("gymie_envs", "Live environment instances.", registry=reg).set_function(envs)
        Gauge("gymie_workers", "Live environment worker processes.", registry=reg).set_function(workers)
        self.errors = Counter(
            "gymie_errors", "Errors replied, by wire code and error class.", ["code", "error"], registry=reg
        )
        # The per-request figures are plain ints, turned into metrics only when scraped: a
        # prometheus-client Counter or Histogram takes a lock and walks its buckets in Python on
        # every update, a few µs a step that the busy server multiplies.
        self._per_method = {name: _Timings() for name in [*methods, OTHER]}
        self.received = 0
        self.sent = 0
        reg.register(_Collector(self))
        ProcessCollector(registry=reg)

    def request(self, method: str, seconds: float, error: GymieError | None) -> None:
        """Count one request (the dispatcher calls this)."""
        timings = self._per_method.get(method) or self._per_method[OTHER]
        timings.counts[bisect.bisect_left(BUCKETS, seconds)] += 1
        timings.total += seconds
        if error is not None:
            self.errors.labels(str(error.code), type(error).__name__).inc()

    def frames_received(self, message: str | bytes) -> None:
        """Count an incoming message's bytes."""
        self.received += _size(message)

    def frames_sent(self, frames: Iterable[str | bytes | Frame]) -> None:
        """Count outgoing messages' bytes."""
        for frame in frames:
            self.sent += _size(frame)

    def exposition(self) -> bytes:
        """The Prometheus text format of every metric."""
        return generate_latest(self.registry)


class _Timings:
    """One method's request count and duration histogram, as plain numbers."""

    def __init__(self) -> None:
        self.counts = [0] * (len(BUCKETS) + 1)  # the last one is +Inf
        self.total = 0.0


class _Collector:
    """Turns the plain numbers of a :class:`Metrics` into Prometheus metrics at scrape time."""

    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics

    def collect(self) -> Iterator[Metric]:
        m = self.metrics
        requests = CounterMetricFamily("gymie_requests", "Requests handled, by method.", labels=["method"])
        duration = HistogramMetricFamily(
            "gymie_request_duration_seconds", "Time to handle a request, by method.", labels=["method"]
        )
        for name, timings in m._per_method.items():
            cumulative = list(itertools.accumulate(timings.counts))
            requests.add_metric([name], cumulative[-1])
            buckets = [(_bound(b), c) for b, c in zip([*BUCKETS, math.inf], cumulative, strict=True)]
            duration.add_metric([name], buckets, timings.total)
        yield requests
        yield duration
        yield CounterMetricFamily(
            "gymie_received_bytes", "WebSocket message bytes received.", value=m.received
        )
        yield CounterMetricFamily("gymie_sent_bytes", "WebSocket message bytes sent.", value=m.sent)


def _bound(bucket: float) -> str:
    return "+Inf" if bucket == math.inf else repr(float(bucket))


def _size(message: str | bytes | Frame) -> int:
    if not isinstance(message, str) or message.isascii():
        return len(message)
    return len(message.encode("utf-8"))
