"""Put, update and remove logship's subscription filter on one log group, paced, with one outcome each.

Every call to CloudWatch Logs goes through here: botocore retries throttling with backoff and jitter,
and a pacer per API keeps a sweep under the account's rate limits in the first place.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import IO, Any

from botocore.exceptions import BotoCoreError, ClientError

from logship.config import SubscriberConfig
from logship.report import emf_record, emit
from logship.selection import Selection, Verdict, created_log_group

# Control-plane quotas are per account and region, shared with every other caller. DescribeLogGroups is
# documented at 5 TPS; the per-group calls are paced the same, conservatively.
CALLS_PER_SECOND = {
    "DescribeLogGroups": 5.0,
    "DescribeSubscriptionFilters": 5.0,
    "PutSubscriptionFilter": 5.0,
    "DeleteSubscriptionFilter": 5.0,
    "PutRetentionPolicy": 5.0,
}
RETRIES = {"mode": "standard", "max_attempts": 6}  # exponential backoff with full jitter, throttling included
MAX_FILTERS = 2  # subscription filters per log group: a hard AWS limit


class Outcome(StrEnum):
    SUBSCRIBED = "subscribed"
    ALREADY_SUBSCRIBED = "already_subscribed"
    UPDATED = "updated"  # our filter pointed elsewhere (an older deployment) or had another pattern
    EXCLUDED = "excluded"
    LIMIT_BLOCKED = "limit_blocked"  # two other filters already: AWS's hard limit
    GONE = "gone"  # deleted meanwhile
    FAILED = "failed"
    REMOVED = "removed"
    NOT_SUBSCRIBED = "not_subscribed"


# Figure in the summary line -> CloudWatch metric name.
FIGURES = {
    "seen": "Seen",
    "subscribed": "Subscribed",
    "already_subscribed": "AlreadySubscribed",
    "updated": "Updated",
    "excluded": "Excluded",
    "limit_blocked": "LimitBlocked",
    "gone": "Gone",
    "failed": "Failed",
    "removed": "Removed",
}
# Outcomes worth one log line per group: what changed, and what needs a person.
_NOTABLE = {Outcome.SUBSCRIBED: "info", Outcome.UPDATED: "info", Outcome.REMOVED: "info", Outcome.GONE: "info",
            Outcome.LIMIT_BLOCKED: "warning", Outcome.FAILED: "error"}
_MAX_PROBLEMS = 20


class SubscribeError(RuntimeError):
    """A group could not be subscribed for a reason other than AWS's limit; raising lets Lambda retry."""


@dataclass(frozen=True, slots=True)
class Result:
    outcome: Outcome
    detail: str = ""


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
        level = _NOTABLE.get(result.outcome)
        if level is None:
            return
        if level != "info" and len(self.problems) < _MAX_PROBLEMS:
            self.problems.append(f"{group}: {result.detail}")
        line = {"logship": "subscription", "level": level, "log_group": group, "outcome": result.outcome.value}
        if result.detail:
            line["detail"] = result.detail
        emit(line, stream)


def summary(kind: str, tally: Tally, *, namespace: str, function_name: str, started: float,
            extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The run's one summary line: figures by plain name, the same as EMF metrics (namespace, FunctionName)."""
    figures: dict[str, Any] = dict(tally.counts)
    figures["ms"] = round((time.perf_counter() - started) * 1000, 1)
    metrics = {metric: (figures[key], "Count") for key, metric in FIGURES.items()}
    metrics["Duration"] = (figures["ms"], "Milliseconds")
    record = emf_record(namespace, {"FunctionName": function_name}, metrics,
                        extra={"logship": kind, **figures, **(extra or {})})
    if tally.problems:
        record["problems"] = tally.problems
    return record


class Pacer:
    """At most ``rate`` calls per second: waits just long enough before each. Clock and sleep are injectable."""

    def __init__(self, rate: float, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] | None = None) -> None:
        self._interval = 1.0 / rate
        self._clock = clock
        self._sleep = sleep
        self._next = float("-inf")

    def wait(self) -> None:
        now = self._clock()
        if now < self._next:
            (self._sleep or time.sleep)(self._next - now)
            now = self._next
        self._next = now + self._interval


