"""subscribe-log-group's path: a CloudTrail record -> our filter on the group it is about, if selected: the group
``CreateLogGroup`` created, or the one a function logs to when it is created or its logging changes.

A failure raises after the summary line, so Lambda retries the event twice and then keeps it in the
subscription dead-letter queue; the next complete sweep covers the group either way.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import IO, Any

from botocore.exceptions import BotoCoreError, ClientError

from logship.core.aws_calls import OutOfTimeError, error_code
from logship.core.report import emit
from logship.core.selection import LAMBDA_PREFIX, Verdict
from logship.subscribe.cloudtrail_records import CreatedLogGroup, created_log_group, function_logging
from logship.subscribe.function_groups import log_group_of
from logship.subscribe.report import Tally, summary
from logship.subscribe.subscriber import Subscriber, unreadable_tags
from logship.subscribe.subscriptions import Outcome, Result

# Retries stop this long before the deadline: time for the summary line and Lambda's own bookkeeping.
RESERVE_MS = 5_000


class SubscribeError(RuntimeError):
    """A group could not be subscribed for a reason other than AWS's limit; raising lets Lambda retry."""


def _subscribe(created: CreatedLogGroup, subscriber: Subscriber, tally: Tally, extra: dict[str, Any],
               stream: IO[str] | None, *, writers: tuple[str, ...] | None = None,
               listed: dict[str, Any] | None = None) -> None:
    """``writers``: the functions logging to the group, when a Lambda record named it (else looked up for a
    custom group); ``listed``: the group as DescribeLogGroups gave it."""
    name = str(created.name)
    if writers is None:
        try:
            writers = _writers(subscriber, name)
        except (ClientError, BotoCoreError, OutOfTimeError) as exc:
            tally.record(name, Result(Outcome.FAILED, "could not list the functions, to tell if one logs to this "
                                                      "group: {}: {}".format(*error_code(exc))), stream)
            extra.update(verdict="unknown", outcome=Outcome.FAILED.value)
            return
    if writers:
        extra["functions"] = list(writers)
    try:
        verdict = subscriber.verdict(name, created.tags, writers)
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
        done = subscriber.subscribe(name, tally, stream, listed=listed, created_ms=created.created_ms,
                                    log_class=created.log_class, again=True)
    except OutOfTimeError as exc:
        tally.record(name, Result(Outcome.FAILED, str(exc)), stream)
        extra["outcome"] = Outcome.FAILED.value
        return
    extra["outcome"] = done.result.outcome.value
    if done.backfill is not None:
        extra["backfill"] = done.backfill.to_dict()
    if done.retention:
        extra["retention"] = done.retention


def _writers(subscriber: Subscriber, name: str) -> tuple[str, ...]:
    """The functions logging to a group a CreateLogGroup record names: looked up only for a custom group (no
    name prefix selects it), so a Lambda default group or an unrelated one costs no Lambda call."""
    selection = subscriber.selection
    if not selection.function_groups or name.startswith((*selection.include_prefixes, LAMBDA_PREFIX)):
        return ()
    return subscriber.functions.writers(name)


def _function_group(detail: dict[str, Any], subscriber: Subscriber, tally: Tally, extra: dict[str, Any],
                    stream: IO[str] | None) -> None:
    """A function created, or its logging changed: subscribe the group it logs to, if that exists yet."""
    found = function_logging(detail)
    extra["function"] = found.function
    if found.skipped or not subscriber.config.function_log_groups:
        reason = found.skipped or "FunctionLogGroups is false: groups are found by name only"
        extra.update(skipped=reason, level="warning" if found.error_code else "info")
        return
    function = str(found.function)
    try:
        name = found.log_group or log_group_of(
            subscriber.lambda_.call("GetFunctionConfiguration", {"FunctionName": function}))
        extra["log_group"] = name
        group = subscriber.filters.describe_group(name)
    except (ClientError, BotoCoreError, OutOfTimeError) as exc:
        code, message = error_code(exc)
        if code == "ResourceNotFoundException":
            extra.update(skipped=f"{function} was deleted since", level="info")
            return
        tally.add("seen")
        tally.record(extra.get("log_group") or function, Result(Outcome.FAILED, (
            f"could not find where {function} logs ({code}: {message})")), stream)
        extra["outcome"] = Outcome.FAILED.value
        return
    if group is None:
        extra.update(skipped=f"{name} does not exist yet: Lambda creates it when {function} first logs, and its "
                             "CreateLogGroup event (or the next sweep) subscribes it", level="info")
        return
    tally.add("seen")
    _subscribe(CreatedLogGroup(name), subscriber, tally, extra, stream, writers=(function,), listed=group)


def subscribe_created_group(event: Any, subscriber: Subscriber, stream: IO[str] | None = None,
                            remaining_ms: Callable[[], int] | None = None) -> dict[str, Any]:
    """Subscribe the group a CloudTrail record is about, if selected: the group ``CreateLogGroup`` created, or
    the one a function created or reconfigured logs to; print one summary line.

    Raises :class:`SubscribeError` when the group is left unsubscribed, or its earlier lines unshipped, for a
    reason a retry may fix.
    """
    started = time.perf_counter()
    subscriber.begin(remaining_ms or (lambda: 10**9), RESERVE_MS)
    detail = event.get("detail") if isinstance(event, dict) else None
    tally = Tally()
    if isinstance(detail, dict) and detail.get("eventSource") == "lambda.amazonaws.com":
        extra: dict[str, Any] = {"call": detail.get("eventName")}
        _function_group(detail, subscriber, tally, extra, stream)
    else:
        created = created_log_group(event)
        extra = {"log_group": created.name}
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
        raise SubscribeError(f"could not {what} {extra.get('log_group')}: {'; '.join(tally.problems)}. Lambda "
                             "retries this event twice, then keeps it in the subscription dead-letter queue; the "
                             "next complete reconcile sweep tries again")
    return record
