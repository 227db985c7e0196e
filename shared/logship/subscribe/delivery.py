"""Hand log events to the shipper as a CloudWatch Logs subscription does: the same payload, an async invoke.

The payload keeps each event's id, so the shipper's idempotency holds whichever way an event arrives
(the subscription, a backfill, a replay). Payload limits are not assumed: a payload the destination refuses
for its size is split in halves until it fits or is down to one event, which is then reported.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

Deliver = Callable[[dict[str, Any]], None]


class PayloadTooLarge(Exception):
    """The destination refused a payload for its size (Lambda answers 413); the sender splits and tries again."""


class DeliveryError(RuntimeError):
    """The destination answered something other than "queued"; the message says what."""


def subscription_event(*, owner: str, log_group: str, log_stream: str, filter_name: str,
                       events: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The Lambda event a subscription filter sends: ``{"awslogs": {"data": base64(gzip(JSON))}}``.

    ``events`` are ``{"id", "timestamp", "message"}`` items of one log stream, as in ``logEvents``.
    """
    decoded = {"messageType": "DATA_MESSAGE", "owner": owner, "logGroup": log_group, "logStream": log_stream,
               "subscriptionFilters": [filter_name], "logEvents": list(events)}
    data = gzip.compress(json.dumps(decoded, separators=(",", ":")).encode())
    return {"awslogs": {"data": base64.b64encode(data).decode()}}


def _too_large(exc: ClientError) -> bool:
    code = exc.response.get("Error", {}).get("Code")
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return code == "RequestEntityTooLargeException" or status == 413


class LambdaDeliverer:
    """``deliver(event)`` as CloudWatch Logs does it: an asynchronous invoke of the shipper (Lambda queues it).

    >>> deliver = LambdaDeliverer(boto3.client("lambda"), shipper_arn)   # doctest: +SKIP
    >>> deliver(subscription_event(...))                                  # doctest: +SKIP
    """

    def __init__(self, lambda_client: Any, function_arn: str) -> None:
        self._client = lambda_client
        self.function_arn = function_arn

    def __call__(self, event: dict[str, Any]) -> None:
        payload = json.dumps(event, separators=(",", ":")).encode()
        try:
            response = self._client.invoke(FunctionName=self.function_arn, InvocationType="Event", Payload=payload)
        except ClientError as exc:
            if _too_large(exc):
                message = exc.response.get("Error", {}).get("Message", "")
                raise PayloadTooLarge(f"{len(payload)} bytes refused by {self.function_arn}: {message}") from exc
            raise
        status = response.get("StatusCode")
        if status != 202:  # 202 is Lambda's "queued" for InvocationType Event
            raise DeliveryError(f"Invoke of {self.function_arn} answered {status}, not 202 (queued)")


def _refused_for_size(exc: ClientError) -> bool:
    """Kinesis refuses a record over its size limit as invalid input naming the data's length."""
    code, message = exc.response.get("Error", {}).get("Code"), exc.response.get("Error", {}).get("Message", "")
    return _too_large(exc) or (code in ("ValidationException", "InvalidArgumentException")
                               and any(word in message.lower() for word in ("length", "size", "too large")))


class StreamDeliverer:
    """``deliver(event)`` as a cross-account subscription does it: the payload's gzip JSON, one record of the
    central account's stream (a member's backfill: the member cannot invoke the central shipper).

    ``put_record`` is a paced, retried PutRecord (``Calls.call``) acting as the role the central account grants.
    """

    def __init__(self, put_record: Callable[[dict[str, Any]], Any], stream_arn: str) -> None:
        self._put = put_record
        self.stream_arn = stream_arn

    def __call__(self, event: dict[str, Any]) -> None:
        data = base64.b64decode(event["awslogs"]["data"])
        try:  # a key from the content spreads payloads over the shards as evenly as CloudWatch Logs' own
            self._put({"StreamARN": self.stream_arn, "Data": data, "PartitionKey": hashlib.sha256(data).hexdigest()})
        except ClientError as exc:
            if _refused_for_size(exc):
                message = exc.response.get("Error", {}).get("Message", "")
                raise PayloadTooLarge(f"{len(data)} bytes refused by {self.stream_arn}: {message}") from exc
            raise


@dataclass(slots=True)
class Handover:
    """What became of the events given to :func:`deliver_split`."""

    delivered: int = 0  # events in payloads the destination accepted
    payloads: int = 0  # accepted payloads
    too_large: list[Mapping[str, Any]] = field(default_factory=list)  # single events refused for their size
    undelivered: int = 0  # events not handed over because of ``error``
    error: str | None = None  # the first refusal not about size; delivery stopped there


def deliver_split(deliver: Deliver, events: Sequence[Mapping[str, Any]],
                  make_event: Callable[[Sequence[Mapping[str, Any]]], dict[str, Any]]) -> Handover:
    """Deliver ``events`` as one payload; a size refusal splits it in halves, down to single events.

    Halving instead of a byte limit: Lambda's async payload limit has changed before (256 KB, then 1 MB).
    Order is kept. A refusal for another reason stops here: the rest is counted ``undelivered``.
    """
    handover = Handover()
    parts: list[Sequence[Mapping[str, Any]]] = [events] if events else []
    while parts:
        part = parts.pop()
        try:
            deliver(make_event(part))
        except PayloadTooLarge:
            if len(part) == 1:
                handover.too_large.append(part[0])
            else:
                middle = len(part) // 2
                parts += [part[middle:], part[:middle]]  # first half on top: delivered first
            continue
        except Exception as exc:  # any refusal is reported with its reason, never raised into the caller's path
            handover.error = f"{type(exc).__name__}: {exc}"[:1000]
            handover.undelivered = len(part) + sum(len(rest) for rest in parts)
            break
        handover.delivered += len(part)
        handover.payloads += 1
    return handover