def aws_client(service: str, region: str) -> Any:
    """A boto3 client that retries throttling and transient errors with backoff and jitter."""
    import boto3
    from botocore.config import Config

    # Control-plane calls answer in well under a second: short timeouts keep one group's worst case
    # (6 attempts with backoff) inside reconcile's continuation margin.
    return boto3.client(service, region_name=region,
                        config=Config(retries=dict(RETRIES), connect_timeout=3, read_timeout=5))


def _error(exc: ClientError | BotoCoreError) -> tuple[str, str]:
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        return str(error.get("Code", "Unknown")), str(error.get("Message", exc))
    return type(exc).__name__, str(exc)


class SubscriptionFilters:
    """logship's filter on one group at a time: ``SubscriptionFilters(logs, config).ensure("/aws/lambda/orders")``."""

    def __init__(self, logs: Any, config: SubscriberConfig, *, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] | None = None) -> None:
        self._logs = logs
        self._config = config
        self._pacers = {name: Pacer(rate, clock, sleep) for name, rate in CALLS_PER_SECOND.items()}

    def _call(self, operation: str, method: str, **params: Any) -> dict[str, Any]:
        self._pacers[operation].wait()
        return getattr(self._logs, method)(**params)

    def list_groups(self, prefix: str, token: str | None = None) -> tuple[list[dict[str, Any]], str | None]:
        """One page (up to 50) of groups named ``prefix...``, sorted by name, and the token of the next page."""
        params: dict[str, Any] = {"logGroupNamePrefix": prefix, "limit": 50}
        if token:
            params["nextToken"] = token
        page = self._call("DescribeLogGroups", "describe_log_groups", **params)
        return page.get("logGroups", []), page.get("nextToken")

    def _filters(self, group: str) -> list[dict[str, Any]]:
        return self._call("DescribeSubscriptionFilters", "describe_subscription_filters",
                          logGroupName=group).get("subscriptionFilters", [])

    def ensure(self, group: str) -> Result:
        """Our filter on ``group`` with the configured destination and pattern; nothing done if already so."""
        config = self._config
        filters: list[dict[str, Any]] = []
        ours: dict[str, Any] | None = None
        try:
            filters = self._filters(group)
            ours = next((f for f in filters if f.get("filterName") == config.filter_name), None)
            if ours and ours.get("destinationArn") == config.destination_arn \
                    and ours.get("filterPattern", "") == config.filter_pattern:
                return Result(Outcome.ALREADY_SUBSCRIBED)
            if ours is None and len(filters) >= MAX_FILTERS:
                # Known before asking: botocore counts LimitExceededException as throttling and would retry it.
                return self._limit_blocked(filters)
            self._call("PutSubscriptionFilter", "put_subscription_filter", logGroupName=group,
                       filterName=config.filter_name, filterPattern=config.filter_pattern,
                       destinationArn=config.destination_arn)
        except (ClientError, BotoCoreError) as exc:
            return self._failure(exc, filters, "subscribed")
        if ours is None:
            return Result(Outcome.SUBSCRIBED)
        return Result(Outcome.UPDATED, f"was {ours.get('destinationArn')} with pattern {ours.get('filterPattern')!r}")

    def remove(self, group: str) -> Result:
        """Delete every filter on ``group`` that sends to our destination (it is about to be deleted)."""
        try:
            ours = [f["filterName"] for f in self._filters(group)
                    if f.get("destinationArn") == self._config.destination_arn]
            for name in ours:
                self._call("DeleteSubscriptionFilter", "delete_subscription_filter", logGroupName=group,
                           filterName=name)
        except (ClientError, BotoCoreError) as exc:
            return self._failure(exc, [], "unsubscribed")
        if not ours:
            return Result(Outcome.NOT_SUBSCRIBED)
        return Result(Outcome.REMOVED, f"filter {', '.join(ours)}")

    def keep_retention(self, group: str, days: int) -> str:
        """Give a new group ``days`` of retention unless it already has one (its creator chose it)."""
        try:
            page = self._call("DescribeLogGroups", "describe_log_groups", logGroupNamePrefix=group, limit=1)
            found = [g for g in page.get("logGroups", []) if g.get("logGroupName") == group]
            if not found:
                return "gone"
            if found[0].get("retentionInDays"):
                return f"kept {found[0]['retentionInDays']} days"
            self._call("PutRetentionPolicy", "put_retention_policy", logGroupName=group, retentionInDays=days)
        except (ClientError, BotoCoreError) as exc:
            code, message = _error(exc)
            return f"failed: {code}: {message}"
        return f"set {days} days"

    @staticmethod
    def _limit_blocked(filters: list[dict[str, Any]]) -> Result:
        names = ", ".join(f"{f.get('filterName')} -> {f.get('destinationArn')}" for f in filters) or "two others"
        return Result(Outcome.LIMIT_BLOCKED, f"already has {MAX_FILTERS} subscription filters ({names}), the most "
                                             "AWS allows; remove one and the next reconcile subscribes the group")

    @staticmethod
    def _failure(exc: ClientError | BotoCoreError, filters: list[dict[str, Any]], verb: str) -> Result:
        code, message = _error(exc)
        if code == "LimitExceededException":  # a filter was added since we looked
            return SubscriptionFilters._limit_blocked(filters)
        if code == "ResourceNotFoundException":
            return Result(Outcome.GONE, f"deleted before it could be {verb}")
        return Result(Outcome.FAILED, f"{code}: {message}")


