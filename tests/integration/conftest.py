"""Fixtures shared by the integration tests: a moto account with logship's shipper, and CloudFormation.

``aws`` is a fresh moto account; ``cloudformation`` receives custom resource answers over real HTTP.
"""

from __future__ import annotations

import gzip
import io
import json
import threading
import zipfile
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3
import pytest
from moto import mock_aws

from tests.integration import own_policies
from tests.integration.moto_gaps import (
    teach_account_policies,
    teach_destinations,
    teach_filter_options,
    teach_log_classes,
    teach_logging_config,
)
from tests.integration.own_policies import teach_policy_checks
from tests.payloads import load

ACCOUNT = "123456789012"  # moto's account
REGION = "eu-west-1"
SHIPPER = "logship-ship-logs"
SHIPPER_GROUP = f"/aws/lambda/{SHIPPER}"
STACK_GROUPS = (SHIPPER_GROUP, "/aws/lambda/logship-subscribe-log-group", "/aws/lambda/logship-reconcile-subscriptions")


def function_zip() -> bytes:
    """A deployable package for a moto function (nothing runs it: functions only need to exist)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", "def handler(event, context):\n    return event\n")
    return buffer.getvalue()


class Account:
    """A moto account with logship's shipper deployed; reads filters back as a user would (the CLI's calls)."""

    def __init__(self) -> None:
        self.logs = boto3.client("logs", region_name=REGION)
        self.lambda_ = boto3.client("lambda", region_name=REGION)
        self.role = boto3.client("iam", region_name=REGION).create_role(
            RoleName="fn", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        self.shipper_arn = self.function(SHIPPER)

    def function(self, name: str, log_group: str | None = None, tags: dict[str, str] | None = None) -> str:
        """A function; ``log_group`` is its custom log group (LoggingConfig.LogGroup), else Lambda's default."""
        extra: dict[str, Any] = {"LoggingConfig": {"LogFormat": "JSON", "LogGroup": log_group}} if log_group else {}
        return self.lambda_.create_function(FunctionName=name, Runtime="python3.13", Role=self.role,
                                            Handler="app.handler", Code={"ZipFile": function_zip()},
                                            Tags=tags or {}, **extra)["FunctionArn"]

    def groups(self, *names: str, retention: int | None = None, log_class: str = "STANDARD") -> None:
        for name in names:
            self.logs.create_log_group(logGroupName=name, logGroupClass=log_class)
            if retention:
                self.logs.put_retention_policy(logGroupName=name, retentionInDays=retention)

    def many_groups(self, names: list[str]) -> None:
        """Thousands of groups, created in moto's backend directly: setup, not behaviour under test."""
        from moto.logs.models import logs_backends

        backend = logs_backends[ACCOUNT][REGION]
        for name in names:
            backend.create_log_group(name, tags={})

    def subscribe(self, group: str, destination: str, name: str = "logship", pattern: str = "") -> None:
        self.logs.put_subscription_filter(logGroupName=group, filterName=name, filterPattern=pattern,
                                          destinationArn=destination)

    def filters(self, group: str) -> dict[str, str]:
        """``{filter name: destination}`` on ``group``."""
        found = self.logs.describe_subscription_filters(logGroupName=group)["subscriptionFilters"]
        return {f["filterName"]: f["destinationArn"] for f in found}

    def all_group_names(self) -> list[str]:
        pages = self.logs.get_paginator("describe_log_groups").paginate()
        return [group["logGroupName"] for page in pages for group in page["logGroups"]]

    def shipped(self) -> set[str]:
        """Every group whose logs reach the shipper."""
        return {name for name in self.all_group_names() if SHIPPER_ARN in self.filters(name).values()}

    def retention(self, group: str) -> int | None:
        return self.logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"][0].get("retentionInDays")


SHIPPER_ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{SHIPPER}"


