"""Ship what a log group logged before logship's subscription filter existed: a filter does not backfill.

Right after a group is subscribed, its events ingested up to the filter's ``creationTime`` are read
(``FilterLogEvents``) and handed to the shipper in the subscription's own payload shape, so event ids keep
it idempotent: running it again is safe. Bounded by a lookback, a cap and the caller's time; every AWS call
goes through the caller's paced, retried ``call``; failures end in the result, never in an exception.

    result = backfill_group("/aws/lambda/orders", destination_arn=shipper_arn, call=filters.call,
                            deliver=LambdaDeliverer(lambda_client, shipper_arn), config=BackfillConfig.from_env())
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from logship.core.aws_calls import error_code
from logship.core.config import BackfillConfig
from logship.core.timefmt import iso_millis
from logship.subscribe.delivery import Deliver, deliver_split, subscription_event
from logship.subscribe.subscriptions import refused_for_log_class

# ``call(operation, **params) -> response``: e.g. call("FilterLogEvents", logGroupName=...). Raises botocore errors.
Call = Callable[..., dict[str, Any]]

# Figure in ``BackfillResult.figures()`` -> CloudWatch metric name, for the subscription summary line.
METRICS = {
    "backfill_read": "BackfillRead",
    "backfill_shipped": "BackfillShipped",
    "backfill_left_out": "BackfillLeftOut",
    "backfill_too_large": "BackfillTooLarge",
    "backfill_unsent": "BackfillUnsent",
    "backfill_failed": "BackfillFailed",
}
_EVENT_OVERHEAD = 80  # bytes of JSON around a message in ``logEvents``: a batch-size estimate, not a limit
_MAX_ERRORS = 10
_STOPS = {"cap": "capped", "late": "stopped after reading as many lines ingested after the filter as the cap",
          "time": "stopped when time ran short"}
_RETRY_HINT = "run the backfill for this group again to finish: event ids make it safe to repeat"


class BackfillError(RuntimeError):
    """AWS answered something the backfill cannot act on (e.g. a filter without its creationTime)."""


@dataclass(frozen=True, slots=True)
class Subscription:
    """logship's filter on the group: its name (for the payload), its creationTime, its pattern."""

    name: str
    created_ms: int
    pattern: str = ""


@dataclass(frozen=True, slots=True)
class Window:
    """What to read and what of it to ship.

    ``start_ms`` is FilterLogEvents' ``startTime`` (on event timestamps; None: from the group's beginning);
    events ingested after ``ingested_until_ms`` are the filter's to deliver. No ``endTime``: events may carry
    timestamps ahead of their ingestion, and any bound from that tolerance would be a guess.
    """

    start_ms: int | None
    ingested_until_ms: int
    filter_pattern: str = ""

    def params(self, log_group: str) -> dict[str, Any]:
        params: dict[str, Any] = {"logGroupName": log_group}
        if self.start_ms is not None:
            params["startTime"] = self.start_ms
        if self.filter_pattern:  # the lines the filter would have sent, and no others
            params["filterPattern"] = self.filter_pattern
        return params


def choose_window(subscription: Subscription, *, group_created_ms: int, now_ms: int, lookback_ms: int,
                  overlap_ms: int = 0) -> Window:
    """The group's whole life if it began within the lookback, else the lookback on event timestamps.

    A young group has only events ingested since its creation, whatever their timestamps (CloudWatch accepts
    them from days in the past), so reading it from its beginning misses none and costs nothing more. An older
    group is read from ``now - lookback`` by timestamp: reaching further back for lines stamped before the
    lookback would mean reading days of lines ingested before it, only to drop them.
    """
    since = now_ms - lookback_ms
    start = None if group_created_ms >= since else since
    return Window(start, subscription.created_ms + overlap_ms, subscription.pattern)


