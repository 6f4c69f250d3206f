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

from collections.abc import Callable, Iterable
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    disable_created_metrics,
    generate_latest,
)

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
        self.requests = Counter("gymie_requests", "Requests handled, by method.", ["method"], registry=reg)
        self.errors = Counter(
            "gymie_errors", "Errors replied, by wire code and error class.", ["code", "error"], registry=reg
        )
        self.duration = Histogram(
            "gymie_request_duration_seconds",
            "Time to handle a request, by method.",
            ["method"],
            buckets=BUCKETS,
            registry=reg,
        )
        self.received = Counter("gymie_received_bytes", "WebSocket message bytes received.", registry=reg)
        self.sent = Counter("gymie_sent_bytes", "WebSocket message bytes sent.", registry=reg)
        ProcessCollector(registry=reg)
        # Label children resolved once: a request costs two dict lookups, not two label parses.
        self._per_method: dict[str, tuple[Any, Any]] = {
            name: (self.requests.labels(name), self.duration.labels(name)) for name in [*methods, OTHER]
        }

    def request(self, method: str, seconds: float, error: GymieError | None) -> None:
        """Count one request (the dispatcher calls this)."""
        count, duration = self._per_method.get(method) or self._per_method[OTHER]
        count.inc()
        duration.observe(seconds)
        if error is not None:
            self.errors.labels(str(error.code), type(error).__name__).inc()

    def frames_received(self, message: str | bytes) -> None:
        """Count an incoming message's bytes."""
        self.received.inc(_size(message))

    def frames_sent(self, frames: Iterable[str | bytes]) -> None:
        """Count outgoing messages' bytes."""
        total = sum(_size(frame) for frame in frames)
        if total:
            self.sent.inc(total)

    def exposition(self) -> bytes:
        """The Prometheus text format of every metric."""
        return generate_latest(self.registry)


def _size(message: str | bytes) -> int:
    if isinstance(message, bytes) or message.isascii():
        return len(message)
    return len(message.encode("utf-8"))
