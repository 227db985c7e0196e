"""Replay the batches kept in the dead-letter queue once the cause is fixed; safe to run any time.

Each DLQ message is Lambda's on-failure record: the original subscription event (``requestPayload``)
and why it failed (``responsePayload``), or, with Transport=kinesis, the event source mapping's, which names
the stream records (``KinesisBatchInfo``) without their data: those are read from the stream again while it
keeps them. Replaying ships the events again through the same code as the function; document ids make it
idempotent (already indexed -> duplicates). A message is deleted only after its batch is fully settled, so
an interrupted redrive loses nothing.

    counts = redrive(boto3.client("sqs"), queue_url, Shipper(config, *connect(config)))

The command line is ``logship redrive`` (the CLI package), which calls :func:`replay` here.
"""

from __future__ import annotations

import base64
import io
import json
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any

from logship.ship.kinesis import ship_runs
from logship.ship.payload import PayloadError, parse_batch


class RedriveError(ValueError):
    """A DLQ message is not a Lambda on-failure record holding a subscription event."""


@dataclass(frozen=True)
class FailedBatch:
    """One DLQ message, read: what failed, why, and the event to replay."""

    receipt_handle: str
    event: dict[str, Any]
    condition: str
    reason: str
    log_group: str
    events: int


def read_message(message: dict[str, Any]) -> FailedBatch:
    """An SQS message -> :class:`FailedBatch`; raises :class:`RedriveError` for anything else."""
    try:
        record = json.loads(message["Body"])
        event = record["requestPayload"]
    except (KeyError, TypeError, ValueError):
        raise RedriveError("not a Lambda on-failure record (no requestPayload); leave it for a human") from None
    response = record.get("responsePayload") or {}
    reason = response.get("errorMessage") if isinstance(response, dict) else str(response)
    try:
        batch = parse_batch(event)
    except PayloadError as exc:
        raise RedriveError(f"its event cannot be replayed: {exc}") from None
    return FailedBatch(message["ReceiptHandle"], event, record.get("requestContext", {}).get("condition", "?"),
                       str(reason or "no reason recorded"), batch.log_group, batch.size)


@dataclass(frozen=True)
class StreamBatch:
    """An event source mapping's on-failure record: which records of the stream it gave up on."""

    receipt_handle: str
    stream_arn: str
    shard_id: str
    first: str
    last: str
    size: int
    condition: str

    @classmethod
    def read(cls, message: dict[str, Any]) -> StreamBatch | None:
        """The record as :class:`StreamBatch`, or None when the message is not one."""
        try:
            record = json.loads(message["Body"])
            info = record["KinesisBatchInfo"]
            return cls(message["ReceiptHandle"], str(info["streamArn"]), str(info["shardId"]),
                       str(info["startSequenceNumber"]), str(info["endSequenceNumber"]), int(info["batchSize"]),
                       str(record.get("requestContext", {}).get("condition", "?")))
        except (KeyError, TypeError, ValueError):
            return None

    @property
    def label(self) -> str:
        return (f"{self.stream_arn.rsplit('/', 1)[-1]} {self.shard_id} records {self.first}..{self.last} "
                f"({self.size} records, {self.condition})")

    def records(self, kinesis: Any, empty_pages: int = 5) -> list[dict[str, Any]]:
        """The records again, as the event source mapping hands them to ship-logs; raises :class:`RedriveError`
        when the stream has trimmed them (older than its retention) or cannot be read."""
        from botocore.exceptions import ClientError

        try:
            # by name: the stream is the stack's, in the queue's account and region
            iterator = kinesis.get_shard_iterator(StreamName=self.stream_arn.rsplit("/", 1)[-1], ShardId=self.shard_id,
                                                  ShardIteratorType="AT_SEQUENCE_NUMBER",
                                                  StartingSequenceNumber=self.first)["ShardIterator"]
            found: list[dict[str, Any]] = []
            while iterator and empty_pages and (not found or int(found[-1]["SequenceNumber"]) < int(self.last)):
                page = kinesis.get_records(ShardIterator=iterator, Limit=min(10_000, self.size))
                found += [r for r in page["Records"] if int(r["SequenceNumber"]) <= int(self.last)]
                if any(int(r["SequenceNumber"]) > int(self.last) for r in page["Records"]):
                    break
                empty_pages -= not page["Records"]  # a shard can answer empty pages before its records
                iterator = page.get("NextShardIterator")
        except ClientError as exc:
            raise RedriveError(f"the stream cannot be read ({exc}): its records stay where they are") from None
        if not found or found[0]["SequenceNumber"] != self.first:
            raise RedriveError("the stream no longer holds these records (older than its retention): they "
                               "cannot be replayed; delete the message once you have noted it")
        return [{"eventSource": "aws:kinesis", "eventSourceARN": self.stream_arn,
                 "kinesis": {"data": base64.b64encode(r["Data"]).decode(), "sequenceNumber": r["SequenceNumber"],
                             "partitionKey": r.get("PartitionKey", "")}} for r in found]


def receive(sqs: Any, queue_url: str, limit: int, *, hide_seconds: int) -> Iterator[dict[str, Any]]:
    """Up to ``limit`` distinct messages, ten at a time.

    A replay hides each message while it works on it (``hide_seconds``); a dry run hides nothing, so
    the same messages come round again: it stops when a receive brings nothing new.
    """
    seen: set[str] = set()
    while len(seen) < limit:
        response = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=min(10, limit - len(seen)),
                                       VisibilityTimeout=hide_seconds, WaitTimeSeconds=1)
        fresh = [m for m in response.get("Messages", []) if m["MessageId"] not in seen]
        if not fresh:
            return
        for message in fresh:
            seen.add(message["MessageId"])
            yield message


