"""Transport=kinesis, the shipper's side: CloudWatch Logs payloads as records of a moto Kinesis stream, delivered
to the real ship-logs handler by a stand-in of Lambda's event source mapping (tests/integration/kinesis_mapping.py),
into osmem-server. Each ends exactly once in the cluster or in the dead-letter queue with its reason."""

from __future__ import annotations

import io
import json
from typing import Any

import boto3
import pytest

from logship_cli.redrive import RedriveError, read_message
from tests.conftest import LambdaContext, load_handler, search_all, shipper_env
from tests.integration.conftest import STREAM
from tests.integration.fault_proxy import ALWAYS, FaultProxy, plain
from tests.integration.kinesis_mapping import EventSourceMapping
from tests.integration.test_backfill import now_ms
from tests.payloads import load

PAYLOADS = ("cwl_python_runtime", "cwl_node_runtime", "cwl_custom_group_orders_api")


def shipper(monkeypatch: pytest.MonkeyPatch, endpoint: str, queue_url: str, **env: str) -> Any:
    for key, value in shipper_env(endpoint, DEAD_LETTER_QUEUE_URL=queue_url, **env).items():
        monkeypatch.setenv(key, value)
    return load_handler("ship_logs").handler


def mapping(stream: Any, handler: Any, remaining_ms: int = 60_000, **options: Any) -> EventSourceMapping:
    return EventSourceMapping(stream.client, STREAM, handler, lambda: LambdaContext(remaining_ms), **options)


def events_in(names: tuple[str, ...]) -> int:
    return sum(len(load(name)["logEvents"]) for name in names)


def test_every_record_is_indexed_once_even_when_the_stream_delivers_it_again(stream, opensearch, osmem_clone,
                                                                            monkeypatch, capsys):
    for name in PAYLOADS:
        stream.put_payload(name)
    handler = shipper(monkeypatch, osmem_clone.url, stream.queue_url)

    first = mapping(stream, handler)
    first.run()
    again = mapping(stream, handler)  # a redelivered batch: a new mapping reads the shard from its start again
    again.run()

    assert [i.answer for i in first.invocations + again.invocations] == [{"batchItemFailures": []}] * 2
    assert len(search_all(opensearch)) == events_in(PAYLOADS)
    summaries = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"ship-logs"' in line]
    assert [(s["indexed"], s["duplicates"]) for s in summaries] == [(events_in(PAYLOADS), 0), (0, events_in(PAYLOADS))]
    assert [(p["log_group"], p["events"]) for p in summaries[0]["payloads"]] == [
        (load(name)["logGroup"], events_in((name,))) for name in PAYLOADS]


def test_consecutive_records_share_bulk_requests_and_a_failed_run_is_retried_from_its_first_record(
        stream, opensearch, osmem_clone, monkeypatch):
    """BULK_MAX_DOCS=10: the records of 7, 6 and 4 events go as two runs ([7], [6, 4]), a bulk request each."""
    numbers = [stream.put_payload(name) for name in PAYLOADS]
    with FaultProxy(osmem_clone.url) as proxy:
        # the first run is indexed; the second run's request is refused until the first delivery is over
        proxy.faults.request_status, proxy.faults.request_fault_count, proxy.faults.request_fault_after = 503, ALWAYS, 1
        real = shipper(monkeypatch, proxy.url, stream.queue_url, BULK_MAX_DOCS="10")

        def handler(event: dict[str, Any], context: Any) -> Any:
            try:
                return real(event, context)
            finally:
                proxy.clear()

        delivery = mapping(stream, handler, remaining_ms=3_000)
        delivery.run()
        sizes = [len(plain(seen.body, seen.headers).splitlines()) // 2 for seen in proxy.faults.seen
                 if seen.path.endswith("/_bulk")]

    first, second = delivery.invocations
    assert first.answer == {"batchItemFailures": [{"itemIdentifier": numbers[1]}]}  # the second run's first record
    assert (second.sequence_numbers, second.answer) == (numbers[1:], {"batchItemFailures": []})
    assert len(search_all(opensearch)) == events_in(PAYLOADS)
    assert (sizes[0], set(sizes[1:])) == (7, {10})  # the second run's records in one request, tried until indexed
    assert stream.dead_letters() == []