@dataclass(slots=True)
class Subscriber:
    """What both subscription functions build once per cold start: settings, selection, filter operations."""

    config: SubscriberConfig
    selection: Selection
    filters: SubscriptionFilters
    _lambda: Any = None

    def lambda_client(self) -> Any:
        """Built on first use: only a sweep that continues in a new invocation needs it."""
        if self._lambda is None:
            self._lambda = aws_client("lambda", self.config.region)
        return self._lambda

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Subscriber:
        config = SubscriberConfig.from_env(env)
        selection = Selection(config.include_prefixes, config.exclude, config.own_log_groups)
        return cls(config, selection, SubscriptionFilters(aws_client("logs", config.region), config))


def subscribe_created_group(event: Any, subscriber: Subscriber, stream: IO[str] | None = None) -> dict[str, Any]:
    """The CloudTrail ``CreateLogGroup`` path: subscribe the new group if selected, print one summary line.

    Raises :class:`SubscribeError` only when AWS refused for a reason a retry may fix.
    """
    started = time.perf_counter()
    created = created_log_group(event)
    tally = Tally()
    extra: dict[str, Any] = {"log_group": created.name}
    if created.skipped:
        extra.update(skipped=created.skipped, level="warning" if created.error_code else "info")
    else:
        name = str(created.name)
        tally.add("seen")
        verdict = subscriber.selection.verdict(name)
        extra["verdict"] = verdict.value
        if verdict is Verdict.INCLUDED:
            result = subscriber.filters.ensure(name)
            tally.record(name, result, stream)
            extra["outcome"] = result.outcome.value
            if subscriber.config.retention_days and result.outcome is not Outcome.GONE:
                extra["retention"] = subscriber.filters.keep_retention(name, subscriber.config.retention_days)
        else:
            tally.record(name, Result(Outcome.EXCLUDED), stream)
            extra["outcome"] = Outcome.EXCLUDED.value
    config = subscriber.config
    record = summary("subscribe-log-group", tally, namespace=config.metrics_namespace,
                     function_name=config.function_name, started=started, extra=extra)
    emit(record, stream)
    if tally.counts["failed"]:
        raise SubscribeError(f"could not subscribe {created.name}: {'; '.join(tally.problems)}. Lambda retries "
                             "this event twice; the next reconcile sweep tries again")
    return record
