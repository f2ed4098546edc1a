"""Prometheus gauges of the prediction log: rows waiting in the spool, rows in quarantine, a stuck flusher.

The gauges are made in the worker process, after BentoML has set up Prometheus' multiprocess
directory (importing ``prometheus_client`` earlier would make them invisible on ``/metrics``);
across workers the largest value counts, since they share one spool.
"""

from __future__ import annotations

from typing import Any

from service.predlog.logbook import LogbookStatus


class LogMetrics:
    """Publish a LogbookStatus as ``digitify_log_*`` gauges."""

    def __init__(self) -> None:
        import prometheus_client as prometheus  # here, not at import time: see the module docstring

        def gauge(name: str, documentation: str) -> Any:
            return prometheus.Gauge(name, documentation, multiprocess_mode="livemax")

        self.spooled = gauge("digitify_log_spooled_rows", "prediction-log rows waiting in the spool")
        self.capacity = gauge("digitify_log_spool_max_rows", "rows the spool takes before predictions are refused")
        self.quarantined = gauge("digitify_log_quarantined_rows", "prediction-log rows the database refused for good")
        self.stuck = gauge("digitify_log_flusher_stuck", "1 while the flusher is dead or makes no progress")
        self.idle = gauge("digitify_log_seconds_since_progress", "seconds since rows last reached the database")

    def publish(self, status: LogbookStatus) -> None:
        """Set the gauges from ``status``."""
        self.spooled.set(status.spooled_rows)
        self.capacity.set(status.max_rows)
        self.quarantined.set(status.quarantined_rows)
        self.stuck.set(1 if status.stuck else 0)
        self.idle.set(status.seconds_since_progress)