def test_a_poison_record_is_kept_with_its_reason_and_does_not_hold_up_its_shard(stream, opensearch, osmem_clone,
                                                                               monkeypatch):
    stream.put_payload("cwl_python_runtime")
    poison = stream.put(b"this is not gzip")
    stream.put_payload("cwl_node_runtime")
    delivery = mapping(stream, shipper(monkeypatch, osmem_clone.url, stream.queue_url))

    delivery.run()

    assert len(delivery.invocations) == 1  # nothing retried
    assert len(search_all(opensearch)) == events_in(("cwl_python_runtime", "cwl_node_runtime"))
    [message] = stream.dead_letters()
    kept = json.loads(message["Body"])
    assert (kept["requestContext"]["condition"], kept["kinesis"]["sequenceNumber"]) == ("PoisonRecord", poison)
    assert kept["responsePayload"]["errorMessage"].startswith("awslogs.data is not gzip")
    with pytest.raises(RedriveError, match="cannot be replayed"):  # logship redrive lists it for a person
        read_message(message)


def test_a_record_the_cluster_refuses_is_retried_from_there_and_ends_indexed_once(stream, opensearch, osmem_clone,
                                                                                 monkeypatch):
    numbers = [stream.put_payload(name) for name in PAYLOADS]
    with FaultProxy(osmem_clone.url) as proxy:
        proxy.faults.request_status, proxy.faults.request_fault_count = 503, ALWAYS
        real = shipper(monkeypatch, proxy.url, stream.queue_url)

        def handler(event: dict[str, Any], context: Any) -> Any:
            try:
                return real(event, context)
            finally:
                proxy.clear()  # the cluster is back after the first delivery

        delivery = mapping(stream, handler, remaining_ms=3_000)
        delivery.run()

    first, second = delivery.invocations
    assert first.answer == {"batchItemFailures": [{"itemIdentifier": numbers[0]}]}  # nothing after it tried
    assert (second.sequence_numbers, second.answer) == (numbers, {"batchItemFailures": []})
    assert len(search_all(opensearch)) == events_in(PAYLOADS)
    assert stream.dead_letters() == []


