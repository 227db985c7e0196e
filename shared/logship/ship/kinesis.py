"""ship-logs behind a Kinesis data stream: each record is one CloudWatch Logs subscription payload.

Lambda's event source mapping hands over a batch of one shard's records, in order, and with
``ReportBatchItemFailures`` retries from the lowest sequence number reported (the later records come again).
So the records are shipped in order, consecutive ones together (their documents share bulk requests: one
request per record would cost a round trip each), and the first record of the first run whose events are not
all indexed (the cluster refused, time ran short) is reported, nothing after it tried: Kinesis redelivers it
and what follows, and the events' ids keep each one once. A record that can never be read (not a CloudWatch
Logs payload) is kept in the dead-letter queue with the reason, in Lambda's own on-failure shape, and counted
done, so one poison record never holds up its shard.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import IO, Any

from logship.core.report import emit
from logship.ship.payload import Delivery, PayloadError, read_delivery

KINESIS_SOURCE = "aws:kinesis"
Keep = Callable[[str], None]  # sends one dead-letter message (its JSON body); raises when it could not


def is_kinesis_event(event: Any) -> bool:
    """An event source mapping's batch of Kinesis records (rather than a subscription's ``awslogs``)."""
    records = event.get("Records") if isinstance(event, dict) else None
    return bool(records) and isinstance(records[0], dict) and records[0].get("eventSource") == KINESIS_SOURCE


def poison_message(record: Mapping[str, Any], reason: str, function_arn: str) -> str:
    """A record no retry can ship, as Lambda's on-failure record would hold an event: ``logship redrive`` lists
    it with the reason (and leaves it for a person: it cannot be replayed)."""
    kinesis = record.get("kinesis") or {}
    return json.dumps({
        "version": "1.0", "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
        "requestContext": {"requestId": record.get("eventID", ""), "functionArn": function_arn,
                           "condition": "PoisonRecord", "approximateInvokeCount": 1},
        "requestPayload": {"awslogs": {"data": kinesis.get("data", "")}},
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
        "responsePayload": {"errorType": "PayloadError", "errorMessage": reason},
        "kinesis": {"eventSourceARN": record.get("eventSourceARN", ""),
                    "partitionKey": kinesis.get("partitionKey", ""),
                    "sequenceNumber": kinesis.get("sequenceNumber", "")}})


Records = list[dict[str, Any]]


def _groups(records: Records, max_events: int, max_bytes: int) -> Iterator[tuple[Records, list[Delivery] | str]]:
    """The records in order, read: runs of readable ones no larger together than a bulk request carries (at most
    ``max_events`` events and ``max_bytes`` of JSON, or one delivery alone), and each unreadable one alone with
    why. Read as they are shipped: a run and the record after it at most are in memory at once, never the batch."""
    run: Records = []
    deliveries: list[Delivery] = []
    events = size = 0
    for record in records:
        try:
            delivery = read_delivery({"awslogs": {"data": (record.get("kinesis") or {}).get("data", "")}})
        except PayloadError as exc:
            if run:
                yield run, deliveries
                run, deliveries, events, size = [], [], 0, 0
            yield [record], str(exc)
            continue
        if run and (events + delivery.size > max_events or size + delivery.raw_bytes > max_bytes):
            yield run, deliveries
            run, deliveries, events, size = [], [], 0, 0
        run.append(record)
        deliveries.append(delivery)
        events, size = events + delivery.size, size + delivery.raw_bytes
    if run:
        yield run, deliveries


@dataclass(slots=True)
class RecordsOutcome:
    """What became of a batch's records: shipped (in ``runs``), kept as unreadable, or left from ``retry_from``."""

    records: int
    shipped: int = 0
    runs: int = 0
    kept_unreadable: int = 0
    retry_from: str | None = None
    reason: str = ""

    def line(self) -> dict[str, Any]:
        line: dict[str, Any] = {"logship": "ship-logs-records", "level": "warning" if self.retry_from else "info",
                                "records": self.records, "shipped": self.shipped, "shipped_together_in": self.runs,
                                "kept_unreadable": self.kept_unreadable,
                                "left_for_retry": self.records - self.shipped - self.kept_unreadable}
        if self.retry_from:
            line.update(retry_from=self.retry_from, reason=self.reason)
        return line

    def answer(self) -> dict[str, Any]:
        """Lambda's partial batch response."""
        return {"batchItemFailures": [{"itemIdentifier": self.retry_from}] if self.retry_from else []}


def ship_runs(records: Records, ship: Callable[[list[Delivery]], Any], keep: Keep, *, function_arn: str,
              max_events: int, max_bytes: int) -> RecordsOutcome:
    """Ship the records' payloads in order, consecutive ones together with ``ship`` (their documents share bulk
    requests).

    A run whose events are not all indexed (``ship`` raised) is reported from its first record, the records after
    it left for the retry: what of it was indexed comes again as duplicates, by id. An unreadable record is kept
    with ``keep`` once the records before it are shipped (so a retry never keeps it twice).
    """
    outcome = RecordsOutcome(len(records))
    for run, deliveries in _groups(records, max_events, max_bytes):
        first = str((run[0].get("kinesis") or {}).get("sequenceNumber", ""))
        if isinstance(deliveries, str):  # unreadable: no retry can ship it
            try:
                keep(poison_message(run[0], deliveries, function_arn))
            except Exception as keep_error:  # not kept: retried rather than lost
                outcome.retry_from, outcome.reason = first, f"could not keep an unreadable record: {keep_error}"
                break
            outcome.kept_unreadable += 1
            continue
        try:
            ship(deliveries)
        except Exception as exc:  # the cluster, the deadline, a bug: Kinesis redelivers from here
            outcome.retry_from, outcome.reason = first, f"{type(exc).__name__}: {exc}"[:500]
            break
        outcome.shipped += len(run)
        outcome.runs += 1
    return outcome


def ship_records(event: Mapping[str, Any], ship: Callable[[list[Delivery]], Any], keep: Keep, *,
                 function_arn: str, max_events: int, max_bytes: int, stream: IO[str] | None = None) -> dict[str, Any]:
    """:func:`ship_runs` over an event source mapping's batch; one line says what happened; answers Lambda's
    partial batch response."""
    outcome = ship_runs(list(event.get("Records") or []), ship, keep, function_arn=function_arn,
                        max_events=max_events, max_bytes=max_bytes)
    emit(outcome.line(), stream)
    return outcome.answer()


def queue_keeper(queue_url: str, region: str) -> Keep:
    """Keeps dead letters in ``queue_url`` (the stack's dead-letter queue); the client is made on first use."""
    client: list[Any] = []

    def keep(body: str) -> None:
        if not queue_url:
            raise RuntimeError("DEAD_LETTER_QUEUE_URL is not set: the record stays in the stream for a retry")
        if not client:
            import boto3

            client.append(boto3.client("sqs", region_name=region))
        client[0].send_message(QueueUrl=queue_url, MessageBody=body)

    return keep
