"""Batches no retry can ship, kept in the stack's dead-letter queue at once, with the reason.

In Lambda's own on-failure shape (``requestPayload``, ``responsePayload``), so ``logship redrive`` lists them
with their reason and, once the cause is fixed, replays them: an unreadable Kinesis record (nothing to replay),
or a batch the cluster refused for a setting of its own (a permission, ``action.auto_create_index``, a missing
pipeline), which Lambda's two retries would only meet again.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from typing import Any

Keep = Callable[[str], None]  # sends one dead-letter message (its JSON body); raises when it could not


def on_failure_message(request: Mapping[str, Any], *, condition: str, error_type: str, reason: str,
                       function_arn: str, request_id: str = "", kinesis: Mapping[str, Any] | None = None) -> str:
    """The message Lambda's on-failure destination would hold for ``request`` (the event, ``{"awslogs": ...}``)."""
    body: dict[str, Any] = {
        "version": "1.0", "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
        "requestContext": {"requestId": request_id, "functionArn": function_arn, "condition": condition,
                           "approximateInvokeCount": 1},
        "requestPayload": dict(request),
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
        "responsePayload": {"errorType": error_type, "errorMessage": reason}}
    if kinesis is not None:
        body["kinesis"] = dict(kinesis)
    return json.dumps(body)


def queue_keeper(queue_url: str, region: str) -> Keep:
    """Keeps dead letters in ``queue_url`` (the stack's dead-letter queue); the client is made on first use.

    Bounded (a few seconds): in a VPC without a NAT gateway or an SQS endpoint the call cannot connect, and the
    batch is then left to Lambda's retries and its on-failure destination, which keep it all the same.
    """
    client: list[Any] = []

    def keep(body: str) -> None:
        if not queue_url:
            raise RuntimeError("DEAD_LETTER_QUEUE_URL is not set: the batch is left to Lambda's retries")
        if not client:
            import boto3
            from botocore.config import Config

            client.append(boto3.client("sqs", region_name=region, config=Config(
                connect_timeout=3, read_timeout=5, retries={"mode": "standard", "total_max_attempts": 2})))
        client[0].send_message(QueueUrl=queue_url, MessageBody=body)

    return keep