@dataclass(slots=True)
class BackfillResult:
    """What one group's backfill did. ``to_dict()`` fits in the subscription summary line.

    ``read`` = ``after_filter`` + ``left_out`` + the lines kept, and every kept line ends ``shipped``,
    ``too_large`` (refused alone, named in ``errors``) or ``unsent`` (delivery failed, reason in ``errors``).
    """

    log_group: str
    status: str = "done"  # off | done | capped | out_of_time | no_filter | gone | log_class | failed
    read: int = 0
    shipped: int = 0
    after_filter: int = 0  # ingested after the filter existed: the filter delivers them
    left_out: int = 0  # lines from before the filter seen beyond the cap, not shipped
    more_unread: bool = False  # reading stopped (cap, time, error) with pages left
    too_large: int = 0
    unsent: int = 0
    payloads: int = 0
    cap: int = 0  # the most lines shipped per group (BACKFILL_MAX_EVENTS)
    stopped: str = ""  # why reading stopped early: cap | late | time | error
    errors: list[str] = field(default_factory=list)
    window: dict[str, Any] = field(default_factory=dict)

    def problem(self, text: str) -> None:
        if len(self.errors) < _MAX_ERRORS:
            self.errors.append(text[:1000])
        elif len(self.errors) == _MAX_ERRORS:
            self.errors.append("further errors left out")

    def settle(self) -> None:
        """The status from what happened, worst first."""
        if self.status in ("off", "no_filter", "gone", "log_class"):
            return
        if self.errors:
            self.status = "failed"
        elif self.stopped == "time":
            self.status = "out_of_time"
        elif self.left_out or self.more_unread:
            self.status = "capped"
        else:
            self.status = "done"

    @property
    def failed(self) -> bool:
        """Lines that should have been shipped were not, and nothing will retry by itself: a person should know."""
        return self.status in ("failed", "no_filter", "out_of_time")

    @property
    def detail(self) -> str:
        """One sentence for a person: what was shipped, what was not and why, what to do."""
        text = f"shipped {self.shipped} lines from before the subscription in {self.payloads} payloads " \
               f"({self.read} read, {self.after_filter} ingested after the filter)"
        if self.left_out or self.stopped in _STOPS:
            remained = "more remained unread" if self.more_unread else "none remained unread"
            stop = _STOPS.get(self.stopped, "capped")
            if stop == "capped":
                stop = f"capped at {self.cap} lines (the oldest are shipped)"
            text += f"; {stop}: {self.left_out} more seen and not shipped, {remained}"
        if self.errors:
            text += f"; {'; '.join(self.errors)}"
        if self.status in ("failed", "out_of_time"):
            text += f"; {_RETRY_HINT}"
        return text

    def figures(self) -> dict[str, int]:
        """Counts to add up over a sweep (``METRICS`` names them for CloudWatch)."""
        return {"backfill_read": self.read, "backfill_shipped": self.shipped, "backfill_left_out": self.left_out,
                "backfill_too_large": self.too_large, "backfill_unsent": self.unsent,
                "backfill_failed": int(self.failed)}

    def to_dict(self) -> dict[str, Any]:
        record: dict[str, Any] = {
            "status": self.status, "read": self.read, "shipped": self.shipped, "after_filter": self.after_filter,
            "left_out": self.left_out, "more_unread": self.more_unread, "too_large": self.too_large,
            "unsent": self.unsent, "payloads": self.payloads}
        if self.window:
            record["window"] = self.window
        if self.errors:
            record["errors"] = self.errors
        if self.status != "done":
            record["detail"] = self.detail
        return record


class _Calls:
    """The caller's ``call``, remembering the last operation so a failure can name it."""

    def __init__(self, call: Call) -> None:
        self._call = call
        self.last = ""

    def __call__(self, operation: str, **params: Any) -> dict[str, Any]:
        self.last = operation
        return self._call(operation, **params)


def find_subscription(call: Call, log_group: str, destinations: Collection[str]) -> Subscription | None:
    """The filter sending ``log_group`` to one of ``destinations`` (whatever its name), or None.

    If several do, the oldest: everything ingested since it existed was delivered by it.
    """
    ours: list[Mapping[str, Any]] = []
    params: dict[str, Any] = {"logGroupName": log_group}
    while True:
        page = call("DescribeSubscriptionFilters", **params)
        ours += [f for f in page.get("subscriptionFilters", []) if f.get("destinationArn") in destinations]
        if not page.get("nextToken"):
            break
        params["nextToken"] = page["nextToken"]
    if not ours:
        return None
    undated = [str(f.get("filterName")) for f in ours if not isinstance(f.get("creationTime"), int)]
    if undated:
        raise BackfillError(f"filter {', '.join(undated)} has no creationTime: what it already delivered is unknown")
    oldest = min(ours, key=lambda f: int(f["creationTime"]))
    return Subscription(str(oldest.get("filterName", "")), int(oldest["creationTime"]),
                        str(oldest.get("filterPattern") or ""))


