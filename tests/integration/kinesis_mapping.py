"""Lambda's Kinesis event source mapping, as its documentation describes it, over a moto stream: not our code.

It reads each shard from the start (TRIM_HORIZON), hands batches of up to ``batch_size`` records to the handler
in order, in the event shape Lambda uses, and with ``ReportBatchItemFailures`` checkpoints past what the
answer says succeeded: a batch whose answer names a failed record is retried from that record. A function
error retries the whole batch, split in halves first with ``BisectBatchOnFunctionError`` (a split is not a
retry). Past ``maximum_retry_attempts`` the batch is skipped and its on-failure record, which names the
records (``KinesisBatchInfo``) but holds none of their data, goes to the on-failure destination.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Handler = Callable[[dict[str, Any], Any], Any]


@dataclass
class Invocation:
    """One call of the handler: which records it was given, and what it answered (or raised)."""

    sequence_numbers: list[str]
    answer: Any = None
    error: str = ""


@dataclass
class EventSourceMapping:
    kinesis: Any
    stream_name: str
    handler: Handler
    context: Callable[[], Any]
    batch_size: int = 100
    maximum_retry_attempts: int = 2
    bisect_on_error: bool = True
    on_failure: Callable[[str], None] = lambda _body: None
    region: str = "eu-west-1"
    invocations: list[Invocation] = field(default_factory=list)

    def run(self) -> None:
        """Deliver every record now in the stream, shard by shard, until each is checkpointed or given up."""
        description = self.kinesis.describe_stream(StreamName=self.stream_name)["StreamDescription"]
        for shard in description["Shards"]:
            records = self._read(shard["ShardId"])
            start = 0
            while start < len(records):
                batch = records[start:start + self.batch_size]
                start += self._deliver(shard["ShardId"], description["StreamARN"], batch)

    def _read(self, shard_id: str) -> list[dict[str, Any]]:
        iterator = self.kinesis.get_shard_iterator(StreamName=self.stream_name, ShardId=shard_id,
                                                   ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        records: list[dict[str, Any]] = []
        while iterator:
            page = self.kinesis.get_records(ShardIterator=iterator, Limit=10_000)
            records += page["Records"]
            if not page["Records"]:
                return records
            iterator = page.get("NextShardIterator")
        return records

    def _deliver(self, shard_id: str, stream_arn: str, batch: list[dict[str, Any]]) -> int:
        """Deliver ``batch`` until done or given up; returns how many records it checkpointed past (all)."""
        retries = 0
        pending = batch
        while True:
            failed = self._invoke(shard_id, stream_arn, pending)
            if failed is None:  # every record done
                return len(batch)
            if failed < 0:  # the function failed outright
                if self.bisect_on_error and len(pending) > 1:
                    half = len(pending) // 2
                    self._deliver(shard_id, stream_arn, pending[:half])
                    self._deliver(shard_id, stream_arn, pending[half:])
                    return len(batch)
                failed = 0
            pending = pending[failed:]
            retries += 1
            if retries > self.maximum_retry_attempts:
                self.on_failure(self._failure_record(shard_id, stream_arn, pending, retries))
                return len(batch)

    def _invoke(self, shard_id: str, stream_arn: str, batch: list[dict[str, Any]]) -> int | None:
        """None when every record is done; else the index of the first failed one (-1: the function failed)."""
        event = {"Records": [self._record(shard_id, stream_arn, r) for r in batch]}
        invocation = Invocation([r["SequenceNumber"] for r in batch])
        self.invocations.append(invocation)
        try:
            invocation.answer = self.handler(event, self.context())
        except Exception as exc:  # a function error: the batch is retried (or bisected)
            invocation.error = f"{type(exc).__name__}: {exc}"
            return -1
        failures = (invocation.answer or {}).get("batchItemFailures") or []
        if not failures:
            return None
        numbers = [r["SequenceNumber"] for r in batch]
        return min(numbers.index(f["itemIdentifier"]) for f in failures)

    def _record(self, shard_id: str, stream_arn: str, record: dict[str, Any]) -> dict[str, Any]:
        return {"kinesis": {"kinesisSchemaVersion": "1.0", "partitionKey": record["PartitionKey"],
                            "sequenceNumber": record["SequenceNumber"],
                            "data": base64.b64encode(record["Data"]).decode(),
                            "approximateArrivalTimestamp": record["ApproximateArrivalTimestamp"].timestamp()},
                "eventSource": "aws:kinesis", "eventVersion": "1.0",
                "eventID": f"{shard_id}:{record['SequenceNumber']}", "eventName": "aws:kinesis:record",
                "invokeIdentityArn": "arn:aws:iam::123456789012:role/logship-ship-logs-role",
                "awsRegion": self.region, "eventSourceARN": stream_arn}

    def _failure_record(self, shard_id: str, stream_arn: str, batch: list[dict[str, Any]], attempts: int) -> str:
        return json.dumps({
            "requestContext": {"requestId": "c0ffee00-0000-4000-8000-000000000000",
                               "functionArn": "arn:aws:lambda:eu-west-1:123456789012:function:logship-ship-logs",
                               "condition": "RetryAttemptsExhausted", "approximateInvokeCount": attempts},
            "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": ""},
            "version": "1.0", "timestamp": "2025-11-22T12:00:00.000Z",
            "KinesisBatchInfo": {"shardId": shard_id, "startSequenceNumber": batch[0]["SequenceNumber"],
                                 "endSequenceNumber": batch[-1]["SequenceNumber"],
                                 "approximateArrivalOfFirstRecord": "2025-11-22T12:00:00.000Z",
                                 "approximateArrivalOfLastRecord": "2025-11-22T12:00:00.000Z",
                                 "batchSize": len(batch), "streamArn": stream_arn}})
