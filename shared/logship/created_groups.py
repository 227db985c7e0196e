"""subscribe-log-group's path: a CloudTrail ``CreateLogGroup`` record -> our filter on the new group, if selected.

A failure raises after the summary line, so Lambda retries the event twice and then keeps it in the
subscription dead-letter queue; the next complete sweep covers the group either way.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import IO, Any

from botocore.exceptions import BotoCoreError, ClientError

from logship.aws_calls import OutOfTimeError
from logship.report import emit
from logship.selection import CreatedLogGroup, Verdict, created_log_group
from logship.subscriber import Subscriber, unreadable_tags
from logship.subscription_report import Tally, summary
from logship.subscriptions import Outcome, Result

# Retries stop this long before the deadline: time for the summary line and Lambda's own bookkeeping.
RESERVE_MS = 5_000


class SubscribeError(RuntimeError):
    """A group could not be subscribed for a reason other than AWS's limit; raising lets Lambda retry."""


def _subscribe(created: CreatedLogGroup, subscriber: Subscriber, tally: Tally, extra: dict[str, Any],
               stream: IO[str] | None) -> None:
    name = str(created.name)
    try:
        verdict = subscriber.verdict(name, created.tags)
    except (ClientError, BotoCoreError, OutOfTimeError) as exc:
        result = unreadable_tags(name, exc)
        tally.record(name, result, stream)
        extra.update(verdict="unknown", outcome=result.outcome.value)
        return
    extra["verdict"] = verdict.value
    if verdict is not Verdict.INCLUDED:
        tally.record(name, Result(Outcome.EXCLUDED), stream)
        extra["outcome"] = Outcome.EXCLUDED.value
        return
    try:
        result = subscriber.filters.ensure(name)
    except OutOfTimeError as exc:
        result = Result(Outcome.FAILED, str(exc))
    tally.record(name, result, stream)
    extra["outcome"] = result.outcome.value
    if result.outcome is Outcome.SUBSCRIBED:
        extra["backfill"] = subscriber.backfill(name, tally, stream, group_created_ms=created.created_ms).to_dict()
    days = subscriber.config.retention_days
    if days and result.outcome is not Outcome.GONE:
        extra["retention"] = subscriber.filters.keep_retention(name, days)
        if extra["retention"].startswith("set "):
            tally.add(Outcome.RETENTION_SET.value)


def subscribe_created_group(event: Any, subscriber: Subscriber, stream: IO[str] | None = None,
                            remaining_ms: Callable[[], int] | None = None) -> dict[str, Any]:
    """Subscribe the group a CloudTrail ``CreateLogGroup`` record created, if selected; print one summary line.

    Raises :class:`SubscribeError` only when the group is left unsubscribed for a reason a retry may fix.
    """
    started = time.perf_counter()
    subscriber.begin(remaining_ms or (lambda: 10**9), RESERVE_MS)
    created = created_log_group(event)
    tally = Tally()
    extra: dict[str, Any] = {"log_group": created.name}
    if created.skipped:
        extra.update(skipped=created.skipped, level="warning" if created.error_code else "info")
    else:
        tally.add("seen")
        _subscribe(created, subscriber, tally, extra, stream)
    config = subscriber.config
    record = summary("subscribe-log-group", tally, namespace=config.metrics_namespace,
                     function_name=config.function_name, started=started, extra=extra)
    emit(record, stream)
    if tally.counts["failed"]:
        raise SubscribeError(f"could not subscribe {created.name}: {'; '.join(tally.problems)}. Lambda retries "
                             "this event twice, then keeps it in the subscription dead-letter queue; the next "
                             "complete reconcile sweep tries again")
    return record