def group_creation_ms(call: Call, log_group: str) -> int | None:
    """The group's creationTime, None if it is gone. The group sorts first among names it prefixes."""
    page = call("DescribeLogGroups", logGroupNamePrefix=log_group, limit=1)
    found = [g for g in page.get("logGroups", []) if g.get("logGroupName") == log_group]
    return int(found[0]["creationTime"]) if found else None


class _Batcher:
    """Kept events in per-stream batches, in read order, delivered as they fill; holds a few batches at most."""

    def __init__(self, deliver: Deliver, *, owner: str, log_group: str, filter_name: str, batch_bytes: int,
                 result: BackfillResult) -> None:
        self._deliver = deliver
        self._owner, self._group, self._filter = owner, log_group, filter_name
        self._batch_bytes = batch_bytes
        self._result = result
        self._buffers: dict[str, list[dict[str, Any]]] = {}
        self._sizes: dict[str, int] = {}
        self._held = 0
        self.stopped = False  # a delivery failed: what follows is counted, not sent

    def add(self, event: Mapping[str, Any]) -> None:
        stream = str(event["logStreamName"])
        item = {"id": event["eventId"], "timestamp": event["timestamp"], "message": event["message"]}
        size = len(item["message"]) + _EVENT_OVERHEAD
        if self._buffers.get(stream) and self._sizes[stream] + size > self._batch_bytes:
            self._send(stream)
        self._buffers.setdefault(stream, []).append(item)
        self._sizes[stream] = self._sizes.get(stream, 0) + size
        self._held += size
        if self._held > 4 * self._batch_bytes:  # many streams, each with little: bound memory, not batch count
            self.flush()

    def flush(self) -> None:
        for stream in list(self._buffers):
            self._send(stream)

    def _send(self, stream: str) -> None:
        events = self._buffers.pop(stream)
        self._held -= self._sizes.pop(stream)
        result = self._result
        if self.stopped:
            result.unsent += len(events)
            return

        def payload(part: Any) -> dict[str, Any]:
            return subscription_event(owner=self._owner, log_group=self._group, log_stream=stream,
                                      filter_name=self._filter, events=part)

        handover = deliver_split(self._deliver, events, payload)
        result.shipped += handover.delivered
        result.payloads += handover.payloads
        for event in handover.too_large:
            result.too_large += 1
            result.problem(f"line {event['id']} of stream {stream} stamped {iso_millis(int(event['timestamp']))} "
                           f"({len(event['message'])} characters) is refused as too large even alone: not shipped")
        if handover.error:
            self.stopped = True
            result.unsent += handover.undelivered
            result.problem(f"delivery to the shipper failed: {handover.error}")


def _read(calls: _Calls, log_group: str, window: Window, config: BackfillConfig, batcher: _Batcher,
          result: BackfillResult, time_left_ms: Callable[[], int] | None) -> None:
    """Page through FilterLogEvents, keeping events ingested up to the filter's creation, up to the cap.

    Ingested at the very millisecond of the filter's creation counts as before: which side AWS puts it on
    is not documented, and a line sent twice is absorbed by its id while a line never sent is lost.
    """
    params = window.params(log_group)
    kept = 0
    while True:
        if time_left_ms is not None and time_left_ms() <= 0:
            result.stopped, result.more_unread = "time", True
            return
        page = calls("FilterLogEvents", **params)
        for event in page.get("events", []):
            result.read += 1
            if int(event["ingestionTime"]) > window.ingested_until_ms:
                result.after_filter += 1
            elif kept < config.max_events:
                kept += 1
                batcher.add(event)
            else:
                result.left_out += 1
        token = page.get("nextToken")
        if not token:
            return
        # Bounded even when run long after subscribing: as many lines ingested since as the cap, at most.
        if batcher.stopped or kept >= config.max_events or result.after_filter >= config.max_events:
            result.more_unread = True
            result.stopped = "error" if batcher.stopped else "cap" if kept >= config.max_events else "late"
            return
        params["nextToken"] = token


def _owner(destination_arn: str) -> str:
    """The account id in ``arn:aws:lambda:REGION:ACCOUNT:function:NAME``: same-account delivery only."""
    return destination_arn.split(":")[4] if destination_arn.count(":") >= 6 else ""


