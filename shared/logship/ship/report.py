"""What ship-logs prints once per invocation: its figures, also as Embedded Metric Format for the alarms."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from logship.core.report import emf_record

# Figure name in the log line -> (metric name, unit).
SHIPPER_METRICS = {
    "events_in": ("EventsIn", "Count"),
    "indexed": ("Indexed", "Count"),
    "duplicates": ("Duplicates", "Count"),
    "degraded": ("Degraded", "Count"),
    "failed": ("Failed", "Count"),
    "pending": ("Pending", "Count"),
    "retried": ("Retried", "Count"),
    "bytes": ("BytesSent", "Bytes"),
    "ms": ("Duration", "Milliseconds"),
}


def shipper_summary(figures: Mapping[str, Any], *, namespace: str, function_name: str) -> dict[str, Any]:
    """The per-invocation line: every figure by its plain name, the metric copies by CloudWatch name."""
    metrics = {metric: (figures[key], unit) for key, (metric, unit) in SHIPPER_METRICS.items()}
    return emf_record(namespace, {"FunctionName": function_name}, metrics,
                      extra={"logship": "ship-logs", **figures})
