"""What the subscription functions print: one line per group that changed or needs a person, one summary per run.

The summary is also Embedded Metric Format: the figures by plain name for people, the same as CloudWatch
metrics (namespace ``logship``, dimension ``FunctionName``) for alarms.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import IO, Any

from logship.core.report import emf_record, emit
from logship.subscribe.backfill import METRICS as BACKFILL_METRICS
from logship.subscribe.subscriptions import Outcome, Result

# Figure in the summary line -> CloudWatch metric name.
FIGURES = {
    "seen": "Seen",
    "subscribed": "Subscribed",
    "already_subscribed": "AlreadySubscribed",
    "updated": "Updated",
    "excluded": "Excluded",
    "limit_blocked": "LimitBlocked",
    "clash": "Clash",
    "gone": "Gone",
    "failed": "Failed",
    "removed": "Removed",
    "retention_set": "RetentionSet",
    "log_class": "LogClassSkipped",  # groups whose class takes no subscription filter: never alarmed
    **BACKFILL_METRICS,  # lines from before a new subscription: read, shipped, left out, failed, ...
}
# Outcomes worth one log line per group: what changed, and what needs a person.
_NOTABLE = {Outcome.SUBSCRIBED: "info", Outcome.UPDATED: "info", Outcome.REMOVED: "info", Outcome.GONE: "info",
            Outcome.RETENTION_SET: "info", Outcome.LIMIT_BLOCKED: "warning", Outcome.CLASH: "warning",
            Outcome.FAILED: "error"}
_MAX_PROBLEMS = 20


@dataclass(slots=True)
class Tally:
    """Counts of one run, by figure name; ``problems`` names the first groups that need a person."""

    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(FIGURES, 0))
    problems: list[str] = field(default_factory=list)

    def add(self, figure: str, n: int = 1) -> None:
        if figure in self.counts:
            self.counts[figure] += n

    def merged(self, other: Mapping[str, int]) -> dict[str, int]:
        return {key: value + int(other.get(key, 0)) for key, value in self.counts.items()}

    def record(self, group: str, result: Result, stream: IO[str] | None = None) -> None:
        """Count a group's outcome; print one line for a change or a problem, naming the group."""
        self.add(result.outcome.value)
        level = _NOTABLE.get(result.outcome) or ("info" if result.answered else None)  # AWS refused the class
        if level is None:
            return
        if level != "info" and len(self.problems) < _MAX_PROBLEMS:
            self.problems.append(f"{group}: {result.detail}")
        line = {"logship": "subscription", "level": level, "log_group": group, "outcome": result.outcome.value}
        if result.detail:
            line["detail"] = result.detail
        emit(line, stream)


def summary(kind: str, tally: Tally, *, namespace: str, function_name: str, started: float,
            extra: Mapping[str, Any] | None = None,
            metrics: Mapping[str, tuple[float, str]] | None = None) -> dict[str, Any]:
    """The run's one summary line: figures by plain name, the same as EMF metrics (namespace, FunctionName).

    ``metrics`` adds metrics of this kind of run only (reconcile's ``Unfinished``), by CloudWatch name.
    """
    figures: dict[str, Any] = dict(tally.counts)
    figures["ms"] = round((time.perf_counter() - started) * 1000, 1)
    emf = {metric: (figures[key], "Count") for key, metric in FIGURES.items()}
    emf["Duration"] = (figures["ms"], "Milliseconds")
    emf.update(metrics or {})
    record = emf_record(namespace, {"FunctionName": function_name}, emf,
                        extra={"logship": kind, **figures, **(extra or {})})
    if tally.problems:
        record["problems"] = tally.problems
    return record