@pytest.fixture(autouse=True)
def aws_as_documented(monkeypatch: pytest.MonkeyPatch) -> None:
    """moto, with what it lacks of the behaviour logship depends on (tests/integration/moto_gaps.py)."""
    teach_log_classes(monkeypatch)
    teach_logging_config(monkeypatch)
    teach_account_policies(monkeypatch)
    teach_destinations(monkeypatch)
    teach_filter_options(monkeypatch)
    teach_policy_checks(monkeypatch)


@pytest.fixture(name="aws")
def aws_account(monkeypatch: pytest.MonkeyPatch) -> Any:
    """A fresh moto account; Lambda without Docker (nothing is executed, functions just exist)."""
    for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                       "AWS_DEFAULT_REGION": REGION}.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    with mock_aws(config={"lambda": {"use_docker": False}}):
        boto3.setup_default_session(region_name=REGION)  # the session the functions' clients come from
        account = Account()
        assert account.shipper_arn == SHIPPER_ARN
        monkeypatch.setattr(own_policies._State, "active", True)  # handlers run as their roles
        yield account



STREAM = "logship-logs"


@pytest.fixture
def stream(aws: Any) -> Any:
    """A one-shard stream, the stack's dead-letter queue, and a way to write records as CloudWatch Logs does."""
    kinesis = boto3.client("kinesis", region_name="eu-west-1")
    kinesis.create_stream(StreamName=STREAM, ShardCount=1)
    queue = boto3.client("sqs", region_name="eu-west-1").create_queue(QueueName="logship-DeadLetterQueue")["QueueUrl"]

    class Stream:
        client = kinesis
        queue_url = queue

        def put(self, data: bytes, key: str = "/aws/lambda/orders-api") -> str:
            return kinesis.put_record(StreamName=STREAM, Data=data, PartitionKey=key)["SequenceNumber"]

        def put_payload(self, name: str) -> str:
            """A subscription payload as CloudWatch Logs writes it to a stream: gzip of its JSON."""
            return self.put(gzip.compress(json.dumps(load(name)).encode()))

        def dead_letters(self) -> list[dict[str, Any]]:
            sqs = boto3.client("sqs", region_name="eu-west-1")
            return sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", [])

    return Stream()


class CloudFormation:
    """Receives custom resource answers over HTTP on 127.0.0.1, as CloudFormation's pre-signed S3 URL would."""

    def __init__(self, timeline: list[tuple[str, Any]] | None = None) -> None:
        answers: list[dict[str, Any]] = []
        events = timeline if timeline is not None else []

        class Receiver(BaseHTTPRequestHandler):
            def do_PUT(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                answers.append(body | {"content-type": self.headers.get("Content-Type")})
                events.append(("CloudFormation", body))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *_args: Any) -> None:
                pass

        self.answers = answers
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/cfn-response?X-Amz-Signature=abc"

    def request(self, kind: str, physical_id: str | None = None, *, function: str = "logship-reconcile-subscriptions",
                resource_type: str = "Custom::LogGroupSubscriptions", logical_id: str = "LogGroupSubscriptions",
                properties: dict[str, Any] | None = None) -> dict[str, Any]:
        """A request in CloudFormation's shape for one of the stack's custom resources."""
        event = {"RequestType": kind, "ServiceToken": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{function}",
                 "ResponseURL": self.url, "StackId": f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/logship/1a2b",
                 "RequestId": f"{kind.lower()}-request-1", "ResourceType": resource_type,
                 "LogicalResourceId": logical_id,
                 "ResourceProperties": properties if properties is not None else {
                     "ServiceToken": "...", "DestinationArn": SHIPPER_ARN, "FilterName": "logship"}}
        if physical_id:
            event["PhysicalResourceId"] = physical_id
        return event

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def cloudformation() -> Iterator[CloudFormation]:
    server = CloudFormation()
    yield server
    server.close()


# A moto server and a deployed stack on it, for the logship command's tests (tests/integration/deployed.py).
from tests.integration.deployed import cloud, moto_server  # noqa: E402, F401
