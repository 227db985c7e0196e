"""Replay the batches kept in the dead-letter queue once the cause is fixed; safe to run any time.

Each DLQ message is Lambda's on-failure record: the original subscription event (``requestPayload``)
and why it failed (``responsePayload``). Replaying ships the event again through the same code as the
function; document ids make it idempotent (already indexed -> duplicates). A message is deleted only
after its batch is fully settled, so an interrupted redrive loses nothing.

    python -m logship.redrive --queue-url URL --function STACK-ship-logs [--dry-run]

With ``--function`` the replay uses the deployed shipper's own settings (endpoint, auth, prefix,
redaction, correlation keys), read with ``lambda:GetFunctionConfiguration``; options override them.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any

from logship.payload import PayloadError, parse_batch


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


class _Budget:
    """A generous time budget per batch: a human is watching, not Lambda's clock."""

    def __init__(self, seconds: float) -> None:
        self._deadline = time.monotonic() + seconds

    def remaining_ms(self) -> int:
        return int((self._deadline - time.monotonic()) * 1000)


def redrive(sqs: Any, queue_url: str, shipper: Any | None, *, limit: int = 1000, out: IO[str] | None = None,
            seconds_per_batch: float = 120.0) -> dict[str, int]:
    """Replay (or, with ``shipper=None``, only list) up to ``limit`` messages; returns the counts."""
    out = out or sys.stdout
    counts = {"replayed": 0, "kept": 0, "listed": 0}
    hide_seconds = 0 if shipper is None else int(seconds_per_batch) + 60
    for number, message in enumerate(receive(sqs, queue_url, limit, hide_seconds=hide_seconds), 1):
        try:
            batch = read_message(message)
        except RedriveError as exc:
            counts["kept"] += 1
            print(f"[{number}] kept {message.get('MessageId', '?')}: {exc}", file=out, flush=True)
            continue
        label = f"[{number}] {batch.log_group} ({batch.events} events, {batch.condition}): {batch.reason[:160]}"
        if shipper is None:
            counts["listed"] += 1
            print(label, file=out, flush=True)
            continue
        try:
            summary = shipper.ship(batch.event, _Budget(seconds_per_batch), stream=io.StringIO())  # not the terminal
        except Exception as exc:  # the message stays in the queue; say why and go on
            counts["kept"] += 1
            print(f"{label}\n    still failing, kept in the queue: {exc}", file=out, flush=True)
            continue
        sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=batch.receipt_handle)
        counts["replayed"] += 1
        print(f"{label}\n    replayed: {summary['indexed']} indexed, {summary['duplicates']} already there, "
              f"{summary['degraded']} degraded, {summary['failed']} to the failed index", file=out, flush=True)
    return counts


def queue_region(queue_url: str) -> str:
    """``https://sqs.eu-west-1.amazonaws.com/...`` -> ``eu-west-1``: documents keep the stack's region."""
    import boto3

    host = queue_url.split("/")[2] if "://" in queue_url else ""
    labels = host.split(".")
    if len(labels) >= 4 and labels[0] == "sqs":
        return labels[1]
    return boto3.session.Session().region_name or "us-east-1"


def main(argv: list[str] | None = None) -> int:
    import boto3

    from logship.cli import add_opensearch_options, config_from_args
    from logship.client import connect
    from logship.shipper import Shipper

    parser = argparse.ArgumentParser(prog="python -m logship.redrive", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--queue-url", required=True, help="the stack's DeadLetterQueueUrl output")
    parser.add_argument("--function", help="the deployed ship-logs function: replay with its settings")
    add_opensearch_options(parser)
    parser.add_argument("--limit", type=int, default=1000, help="at most this many messages (default: 1000)")
    parser.add_argument("--dry-run", action="store_true", help="list what failed and why; change nothing")
    args = parser.parse_args(argv)
    region = queue_region(args.queue_url)
    shipper = None
    if not args.dry_run:
        base = {"AWS_REGION": region}
        if args.function:
            found = boto3.client("lambda", region_name=region).get_function_configuration(FunctionName=args.function)
            base |= found.get("Environment", {}).get("Variables", {})
        config = config_from_args(parser, args, base)
        shipper = Shipper(config, *connect(config))
    counts = redrive(boto3.client("sqs", region_name=region), args.queue_url, shipper, limit=args.limit)
    print(f"done: {counts['replayed']} replayed, {counts['kept']} kept in the queue, {counts['listed']} listed")
    return 1 if counts["kept"] else 0


if __name__ == "__main__":
    sys.exit(main())