class Budget:
    """A generous time budget per batch: a human is watching, not Lambda's clock."""

    def __init__(self, seconds: float) -> None:
        self._deadline = time.monotonic() + seconds

    def remaining_ms(self) -> int:
        return int((self._deadline - time.monotonic()) * 1000)


@dataclass(frozen=True)
class Replayed:
    """What became of one message: ``replayed``, ``kept`` (still in the queue, why in ``text``) or ``listed``."""

    number: int
    outcome: str
    text: str


def replay(sqs: Any, queue_url: str, shipper: Any | None, *, limit: int = 1000,
           seconds_per_batch: float = 120.0, kinesis: Any = None) -> Iterator[Replayed]:
    """Replay (or, with ``shipper=None``, only list) up to ``limit`` messages, one result per message as it settles.

    ``kinesis`` (a client) reads again the records an event source mapping gave up on.
    """
    hide_seconds = 0 if shipper is None else int(seconds_per_batch) + 60
    for number, message in enumerate(receive(sqs, queue_url, limit, hide_seconds=hide_seconds), 1):
        stream_batch = StreamBatch.read(message)
        if stream_batch is not None:
            yield _replay_stream(sqs, queue_url, shipper, kinesis, stream_batch, number, seconds_per_batch)
            continue
        try:
            batch = read_message(message)
        except RedriveError as exc:
            yield Replayed(number, "kept", f"[{number}] kept {message.get('MessageId', '?')}: {exc}")
            continue
        label = f"[{number}] {batch.log_group} ({batch.events} events, {batch.condition}): {batch.reason[:160]}"
        if shipper is None:
            yield Replayed(number, "listed", label)
            continue
        try:
            summary = shipper.ship(batch.event, Budget(seconds_per_batch), stream=io.StringIO())  # not the terminal
        except Exception as exc:  # the message stays in the queue; say why and go on
            yield Replayed(number, "kept", f"{label}\n    still failing, kept in the queue: {exc}")
            continue
        sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=batch.receipt_handle)
        yield Replayed(number, "replayed", f"{label}\n    replayed: {summary['indexed']} indexed, "
                                           f"{summary['duplicates']} already there, {summary['degraded']} degraded, "
                                           f"{summary['failed']} to the failed index")


def _replay_stream(sqs: Any, queue_url: str, shipper: Any | None, kinesis: Any, batch: StreamBatch, number: int,
                   seconds_per_batch: float) -> Replayed:
    label = f"[{number}] {batch.label}"
    if shipper is None:
        return Replayed(number, "listed", label)
    try:
        records = batch.records(kinesis)
    except RedriveError as exc:  # the message stays in the queue; say why and go on
        return Replayed(number, "kept", f"{label}\n    kept in the queue: {exc}")
    summaries: list[dict[str, Any]] = []

    def ship(deliveries: list[Any]) -> None:
        summaries.append(shipper.ship_deliveries(deliveries, Budget(seconds_per_batch), stream=io.StringIO()))

    # as ship-logs ships them: in runs sharing bulk requests, an unreadable record kept in this queue for a person
    outcome = ship_runs(records, ship, lambda body: sqs.send_message(QueueUrl=queue_url, MessageBody=body),
                        function_arn="logship redrive", max_events=shipper.config.bulk_max_docs,
                        max_bytes=shipper.config.bulk_max_bytes)
    if outcome.retry_from:
        return Replayed(number, "kept", f"{label}\n    kept in the queue: from record {outcome.retry_from} on "
                                        f"still failing: {outcome.reason}")
    sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=batch.receipt_handle)
    unreadable = f", {outcome.kept_unreadable} unreadable kept apart" if outcome.kept_unreadable else ""
    if outcome.kept_misconfigured:
        unreadable += f", {outcome.kept_misconfigured} still refused, kept apart ({outcome.reason})"
    return Replayed(number, "replayed", f"{label}\n    replayed {len(records)} records: "
                                        f"{sum(s['indexed'] for s in summaries)} indexed, "
                                        f"{sum(s['duplicates'] for s in summaries)} already there{unreadable}")


def redrive(sqs: Any, queue_url: str, shipper: Any | None, *, limit: int = 1000, out: IO[str] | None = None,
            seconds_per_batch: float = 120.0, kinesis: Any = None) -> dict[str, int]:
    """:func:`replay`, printing each result to ``out``; returns the counts."""
    out = out or sys.stdout
    counts = {"replayed": 0, "kept": 0, "listed": 0}
    for result in replay(sqs, queue_url, shipper, limit=limit, seconds_per_batch=seconds_per_batch,
                         kinesis=kinesis):
        counts[result.outcome] += 1
        print(result.text, file=out, flush=True)
    return counts


def queue_region(queue_url: str) -> str:
    """``https://sqs.eu-west-1.amazonaws.com/...`` -> ``eu-west-1``: documents keep the stack's region."""
    import boto3

    host = queue_url.split("/")[2] if "://" in queue_url else ""
    labels = host.split(".")
    if len(labels) >= 4 and labels[0] == "sqs":
        return labels[1]
    return boto3.session.Session().region_name or "us-east-1"
