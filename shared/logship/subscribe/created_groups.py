"""subscribe-log-group's path: a CloudTrail ``CreateLogGroup`` record -> our filter on the new group, if selected.

A failure raises after the summary line, so Lambda retries the event twice and then keeps it in the
subscription dead-letter queue; the next complete sweep covers the group either way.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import IO, Any

from botocore.exceptions import BotoCoreError, ClientError

from logship.core.aws_calls import OutOfTimeError
from logship.core.report import emit
from logship.subscribe.report import Tally, summary
from logship.subscribe.selection import CreatedLogGroup, Verdict, created_log_group
from logship.subscribe.subscriber import Subscriber, unreadable_tags
from logship.subscribe.subscriptions import Outcome, Result

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
        # again=True: Lambda retries an event whose backfill failed; the group is subscribed by then
        done = subscriber.subscribe(name, tally, stream, created_ms=created.created_ms, log_class=created.log_class,
                                    again=True)
    except OutOfTimeError as exc:
        tally.record(name, Result(Outcome.FAILED, str(exc)), stream)
        extra["outcome"] = Outcome.FAILED.value
        return
    extra["outcome"] = done.result.outcome.value
    if done.backfill is not None:
        extra["backfill"] = done.backfill.to_dict()
    if done.retention:
        extra["retention"] = done.retention


def subscribe_created_group(event: Any, subscriber: Subscriber, stream: IO[str] | None = None,
                            remaining_ms: Callable[[], int] | None = None) -> dict[str, Any]:
    """Subscribe the group a CloudTrail ``CreateLogGroup`` record created, if selected; print one summary line.

    Raises :class:`SubscribeError` when the group is left unsubscribed, or its earlier lines unshipped, for a
    reason a retry may fix.
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
    if tally.counts["failed"] or tally.counts["backfill_failed"]:
        what = "subscribe" if tally.counts["failed"] else "ship the earlier lines of"
        raise SubscribeError(f"could not {what} {created.name}: {'; '.join(tally.problems)}. Lambda retries this "
                             "event twice, then keeps it in the subscription dead-letter queue; the next complete "
                             "reconcile sweep tries again")
    return record
