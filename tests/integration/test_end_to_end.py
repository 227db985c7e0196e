"""One end-to-end test, run two ways: on stand-ins (the stack deployed from template.yaml into a moto server,
osmem-server as its cluster; CI runs this) and against a stack deployed in a real account with a real cluster
(``make test-deployed STACK=name``, which passes ``--deployed-stack``; skipped without it or without credentials).

Create a log group as Lambda would, wait for the stack to subscribe it, log to it, wait for the documents,
check their fields and that each event is there once, clean up.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest

from logship_cli.context import Aws, Cluster, connect
from tests.integration.stack_deploy import TemplateStack, teach_cloudformation
from tests.payloads import load


@dataclass
class Target:
    """Where the test runs: the stack (as the logship command finds it), how a new group's CloudTrail event
    reaches subscribe-log-group there, and how long things may take."""

    aws: Aws
    announce: Callable[[str], None]  # a new group's CreateLogGroup event, delivered (AWS does it by itself)
    patience_s: float
    poll_s: float


def wait_for(what: str, probe: Callable[[], Any], target: Target) -> Any:
    deadline = time.monotonic() + target.patience_s
    while True:
        found = probe()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {target.patience_s:.0f} s")
        time.sleep(target.poll_s)


def run_end_to_end(target: Target) -> None:
    logs = target.aws.client("logs")
    shipper = target.aws.output("ShipLogsFunctionArn")
    destination = target.aws.outputs().get("LogStreamArn", shipper)
    marker = uuid.uuid4().hex
    group, stream = f"/aws/lambda/logship-e2e-{marker[:12]}", f"2025/11/22/[$LATEST]{marker}"
    config = Cluster().config(target.aws)
    cluster, indices = connect(config), ",".join(config.naming.patterns)
    logs.create_log_group(logGroupName=group)
    try:
        target.announce(group)
        per_group = "SubscribeLogGroupFunctionArn" in target.aws.outputs()  # else an account policy delivers it
        if per_group:
            wait_for(f"{group} subscribed to {destination}", lambda: any(
                f["destinationArn"] == destination
                for f in logs.describe_subscription_filters(logGroupName=group)["subscriptionFilters"]), target)
        request = str(uuid.uuid4())
        lines = [f"START RequestId: {request} Version: $LATEST\n",
                 f"[INFO]\t2025-11-22T10:00:00.151Z\t{request}\tend-to-end {marker}\n",
                 f"[ERROR]\t2025-11-22T10:00:00.160Z\t{request}\tend-to-end failure {marker}\n",
                 f"END RequestId: {request}\n",
                 f"REPORT RequestId: {request}\tDuration: 12.50 ms\tBilled Duration: 13 ms\tMemory Size: 128 MB\t"
                 "Max Memory Used: 40 MB\t\n"]
        logs.create_log_stream(logGroupName=group, logStreamName=stream)
        now = int(time.time() * 1000)
        logs.put_log_events(logGroupName=group, logStreamName=stream,
                            logEvents=[{"timestamp": now + i, "message": line} for i, line in enumerate(lines)])

        def documents() -> list[dict[str, Any]]:
            cluster.indices.refresh(index=indices)
            body = {"size": 100, "query": {"term": {"aws.cloudwatch.log_group": group}}}
            hits = cluster.search(index=indices, body=body)["hits"]["hits"]
            return hits if len(hits) >= len(lines) else []

        hits = wait_for(f"{len(lines)} documents of {group}", documents, target)
        sources = sorted((h["_source"] for h in hits), key=lambda s: s["@timestamp"])
        assert len({h["_id"] for h in hits}) == len(hits) == len(lines)  # each event once
        assert {s["faas"]["name"] for s in sources} == {f"logship-e2e-{marker[:12]}"}
        assert [s["log"]["level"] for s in sources[1:3]] == ["INFO", "ERROR"]
        assert sources[1]["message"] == f"end-to-end {marker}"
        assert sources[4]["lambda"]["duration_ms"] == 12.5
    finally:
        logs.delete_log_group(logGroupName=group)
        for index in config.naming.patterns:  # the test's documents, wherever they went
            cluster.delete_by_query(index=index, body={"query": {"term": {"aws.cloudwatch.log_group": group}}},
                                    params={"ignore_unavailable": "true"})


# ------------------------------------------------------------------------------------------ stand-ins

@pytest.fixture
def stand_ins(cloud: dict[str, Any], osmem_clone: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Target]:
    """The stack deployed from template.yaml into moto's CloudFormation (tests/integration/stack_deploy.py), its
    cluster osmem-server; CloudWatch Logs delivering to ship-logs and EventBridge to subscribe-log-group run the
    deployed functions, as their roles."""
    teach_cloudformation(monkeypatch, cloud["moto"])
    stack = TemplateStack(cloud["moto"], "logship", OpenSearchEndpoint=osmem_clone.url, OpenSearchAuth="none")
    functions = boto3.client("lambda", region_name="eu-west-1", endpoint_url=cloud["moto"])

    def announce(group: str) -> None:
        """EventBridge hands the CreateLogGroup event to the rule's target (PutEvents takes no ``aws.`` source)."""
        event = load("cloudtrail_create_lambda_group")
        event["detail"]["requestParameters"]["logGroupName"] = group
        answer = functions.invoke(FunctionName=stack.outputs["SubscribeLogGroupFunctionArn"],
                                  Payload=json.dumps(event).encode())
        assert "FunctionError" not in answer, answer["Payload"].read()

    yield Target(Aws("logship", "eu-west-1"), announce, patience_s=10, poll_s=0.1)
    stack.delete()


def test_end_to_end_on_stand_ins(stand_ins: Target) -> None:
    run_end_to_end(stand_ins)


# ----------------------------------------------------------------------------------- a deployed stack

@pytest.fixture
def deployed_stack(request: pytest.FixtureRequest) -> Target:
    name = request.config.getoption("--deployed-stack")
    if not name:
        pytest.skip("no --deployed-stack: `make test-deployed STACK=name` runs this against a real account")
    aws = Aws(name, request.config.getoption("--deployed-region") or None)
    try:
        aws.client("sts").get_caller_identity()
    except Exception as exc:  # no credentials, expired, no network: nothing to test against
        pytest.skip(f"no AWS credentials that work ({type(exc).__name__}): {exc}")
    # CloudTrail takes minutes to hand CreateLogGroup to EventBridge; the cluster a second or so to show documents.
    return Target(aws, lambda _group: None, patience_s=600, poll_s=10)


def test_end_to_end_on_a_deployed_stack(deployed_stack: Target) -> None:
    run_end_to_end(deployed_stack)
