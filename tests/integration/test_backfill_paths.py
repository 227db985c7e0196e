"""The backfill on both subscription paths and on demand, through the real handlers (moto and osmem-server).

A group logs before logship subscribes it; whichever path subscribes it, those lines end up searchable exactly
once, shipped through the real ship-logs handler (run in-process where Lambda would run the async invoke).
"""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import quote

import boto3
import pytest
from botocore.awsrequest import AWSResponse

from logship.subscribe.created_groups import SubscribeError
from tests.conftest import LambdaContext, load_handler, search_all
from tests.integration.aws_faults import ANSWERED
from tests.integration.conftest import SHIPPER_ARN
from tests.integration.test_backfill import (
    GROUP,
    STREAM_A,
    InProcessShipper,
    filter_delivers_to,
    group_events,
    log_fixture,
    now_ms,
)
from tests.integration.test_reconcile_subscriptions import RECONCILER, SCHEDULED, Countdown
from tests.integration.test_subscribe_log_group import answer_with, printed, run_subscriber, subscriber_env
from tests.payloads import load


class _Accepted:
    def stream(self, **_kwargs: Any) -> Any:
        yield b""


@pytest.fixture
def shipper(aws: Any, opensearch: Any, osmem_clone: Any, monkeypatch: pytest.MonkeyPatch) -> InProcessShipper:
    """ship-logs as deployed: an asynchronous Invoke of it runs the real handler into osmem-server, then is
    answered 202 as Lambda does (moto without Docker would only answer); the filter's own deliveries too."""
    running = InProcessShipper(monkeypatch, osmem_clone.url)
    filter_delivers_to(monkeypatch, SHIPPER_ARN, running)

    def invoke(request: Any, event_name: str, **_kwargs: Any) -> AWSResponse | None:
        if (event_name != "before-send.lambda.Invoke" or request.headers.get(ANSWERED)
                or (quote(SHIPPER_ARN, safe="") not in request.url and SHIPPER_ARN not in request.url)):
            return None  # not an invoke of the shipper, or a fault answered it (tests/integration/aws_faults.py)
        assert request.headers["X-Amz-Invocation-Type"] == b"Event"
        running(json.loads(request.body))
        return AWSResponse(request.url, 202, {"x-amzn-RequestId": "queued"}, _Accepted())

    # On "before-send" itself and after the faults' hook (registered first), which marks what it answers:
    # botocore runs every handler, a more specific event's before the others.
    boto3.DEFAULT_SESSION.events.register("before-send", invoke)
    return running


def reconcile(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], event: Any,
              **env: str) -> list[dict[str, Any]]:
    for key, value in subscriber_env(AWS_LAMBDA_FUNCTION_NAME=RECONCILER, **env).items():
        monkeypatch.setenv(key, value)
    load_handler("reconcile_subscriptions").handler(event, Countdown(10**9, step_ms=0))
    return printed(capsys)


def lines_before_subscription(aws: Any) -> list[str]:
    aws.groups(GROUP)
    return log_fixture(aws, "cwl_python_runtime", STREAM_A, now_ms() - 60_000)


def test_a_new_group_subscribed_from_its_cloudtrail_event_gets_its_earlier_lines(aws, shipper, opensearch,
                                                                                 monkeypatch, capsys):
    before = lines_before_subscription(aws)

    summary = run_subscriber(monkeypatch, capsys, load("cloudtrail_create_lambda_group"))[-1]

    assert summary["outcome"] == "subscribed"
    assert (summary["backfill"]["status"], summary["backfill"]["shipped"]) == ("done", len(before))
    assert (summary["backfill_shipped"], summary["BackfillShipped"]) == (len(before), len(before))
    assert sorted(doc["_id"] for doc in search_all(opensearch)) == sorted(e["eventId"] for e in group_events(aws))
    assert shipper.total("indexed") == len(before)


def test_a_sweep_backfills_the_groups_it_subscribes_and_not_the_ones_already_subscribed(aws, shipper, opensearch,
                                                                                       monkeypatch, capsys):
    before = lines_before_subscription(aws)
    aws.groups("/aws/lambda/already-shipped")
    log_fixture(aws, "cwl_node_runtime", STREAM_A, now_ms() - 30_000)  # into GROUP too: both before the filter
    aws.subscribe("/aws/lambda/already-shipped", SHIPPER_ARN)

    lines = reconcile(monkeypatch, capsys, SCHEDULED)

    [summary] = [line for line in lines if line.get("logship") == "reconcile-subscriptions"]
    [backfilled] = [line for line in lines if line.get("logship") == "backfill"]
    node = len(load("cwl_node_runtime")["logEvents"])
    assert backfilled["log_group"] == GROUP
    assert summary["backfill_shipped"] == len(before) + node
    assert len(search_all(opensearch)) == len(before) + node


