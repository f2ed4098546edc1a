"""Prometheus histograms of the inference pool: how many uploads each batch holds, how long they waited.

Made in the worker process once BentoML has set up Prometheus' multiprocess directory (as
``service.predlog.metrics`` explains); the pool calls :meth:`PoolMetrics.observe` each time it
hands a batch to an inference process.
"""

from __future__ import annotations

BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64)
QUEUE_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


class PoolMetrics:
    """``digitify_inference_batch_size`` and ``digitify_inference_queue_seconds`` histograms."""

    def __init__(self) -> None:
        import prometheus_client as prometheus  # here, not at import time: see the module docstring

        self.batch_size = prometheus.Histogram(
            "digitify_inference_batch_size", "uploads in each batch sent to an inference process", buckets=BATCH_BUCKETS
        )
        self.queue_seconds = prometheus.Histogram(
            "digitify_inference_queue_seconds",
            "seconds the oldest request of a batch waited for an idle inference process",
            buckets=QUEUE_BUCKETS,
        )

    def observe(self, uploads: int, waited: float) -> None:
        """Record one batch handed to an inference process."""
        self.batch_size.observe(uploads)
        self.queue_seconds.observe(waited)