def _failure(exc: Exception, calls: _Calls, result: BackfillResult) -> None:
    code, message = error_code(exc)
    if code == "ResourceNotFoundException" and not result.read:
        result.status = "gone"
        result.problem(f"{calls.last}: the log group was deleted before it could be backfilled")
        return
    if refused_for_log_class(exc) and not result.read:  # a class the filter takes but FilterLogEvents does not read
        result.status = "log_class"
        result.problem(f"{calls.last}: CloudWatch Logs does not read this group's class back ({message}): nothing "
                       "from before the filter is shipped; the filter delivers what is ingested from its creation on")
        return
    result.more_unread = result.more_unread or calls.last == "FilterLogEvents"
    result.stopped = result.stopped or "error"
    result.problem(f"{calls.last or 'backfill'} failed: {code}: {message}"
                   + (f" ({result.shipped} lines read before it were shipped)" if result.read else ""))


def backfill_group(log_group: str, *, destination_arn: str, call: Call, deliver: Deliver, config: BackfillConfig,
                   group_created_ms: int | None = None, time_left_ms: Callable[[], int] | None = None,
                   clock: Callable[[], float] = time.time, subscription: Subscription | None = None,
                   filter_destinations: Collection[str] = (), owner: str = "") -> BackfillResult:
    """Ship ``log_group``'s lines from before its filter to ``destination_arn`` existed; never raises for AWS.

    Call it right after the group is subscribed. ``group_created_ms`` saves a DescribeLogGroups call (a sweep
    has it from its listing); ``time_left_ms`` is how long this may still run (ms; reading stops at 0);
    ``subscription`` is what delivers the group when it is not a filter of its own (an account policy);
    ``filter_destinations`` where that filter may send (a stream in front of the shipper), if not to it;
    ``owner`` the account the payloads name (the group's), if not the shipper's.
    """
    result = BackfillResult(log_group)
    if not config.enabled:
        result.status = "off"
        return result
    calls = _Calls(call)
    try:
        subscription = subscription or find_subscription(calls, log_group,
                                                         filter_destinations or (destination_arn,))
        if subscription is None:
            result.status = "no_filter"
            result.problem(f"no subscription filter on {log_group} sends to {destination_arn}: nothing backfilled "
                           "(its creationTime says which lines it delivers); subscribe the group, then backfill")
            return result
        created = group_created_ms if group_created_ms is not None else group_creation_ms(calls, log_group)
        if created is None:
            result.status = "gone"
            result.problem("the log group was deleted before it could be backfilled")
            return result
        window = choose_window(subscription, group_created_ms=created, now_ms=int(clock() * 1000),
                               lookback_ms=config.lookback_ms, overlap_ms=config.overlap_ms)
        result.window = {"from": "group start" if window.start_ms is None else iso_millis(window.start_ms),
                         "ingested_until": iso_millis(window.ingested_until_ms), "filter": subscription.name}
        ship_window(log_group, window, filter_name=subscription.name, owner=owner or _owner(destination_arn),
                    call=calls, deliver=deliver, config=config, result=result, time_left_ms=time_left_ms)
    except (ClientError, BotoCoreError, BackfillError) as exc:
        _failure(exc, calls, result)
    except Exception as exc:  # never into the subscription path: the group stays subscribed, the reason is kept
        result.problem(f"backfill failed: {type(exc).__name__}: {exc}")
    result.settle()
    return result


def ship_window(log_group: str, window: Window, *, filter_name: str, owner: str, call: Call, deliver: Deliver,
                config: BackfillConfig, result: BackfillResult,
                time_left_ms: Callable[[], int] | None = None) -> None:
    """Read ``window`` of ``log_group`` and deliver what it keeps; what was read is delivered even if reading fails.

    The reusable core (a history backfill from the CLI builds its own :class:`Window`). Raises botocore errors.
    """
    calls = call if isinstance(call, _Calls) else _Calls(call)
    result.cap = config.max_events
    batcher = _Batcher(deliver, owner=owner, log_group=log_group, filter_name=filter_name,
                       batch_bytes=config.batch_bytes, result=result)
    try:
        _read(calls, log_group, window, config, batcher, result, time_left_ms)
    finally:
        batcher.flush()
