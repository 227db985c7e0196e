"""CloudWatch metrics derived from a batch's documents, printed as Embedded Metric Format.

Per function: ``Invocations``, ``ColdStarts``, ``Timeouts``, ``Errors`` seen in the batch, and every
``MONITORING|epoch|value|unit|name`` line as its own metric at the line's own timestamp. Printing EMF
costs no API call on the hot path; the shipper's own log group is never subscribed, so no loop.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from typing import Any

from logship.documents import Document
from logship.report import emf_record

MAX_METRICS_PER_RECORD = 100
MAX_VALUES_PER_METRIC = 100
_UNITS = {
    "count": "Count", "ms": "Milliseconds", "milliseconds": "Milliseconds", "millisecond": "Milliseconds",
    "s": "Seconds", "seconds": "Seconds", "second": "Seconds", "us": "Microseconds", "microseconds": "Microseconds",
    "bytes": "Bytes", "byte": "Bytes", "kilobytes": "Kilobytes", "megabytes": "Megabytes", "percent": "Percent",
}


def cloudwatch_unit(unit: str) -> str:
    """The seeds' ``count``/``milliseconds``/... as CloudWatch units; types like ``histogram`` -> ``None``."""
    return _UNITS.get(unit.strip().lower(), "None")


def _is_timeout(source: dict[str, Any]) -> bool:
    """A ``Task timed out`` line, or a report whose status says timeout (``Timeout``, ``Sandbox.Timedout``)."""
    event, error_type = source.get("event", {}), str(source.get("error", {}).get("type", "")).lower()
    return event.get("action") == "timeout" or (
        event.get("action") == "report" and ("timeout" in error_type or "timedout" in error_type))


def _counts(sources: list[dict[str, Any]]) -> dict[str, float]:
    invocations = cold = 0
    timeouts: set[str] = set()
    errors: set[str] = set()
    for source in sources:
        event = source.get("event", {})
        execution = source.get("faas", {}).get("execution") or source["aws"]["cloudwatch"]["event_id"]
        if event.get("action") == "report":
            invocations += 1
            cold += bool(source["faas"].get("coldstart"))
        if _is_timeout(source):
            timeouts.add(execution)
        if source.get("log", {}).get("level") in ("ERROR", "FATAL"):
            errors.add(execution)
    return {"Invocations": invocations, "ColdStarts": cold, "Timeouts": len(timeouts), "Errors": len(errors)}


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def metric_records(documents: Iterable[Document], namespace: str) -> list[dict[str, Any]]:
    """EMF records for a batch: one with the four counts per function, then the MONITORING metrics."""
    by_function: dict[str, list[dict[str, Any]]] = defaultdict(list)
    last_seen: dict[str, int] = {}
    for document in documents:
        name = document.source.get("faas", {}).get("name")
        if name:
            by_function[name].append(document.source)
            last_seen[name] = max(last_seen.get(name, 0), document.timestamp)
    records = []
    for function, sources in by_function.items():
        dimensions = {"FunctionName": function}
        counts = {metric: (value, "Count") for metric, value in _counts(sources).items()}
        records.append(emf_record(namespace, dimensions, counts, timestamp_ms=last_seen[function]))
        records.extend(_monitoring_records(namespace, dimensions, sources))
    return records


def _monitoring_records(namespace: str, dimensions: dict[str, str],
                        sources: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    # timestamp -> metric name -> (values, unit)
    series: dict[int, dict[str, tuple[list[float], str]]] = defaultdict(dict)
    for source in sources:
        metric = source.get("metric")
        if not metric or metric["name"] in dimensions or metric["name"] == "_aws":
            continue
        values, _unit = series[metric["timestamp_ms"]].setdefault(
            metric["name"], ([], cloudwatch_unit(metric["unit"])))
        values.append(metric["value"])
    for timestamp, metrics in sorted(series.items()):
        flat = [(name, chunk, unit) for name, (values, unit) in metrics.items()
                for chunk in _chunks(values, MAX_VALUES_PER_METRIC)]
        # One record may hold a name once: split repeated names (over 100 values) into later records.
        while flat:
            batch, seen, rest = [], set(), []
            for item in flat:
                if item[0] in seen or len(batch) == MAX_METRICS_PER_RECORD:
                    rest.append(item)
                else:
                    seen.add(item[0])
                    batch.append(item)
            flat = rest
            yield emf_record(namespace, dimensions,
                             {name: (values if len(values) > 1 else values[0], unit) for name, values, unit in batch},
                             timestamp_ms=timestamp)
