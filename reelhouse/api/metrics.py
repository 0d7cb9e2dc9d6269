"""Prometheus metrics for one app (a registry of its own: no import-time globals).

- ``reelhouse_stream_requests_total{source_kind,status}`` and
  ``reelhouse_stream_bytes_total{source_kind}``: what ``/stream`` served.
- ``reelhouse_stream_first_byte_seconds{source_kind}``: time from the request to the
  first bytes from the source (a seek's cost; benchmarks/seek_latency.py measures it).
- ``reelhouse_ftp_connections{source_id,state}``: each live FTP pool's connections
  (``live``, ``in_use``, ``idle``) and its limit (``size``), read at scrape time.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from reelhouse.playback.direct import StreamObserver
from reelhouse.sources.registry import SourceService

__all__ = ["Metrics"]

#: Seconds; the seek-latency goal is p50 ≤ 5 ms, p99 ≤ 60 ms.
_FIRST_BYTE_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.06, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class _PoolCollector(Collector):
    def __init__(self, sources: SourceService) -> None:
        self.sources = sources

    def collect(self) -> Iterator[Metric]:
        family = GaugeMetricFamily("reelhouse_ftp_connections", "FTP connections per source pool",
                                   labels=["source_id", "state"])
        for source_id, source in self.sources.live_sources():
            pool = getattr(source, "pool", None)
            if pool is None:
                continue
            for state, value in pool.stats.items():
                family.add_metric([str(source_id), state], value)
        yield family


class Metrics:
    """The app's registry and the instruments the routes update."""

    def __init__(self, sources: SourceService) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("reelhouse_stream_requests", "Stream responses",
                                ["source_kind", "status"], registry=self.registry)
        self.bytes = Counter("reelhouse_stream_bytes", "Body bytes sent by /stream",
                             ["source_kind"], registry=self.registry)
        self.first_byte = Histogram("reelhouse_stream_first_byte_seconds",
                                    "Seconds from a stream request to the source's first bytes",
                                    ["source_kind"], buckets=_FIRST_BYTE_BUCKETS,
                                    registry=self.registry)
        self.registry.register(_PoolCollector(sources))

    def stream_observer(self, source_kind: str) -> StreamObserver:
        def observe(status: int, sent: int, first_byte: float) -> None:
            self.requests.labels(source_kind, str(status)).inc()
            self.bytes.labels(source_kind).inc(sent)
            if sent:
                self.first_byte.labels(source_kind).observe(first_byte)

        return observe
