"""CloudWatch metrics derived from a batch's documents, printed as Embedded Metric Format.

Per function: ``Invocations``, ``ColdStarts``, ``Timeouts``, ``Errors`` seen in the batch, and every
``MONITORING|epoch|value|unit|name`` line as its own metric at the line's own timestamp. Printing EMF
costs no API call on the hot path; the shipper's own log group is never subscribed, so no loop.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from logship.core.report import emf_record

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


# The actions a line is counted for (a START or END line counts for nothing, unless it says ERROR).
_COUNTED_ACTIONS = frozenset(("report", "timeout"))


def _is_timeout(fields: dict[str, Any]) -> bool:
    """A ``Task timed out`` line, or a report whose status says timeout (``Timeout``, ``Sandbox.Timedout``)."""
    event, error_type = fields.get("event", {}), str(fields.get("error", {}).get("type", "")).lower()
    return event.get("action") == "timeout" or (
        event.get("action") == "report" and ("timeout" in error_type or "timedout" in error_type))


class FunctionCounts:
    """What one function's lines of a batch add up to."""

    __slots__ = ("cold", "errors", "invocations", "last_seen", "lines", "series", "timeouts")

    def __init__(self) -> None:
        self.invocations = self.cold = self.last_seen = self.lines = 0
        self.timeouts: set[str] = set()
        self.errors: set[str] = set()
        self.series: dict[int, dict[str, tuple[list[float], str]]] = defaultdict(dict)  # ms -> name -> values

    def saw(self, lines: int, last: int) -> None:
        """Lines of the function, whatever their fields, and the latest of their timestamps."""
        self.lines += lines
        self.last_seen = max(self.last_seen, last)

    def add(self, fields: dict[str, Any], event_id: str) -> None:
        """One line's fields (as the parser gave them, after stack joining) and its event's id."""
        event, log = fields.get("event"), fields.get("log")
        action = event.get("action") if event else None
        error = log is not None and log.get("level") in ("ERROR", "FATAL")
        if action not in _COUNTED_ACTIONS and not error and "metric" not in fields:  # most lines: nothing to count
            return
        faas = fields.get("faas")
        execution = (faas.get("execution") if faas else None) or event_id
        if action == "report":
            self.invocations += 1
            self.cold += bool(faas.get("coldstart"))  # type: ignore[union-attr]  # a report always has faas
        if action in ("timeout", "report") and _is_timeout(fields):
            self.timeouts.add(execution)
        if error:
            self.errors.add(execution)
        metric = fields.get("metric")
        if metric:
            values, _unit = self.series[metric["timestamp_ms"]].setdefault(
                metric["name"], ([], cloudwatch_unit(metric["unit"])))
            values.append(metric["value"])

    def counts(self) -> dict[str, float]:
        return {"Invocations": self.invocations, "ColdStarts": self.cold, "Timeouts": len(self.timeouts),
                "Errors": len(self.errors)}


class FunctionMetrics:
    """A batch's metrics, gathered while its documents are built: nothing of the documents is kept for them."""

    def __init__(self) -> None:
        self._functions: dict[str, FunctionCounts] = {}

    def function(self, name: str) -> FunctionCounts:
        """The counts of ``name``: ``saw(lines, last_timestamp)`` for every line, ``add(fields, event_id)`` for
        each line with fields, in the batch's order."""
        return self._functions.setdefault(name, FunctionCounts())

    def records(self, namespace: str) -> list[dict[str, Any]]:
        """EMF records: one with the four counts per function, then the MONITORING metrics."""
        records = []
        for function, seen in self._functions.items():
            if not seen.lines:
                continue
            dimensions = {"FunctionName": function}
            counts = {metric: (value, "Count") for metric, value in seen.counts().items()}
            records.append(emf_record(namespace, dimensions, counts, timestamp_ms=seen.last_seen))
            records.extend(_monitoring_records(namespace, dimensions, seen.series))
        return records


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _monitoring_records(namespace: str, dimensions: dict[str, str],
                        series: dict[int, dict[str, tuple[list[float], str]]]) -> Iterator[dict[str, Any]]:
    for timestamp, metrics in sorted(series.items()):
        metrics = {name: found for name, found in metrics.items() if name not in dimensions and name != "_aws"}
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
