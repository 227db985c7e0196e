"""Redrive: batches kept in the dead-letter queue are replayed once the cause is fixed, and only then deleted."""

from __future__ import annotations

import io
import json

import boto3
import pytest

from logship.core.config import ShipperConfig
from logship.ship.shipper import Shipper
from logship_cli.redrive import queue_region, redrive
from tests.conftest import search_all, shipper_env
from tests.payloads import encode, load


def on_failure_record(payload: dict) -> str:
    """The record Lambda sends to an on-failure destination after the last retry (AWS's documented shape)."""
    return json.dumps({
        "version": "1.0", "timestamp": "2025-11-22T10:05:00.000Z",
        "requestContext": {"requestId": "e4b46cbf-b738-4a8a-8880-a18cdf61200e",
                           "functionArn": "arn:aws:lambda:eu-west-1:123456789012:function:logship-ship-logs:$LATEST",
                           "condition": "RetriesExhausted", "approximateInvokeCount": 3},
        "requestPayload": encode(payload),
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
        "responsePayload": {"errorMessage": "7 of 7 events from /aws/lambda/orders-api are not indexed yet "
                                            "(OpenSearch unreachable)", "errorType": "ShipError"},
    })


@pytest.fixture
def queue(aws):
    """The stack's dead-letter queue holding two real failures and two messages nobody can replay."""
    sqs = boto3.client("sqs")
    url = sqs.create_queue(QueueName="logship-dlq")["QueueUrl"]
    for body in (on_failure_record(load("cwl_python_runtime")), on_failure_record(load("cwl_node_runtime")),
                 "not json at all", json.dumps({"requestPayload": {"awslogs": {"data": "@@"}}})):
        sqs.send_message(QueueUrl=url, MessageBody=body)
    return sqs, url


def messages(sqs, url: str) -> tuple[int, int]:
    """(visible, hidden) messages in the queue."""
    found = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages",
                                                                   "ApproximateNumberOfMessagesNotVisible"])
    attributes = found["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]), int(attributes["ApproximateNumberOfMessagesNotVisible"])


def test_replays_kept_batches_and_deletes_only_those(queue, opensearch, osmem_clone):
    sqs, url = queue
    out = io.StringIO()
    shipper = Shipper(ShipperConfig.from_env(shipper_env(osmem_clone.url)), opensearch)

    counts = redrive(sqs, url, shipper, out=out)

    assert counts == {"replayed": 2, "kept": 2, "listed": 0}
    assert len(search_all(opensearch)) == 13
    text = out.getvalue()
    assert "/aws/lambda/orders-api (7 events, RetriesExhausted): 7 of 7 events" in text
    assert "replayed: 7 indexed, 0 already there" in text
    assert "not a Lambda on-failure record" in text
    assert "its event cannot be replayed: awslogs.data is not base64" in text
    assert messages(sqs, url) == (0, 2)  # the two unreadable ones stay (hidden for now); the rest are gone


def test_replaying_twice_never_duplicates(queue, opensearch, osmem_clone):
    sqs, url = queue
    shipper = Shipper(ShipperConfig.from_env(shipper_env(osmem_clone.url)), opensearch)
    redrive(sqs, url, shipper, out=io.StringIO())
    sqs.send_message(QueueUrl=url, MessageBody=on_failure_record(load("cwl_python_runtime")))

    out = io.StringIO()
    redrive(sqs, url, shipper, out=out)

    assert len(search_all(opensearch)) == 13
    assert "replayed: 0 indexed, 7 already there" in out.getvalue()


def test_while_opensearch_is_still_down_messages_stay(queue):
    sqs, url = queue
    from opensearchpy import OpenSearch

    shipper = Shipper(ShipperConfig.from_env(shipper_env("http://127.0.0.1:9")), OpenSearch(hosts=["http://127.0.0.1:9"]))
    out = io.StringIO()
    counts = redrive(sqs, url, shipper, out=out, seconds_per_batch=2.5)

    assert counts == {"replayed": 0, "kept": 4, "listed": 0}
    assert "still failing, kept in the queue" in out.getvalue()
    assert messages(sqs, url) == (0, 4)


def test_documents_keep_the_stacks_region():
    assert queue_region("https://sqs.ap-southeast-2.amazonaws.com/123456789012/logship-dlq") == "ap-southeast-2"
