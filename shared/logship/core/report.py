"""Structured log lines that are also CloudWatch Embedded Metric Format, for every function's report.

A single JSON object carries the figures for people (grep, Logs Insights) and, under ``_aws``, the
metric definitions CloudWatch extracts from it: no PutMetricData call on the hot path.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Mapping
from typing import IO, Any


def emf_record(
    namespace: str,
    dimensions: Mapping[str, str],
    metrics: Mapping[str, tuple[float | list[float], str]],
    *,
    timestamp_ms: int | None = None,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """An EMF root object: ``metrics`` maps name -> (value or up to 100 values, unit); at most 100 metrics."""
    if len(metrics) > 100:
        raise ValueError("an EMF record holds at most 100 metrics; split them")
    record: dict[str, Any] = dict(extra or {})
    record.update(dimensions)
    record.update({name: value for name, (value, _unit) in metrics.items()})
    record["_aws"] = {
        "Timestamp": int(time.time() * 1000) if timestamp_ms is None else timestamp_ms,
        "CloudWatchMetrics": [{
            "Namespace": namespace,
            "Dimensions": [list(dimensions)],
            "Metrics": [{"Name": name, "Unit": unit} for name, (_value, unit) in metrics.items()],
        }],
    }
    return record


def emit(record: Mapping[str, Any], stream: IO[str] | None = None) -> None:
    """Print one JSON line to stdout (Lambda sends stdout to CloudWatch Logs as-is)."""
    print(json.dumps(record, separators=(",", ":"), default=str), file=stream or sys.stdout, flush=True)