def test_a_backfill_can_be_run_again_on_demand_and_ships_nothing_twice(aws, shipper, opensearch, monkeypatch,
                                                                       capsys):
    before = lines_before_subscription(aws)
    run_subscriber(monkeypatch, capsys, load("cloudtrail_create_lambda_group"), BACKFILL_HOURS="0")
    assert search_all(opensearch) == []  # subscribed without its earlier lines (say the backfill was off)

    for _ in range(2):
        lines = reconcile(monkeypatch, capsys, {"backfill": [GROUP]})

    summary = lines[-1]
    assert (summary["trigger"], summary["backfill"]) == ("backfill", {GROUP: "done"})
    assert len(search_all(opensearch)) == len(before)
    assert (shipper.total("indexed"), shipper.total("duplicates")) == (len(before), len(before))


def subscribe_raising(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], context: Any = None,
                      **env: str) -> list[dict[str, Any]]:
    """The real subscribe-log-group on the sample event, expected to fail (so Lambda retries); what it printed."""
    for key, value in subscriber_env(AWS_LAMBDA_FUNCTION_NAME="logship-subscribe-log-group", **env).items():
        monkeypatch.setenv(key, value)
    with pytest.raises(SubscribeError, match=f"could not ship the earlier lines of {GROUP}: "):
        load_handler("subscribe_log_group").handler(load("cloudtrail_create_lambda_group"),
                                                    context or LambdaContext(function_name="logship-subscribe-log-group"))
    return printed(capsys)


def test_a_failed_backfill_keeps_the_subscription_and_lambdas_retry_ships_the_lines(aws, shipper, opensearch,
                                                                                    monkeypatch, capsys):
    before = lines_before_subscription(aws)
    refused = answer_with(monkeypatch, "Invoke", "AccessDeniedException",
                          "not authorized to perform: lambda:InvokeFunction", times=1, service="lambda")

    summary = subscribe_raising(monkeypatch, capsys)[-1]

    assert summary["outcome"] == "subscribed"  # the subscription stands
    assert aws.filters(GROUP) == {"logship": SHIPPER_ARN}
    assert summary["backfill"]["status"] == "failed"
    assert summary["backfill_failed"] == summary["BackfillFailed"] == 1
    assert "AccessDeniedException" in summary["backfill"]["detail"]
    assert summary["problems"][0].startswith(f"{GROUP}: backfill failed")
    assert len(refused) == 1
    assert search_all(opensearch) == []

    retried = run_subscriber(monkeypatch, capsys, load("cloudtrail_create_lambda_group"))[-1]  # Lambda's retry

    assert (retried["outcome"], retried["backfill"]["status"]) == ("already_subscribed", "done")
    assert len(search_all(opensearch)) == len(before)


def test_a_backfill_cut_short_by_the_lambda_context_fails_the_invocation_so_lambda_retries(aws, shipper, opensearch,
                                                                                          monkeypatch, capsys):
    lines_before_subscription(aws)

    summary = subscribe_raising(monkeypatch, capsys, LambdaContext(remaining_ms=4_000))[-1]  # under the 5 s reserve

    assert summary["outcome"] == "subscribed"
    assert summary["backfill"]["status"] == "out_of_time"
    assert "run the backfill for this group again" in summary["backfill"]["detail"]


def test_a_sweep_ships_the_earlier_lines_of_a_group_whose_event_ended_in_the_dead_letter_queue(
        aws, shipper, opensearch, monkeypatch, capsys):
    before = lines_before_subscription(aws)
    queue = boto3.client("sqs").create_queue(QueueName="logship-SubscriptionDeadLetterQueue")["QueueUrl"]
    answer_with(monkeypatch, "Invoke", "AccessDeniedException", "not authorized", times=3, service="lambda")
    for _attempt in range(3):  # Lambda's two retries fail as well: the event goes to the dead-letter queue
        subscribe_raising(monkeypatch, capsys)
    record = {"requestContext": {"condition": "RetriesExhausted"},
              "requestPayload": load("cloudtrail_create_lambda_group"),
              "responsePayload": {"errorType": "SubscribeError", "errorMessage": "could not ship the earlier lines"}}
    boto3.client("sqs").send_message(QueueUrl=queue, MessageBody=json.dumps(record))
    assert search_all(opensearch) == []
    time.sleep(0.002)  # the sweep starts after the message was sent

    summary = reconcile(monkeypatch, capsys, SCHEDULED, SUBSCRIPTION_DLQ_URL=queue)[-1]

    assert (summary["complete"], summary["already_subscribed"]) == (True, 1)
    assert (summary["dead_letters_cleared"], summary["dead_letters_groups"]) == (1, [GROUP])
    assert summary["backfill_shipped"] == len(before)
    assert len(search_all(opensearch)) == len(before)


def test_an_on_demand_backfill_of_a_group_logship_does_not_ship_says_so(aws, monkeypatch, capsys):
    aws.groups("/aws/lambda/not-subscribed")

    summary = reconcile(monkeypatch, capsys, {"backfill": ["/aws/lambda/not-subscribed"]})[-1]

    assert summary["backfill"] == {"/aws/lambda/not-subscribed": "no_filter"}
    assert "no subscription filter on /aws/lambda/not-subscribed" in summary["problems"][0]