def test_the_sweep_points_filters_at_the_stream_and_logged_lines_reach_the_cluster_through_it(
        stream, aws, opensearch, osmem_clone, monkeypatch, capsys):
    """End to end: reconcile-subscriptions subscribes (and moves a filter left from Transport=direct) to the stream,
    the function logs, CloudWatch Logs (moto) writes the payload to the stream, the mapping hands it to ship-logs."""
    from tests.integration.test_reconcile_subscriptions import RECONCILER, SCHEDULED, reconcile, summaries
    from tests.integration.test_subscribe_log_group import subscriber_env

    stream_arn = stream.client.describe_stream(StreamName=STREAM)["StreamDescription"]["StreamARN"]
    role = boto3.client("iam").create_role(RoleName="logship-LogsToStreamRole",
                                           AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    aws.function(RECONCILER)
    monkeypatch.setattr("time.sleep", lambda _s: None)
    for key, value in subscriber_env(AWS_LAMBDA_FUNCTION_NAME=RECONCILER, STREAM_ARN=stream_arn,
                                     STREAM_ROLE_ARN=role, BACKFILL_HOURS="0").items():
        monkeypatch.setenv(key, value)
    aws.groups("/aws/lambda/orders-api", "/aws/lambda/billing")
    aws.subscribe("/aws/lambda/billing", aws.shipper_arn)  # from Transport=direct, named "logship"

    summary = summaries(reconcile(capsys, SCHEDULED))[-1]
    found = aws.logs.describe_subscription_filters(logGroupName="/aws/lambda/billing")["subscriptionFilters"]
    aws.logs.create_log_stream(logGroupName="/aws/lambda/orders-api", logStreamName="2025/11/22/[$LATEST]abc")
    aws.logs.put_log_events(logGroupName="/aws/lambda/orders-api", logStreamName="2025/11/22/[$LATEST]abc",
                            logEvents=[{"timestamp": now_ms(), "message": "[INFO]\t2025-11-22T10:00:00.151Z\t"
                                        "3f1c2a9e-6b1d-4f7a-9a7e-2d5b8c1e0f42\tReceived order 1042\n"}])
    mapping(stream, shipper(monkeypatch, osmem_clone.url, stream.queue_url)).run()

    assert (summary["subscribed"], summary["updated"], summary["clash"]) == (1, 1, 0)
    assert [(f["filterName"], f["destinationArn"], f["roleArn"]) for f in found] == [("logship", stream_arn, role)]
    assert aws.filters("/aws/lambda/orders-api") == {"logship": stream_arn}
    [document] = search_all(opensearch)
    assert (document["aws"]["cloudwatch"]["log_group"], document["faas"]["name"], document["message"]) == (
        "/aws/lambda/orders-api", "orders-api", "Received order 1042")


def test_records_the_mapping_gave_up_on_are_replayed_from_the_stream_by_redrive(stream, opensearch, osmem_clone,
                                                                                monkeypatch):
    from logship.core.config import ShipperConfig
    from logship.ship.shipper import Shipper
    from logship_cli.redrive import redrive

    sqs = boto3.client("sqs", region_name="eu-west-1")
    numbers = [stream.put_payload(name) for name in PAYLOADS]
    with FaultProxy(osmem_clone.url) as proxy:  # the cluster is down through every retry
        proxy.faults.request_status, proxy.faults.request_fault_count = 503, ALWAYS
        delivery = mapping(stream, shipper(monkeypatch, proxy.url, stream.queue_url), remaining_ms=1_500,
                           maximum_retry_attempts=1,
                           on_failure=lambda body: sqs.send_message(QueueUrl=stream.queue_url, MessageBody=body))
        delivery.run()
    [message] = stream.dead_letters()
    info = json.loads(message["Body"])["KinesisBatchInfo"]
    sqs.change_message_visibility(QueueUrl=stream.queue_url, ReceiptHandle=message["ReceiptHandle"],
                                  VisibilityTimeout=0)

    listed = io.StringIO()
    listing = redrive(sqs, stream.queue_url, None, out=listed, kinesis=stream.client)
    config = ShipperConfig.from_env(shipper_env(osmem_clone.url))
    out = io.StringIO()
    from logship.cluster.client import connect

    counts = redrive(sqs, stream.queue_url, Shipper(config, *connect(config)), out=out, kinesis=stream.client)

    assert (info["startSequenceNumber"], info["endSequenceNumber"], info["batchSize"]) == (numbers[0], numbers[-1], 3)
    assert listing == {"replayed": 0, "kept": 0, "listed": 1}
    assert f"logship-logs shardId-000000000000 records {numbers[0]}..{numbers[-1]} (3 records, " \
           "RetryAttemptsExhausted)" in listed.getvalue()
    assert counts == {"replayed": 1, "kept": 0, "listed": 0}, out.getvalue()
    assert len(search_all(opensearch)) == events_in(PAYLOADS)
    assert stream.dead_letters() == []


def test_redrive_ships_a_batch_as_ship_logs_does_and_keeps_its_unreadable_record_apart_for_a_person(
        stream, opensearch, osmem_clone, monkeypatch):
    """The mapping gave up on four records, one of them not a payload: redrive indexes the three (in runs) and
    leaves the unreadable one in the queue as ship-logs would have kept it; the batch's message is done.
    17 events: the three payloads' 7, 6 and 4."""
    from logship.cluster.client import connect
    from logship.core.config import ShipperConfig
    from logship.ship.shipper import Shipper
    from logship_cli.redrive import redrive

    sqs = boto3.client("sqs", region_name="eu-west-1")
    stream.put_payload(PAYLOADS[0])
    stream.put(b"this is not gzip")
    for name in PAYLOADS[1:]:
        stream.put_payload(name)
    with FaultProxy(osmem_clone.url) as proxy:  # the cluster is down through every retry
        proxy.faults.request_status, proxy.faults.request_fault_count = 503, ALWAYS
        mapping(stream, shipper(monkeypatch, proxy.url, stream.queue_url), remaining_ms=1_500,
                maximum_retry_attempts=1,
                on_failure=lambda body: sqs.send_message(QueueUrl=stream.queue_url, MessageBody=body)).run()
    [message] = stream.dead_letters()
    sqs.change_message_visibility(QueueUrl=stream.queue_url, ReceiptHandle=message["ReceiptHandle"],
                                  VisibilityTimeout=0)
    config = ShipperConfig.from_env(shipper_env(osmem_clone.url))
    out = io.StringIO()

    counts = redrive(sqs, stream.queue_url, Shipper(config, *connect(config)), out=out, kinesis=stream.client)

    # the unreadable record's own message is read in the same run, and left for a person with its reason
    assert counts == {"replayed": 1, "kept": 1, "listed": 0}, out.getvalue()
    assert "replayed 4 records: 17 indexed, 0 already there, 1 unreadable kept apart" in out.getvalue()
    assert "its event cannot be replayed: awslogs.data is not gzip" in out.getvalue()
    assert len(search_all(opensearch)) == events_in(PAYLOADS)
    attributes = sqs.get_queue_attributes(QueueUrl=stream.queue_url, AttributeNames=[
        "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
    assert sum(map(int, attributes.values())) == 1  # the batch's message deleted, the unreadable record's kept
