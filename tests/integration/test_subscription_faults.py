"""The subscription functions under faults on the wire (moto behind tests/integration/aws_faults.py).

Throttling storms, LimitExceededException, 5xx, lost answers and unreachable endpoints, on the real handlers;
time is virtual (it passes when the code sleeps, or when a fault says a call was slow), so a sweep that
takes minutes of Lambda time takes seconds here, and continuations are replayed as Lambda would run them.
"""

from __future__ import annotations

import itertools
import json
import random
import re
import time
from collections.abc import Callable
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto.logs.models import logs_backends

from logship.core.config import SubscriberConfig
from logship.subscribe.created_groups import SubscribeError
from logship.subscribe.reconcile import Job
from logship.subscribe.subscriber import Subscriber
from logship.subscribe.sweep import Mode
from tests.conftest import load_handler
from tests.integration.aws_faults import Fault, Faults, Refuse, Unreachable
from tests.integration.conftest import ACCOUNT, REGION, SHIPPER_ARN, STACK_GROUPS
from tests.integration.test_reconcile_subscriptions import RECONCILER, SCHEDULED
from tests.integration.test_subscribe_log_group import created, printed, run_subscriber, subscriber_env
from tests.payloads import load

THROTTLED = Refuse("ThrottlingException", "Rate exceeded")
NO_ROOM = Refuse("LimitExceededException", "Resource limit exceeded.")


class VirtualTime:
    """Time that passes only when the code under test sleeps (backoff, pacing) or a fault takes time."""

    def __init__(self) -> None:
        self.now = 0.0

    def sleep(self, seconds: float) -> None:
        self.now += max(0.0, seconds)


class Invocation:
    """Lambda's context on virtual time: ``budget_ms`` from the moment it starts."""

    def __init__(self, clock: VirtualTime, budget_ms: int, function_name: str = RECONCILER) -> None:
        self.function_name = function_name
        self.aws_request_id = f"run-{clock.now:.0f}"
        self._clock = clock
        self._end = clock.now + budget_ms / 1000

    def get_remaining_time_in_millis(self) -> int:
        return int((self._end - self._clock.now) * 1000)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> VirtualTime:
    virtual = VirtualTime()
    monkeypatch.setattr("time.sleep", virtual.sleep)
    monkeypatch.setattr("time.monotonic", lambda: virtual.now)  # the pacers' clock: the same virtual time
    return virtual


@pytest.fixture
def account(aws: Any, monkeypatch: pytest.MonkeyPatch, clock: VirtualTime) -> Any:
    """The moto account with the reconciler deployed (it invokes itself), its settings, a fast pace."""
    aws.function(RECONCILER)
    for key, value in subscriber_env(AWS_LAMBDA_FUNCTION_NAME=RECONCILER, SUBSCRIPTION_CALLS_PER_SECOND="50").items():
        monkeypatch.setenv(key, value)
    return aws


@pytest.fixture
def faults(aws: Any, monkeypatch: pytest.MonkeyPatch) -> Faults:
    return Faults(monkeypatch)


class Chain:
    """Runs the real reconcile handler, then every continuation it asks for, as Lambda would deliver them."""

    def __init__(self, capsys: pytest.CaptureFixture[str], clock: VirtualTime) -> None:
        self._capsys = capsys
        self._clock = clock
        self._queued: list[dict[str, Any]] = []
        boto3.DEFAULT_SESSION.events.register("provide-client-params.lambda.Invoke", self._invoked)
        self.lines: list[dict[str, Any]] = []

    def _invoked(self, params: dict[str, Any], **_kwargs: Any) -> None:
        assert (params["FunctionName"], params["InvocationType"]) == (RECONCILER, "Event")
        self._queued.append(json.loads(params["Payload"]))

    def run(self, event: Any, budget_ms: int, before_part: Callable[[int], None] | None = None,
            max_parts: int = 40) -> list[dict[str, Any]]:
        """Every part's summary, in order; ``before_part(n)`` runs before part n (1-based)."""
        summaries: list[dict[str, Any]] = []
        pending: list[Any] = [event]
        while pending:
            assert len(summaries) < max_parts, "a chain of continuations must end"
            if before_part:
                before_part(len(summaries) + 1)
            app = load_handler("reconcile_subscriptions")
            try:
                app.handler(pending.pop(0), Invocation(self._clock, budget_ms))
            finally:
                lines = printed(self._capsys)
                self.lines.extend(lines)
            summaries.append(next(line for line in lines if line.get("logship") == "reconcile-subscriptions"))
            pending.extend(self._queued)
            self._queued.clear()
        return summaries


@pytest.fixture
def chain(capsys: pytest.CaptureFixture[str], clock: VirtualTime, aws: Any) -> Chain:
    return Chain(capsys, clock)


def outcomes(lines: list[dict[str, Any]], outcome: str) -> set[str]:
    return {line["log_group"] for line in lines if line.get("logship") == "subscription" and line["outcome"] == outcome}


# ------------------------------------------------------------------------------------ throttling storm

def storm(rng: random.Random, throttled: float, limit_exceeded: float) -> Callable[[str, str], Fault | None]:
    """``throttled`` of every CloudWatch Logs call answered ThrottlingException; of PutSubscriptionFilter calls,
    ``limit_exceeded`` more answered LimitExceededException (the only call AWS answers it to here)."""
    def rule(service: str, operation: str) -> Fault | None:
        if service != "cloudwatch-logs":
            return None
        draw = rng.random()
        if draw < throttled:
            return THROTTLED
        if operation == "PutSubscriptionFilter" and draw < throttled + limit_exceeded:
            return NO_ROOM
        return None

    return rule


def test_a_2000_group_sweep_under_a_throttling_storm_subscribes_every_selected_group(account, faults, chain):
    """The issue's figures: 35 % of calls throttled, 5 % LimitExceededException, 2,000 groups, continuations."""
    plain = [f"/aws/lambda/fn-{i:04d}" for i in range(1600)]
    with_room = [f"/aws/lambda/shared-{i:03d}" for i in range(100)]  # one other filter: there is room for ours
    full = [f"/aws/lambda/full-{i:02d}" for i in range(20)]  # two other filters: AWS really refuses a third
    legacy = [f"/aws/lambda/legacy-{i:03d}" for i in range(150)]
    elsewhere = [f"/ecs/svc-{i:03d}" for i in range(127)]
    account.many_groups(plain + with_room + full + legacy + elsewhere + list(STACK_GROUPS))
    audit, siem = account.function("audit-forwarder"), account.function("siem-forwarder")
    for group in with_room + full:
        account.subscribe(group, audit, name="audit")
    for group in full:
        account.subscribe(group, siem, name="siem")
    assert len(account.all_group_names()) == 2000
    faults.add(storm(random.Random(7), throttled=0.35, limit_exceeded=0.05))

    parts = chain.run(SCHEDULED, budget_ms=300_000)  # 5 minutes a part: the sweep needs several

    assert len(parts) >= 3
    assert [part["complete"] for part in parts] == [False] * (len(parts) - 1) + [True]
    assert [part["Unfinished"] for part in parts] == [0] * len(parts)
    totals = parts[-1]["run_totals"]
    assert (totals["subscribed"], totals["limit_blocked"], totals["failed"]) == (1700, 20, 0)
    assert (totals["seen"], totals["excluded"]) == (1700 + 20 + 150 + 3, 150 + 3)
    assert outcomes(chain.lines, "limit_blocked") == set(full)  # and not one false limit_blocked
    assert account.shipped() == set(plain + with_room)
    operations = ("DescribeLogGroups", "DescribeSubscriptionFilters", "PutSubscriptionFilter")
    answered = sum(faults.faults.get(op, 0) for op in operations) / sum(faults.attempts[op] for op in operations)
    assert 0.30 < answered < 0.45  # the storm really blew


def test_throttling_on_every_attempt_fails_the_group_after_a_bounded_number_of_attempts(aws, faults, monkeypatch,
                                                                                        capsys, clock):
    aws.groups("/aws/lambda/orders-api")
    attempts = faults.refuse("PutSubscriptionFilter", "ThrottlingException", "Rate exceeded")

    with pytest.raises(SubscribeError, match=r"ThrottlingException: Rate exceeded \(on every attempt"):
        run_subscriber(monkeypatch, capsys, load("cloudtrail_create_lambda_group"))

    assert len(attempts) == 12  # our bound; botocore adds no retries of its own underneath
    assert 0 < clock.now < 60  # backoff waited between attempts, within the invocation's minute


@pytest.mark.parametrize("fault", [Refuse("ServiceUnavailableException", "Service unavailable", 503),
                                   Refuse("InternalFailure", "internal error", 500), Unreachable()],
                         ids=["503", "500", "unreachable"])
def test_5xx_and_connection_failures_are_retried(fault, aws, faults, monkeypatch, capsys, clock):
    aws.groups("/aws/lambda/orders-api")
    attempts = faults.on("DescribeSubscriptionFilters", fault, times=2)

    # BACKFILL_HOURS=0: the backfill's own look at the new filter would be a fourth DescribeSubscriptionFilters
    summary = run_subscriber(monkeypatch, capsys, load("cloudtrail_create_lambda_group"), BACKFILL_HOURS="0")[-1]

    assert len(attempts) == 3
    assert summary["outcome"] == "subscribed"
    assert aws.filters("/aws/lambda/orders-api") == {"logship": SHIPPER_ARN}


@pytest.mark.parametrize("status", [500, 0], ids=["500", "read-timeout"])
def test_a_subscription_whose_answer_was_lost_counts_as_subscribed(status, aws, faults, monkeypatch, capsys, clock):
    aws.groups("/aws/lambda/orders-api")
    faults.lose_answer("PutSubscriptionFilter", status=status)

    summary = run_subscriber(monkeypatch, capsys, load("cloudtrail_create_lambda_group"))[-1]

    assert (summary["subscribed"], summary["failed"]) == (1, 0)
    assert aws.filters("/aws/lambda/orders-api") == {"logship": SHIPPER_ARN}


# ------------------------------------------------------------------------------- a listing that stalls

def test_a_part_that_cannot_list_at_all_ends_the_run_unfinished_instead_of_looping(account, faults, chain):
    account.groups("/aws/lambda/orders-api")
    faults.refuse("DescribeLogGroups", "ThrottlingException", "Rate exceeded")

    [part] = chain.run(SCHEDULED, budget_ms=120_000)

    assert (part["complete"], part["unfinished"], part["Unfinished"], part["level"]) == (False, 1, 1, "error")
    assert part["stopped"].startswith("no progress in this part: DescribeLogGroups still answered "
                                      "ThrottlingException")
    assert "continues_at" not in part
    assert faults.attempts["DescribeLogGroups"] > 12  # the listing is retried for as long as there is time
    assert account.shipped() == set()


def test_without_a_deadline_a_throttled_listing_still_ends_after_the_usual_attempts(aws, faults, clock):
    subscriber = Subscriber.build(SubscriberConfig.from_env(subscriber_env()))  # no run begun: no deadline
    attempts = faults.refuse("DescribeLogGroups", "ThrottlingException", "Rate exceeded")

    with pytest.raises(ClientError, match="ThrottlingException"):
        subscriber.filters.list_groups("/aws/lambda/")

    assert len(attempts) == 12


def test_a_listing_throttled_until_time_runs_short_continues_in_a_fresh_invocation(account, faults, chain, clock):
    groups = [f"/aws/lambda/fn-{i:03d}" for i in range(80)]  # two pages
    account.groups(*groups)
    part = {"n": 0}
    listed = {"pages": 0}

    def second_page_throttled_in_the_first_part(service: str, operation: str) -> Fault | None:
        if operation != "DescribeLogGroups":
            return None
        listed["pages"] += 1
        return THROTTLED if part["n"] == 1 and listed["pages"] > 1 else None

    faults.add(second_page_throttled_in_the_first_part)
    parts = chain.run(SCHEDULED, budget_ms=200_000, before_part=lambda n: part.update(n=n))

    assert [p["complete"] for p in parts] == [False, True]
    assert [p["Unfinished"] for p in parts] == [0, 0]
    assert [p["seen"] for p in parts] == [50, 30]  # no group visited twice
    assert parts[1]["run_totals"]["subscribed"] == 80
    assert account.shipped() == set(groups)


def test_a_group_still_throttled_when_time_runs_short_is_done_by_the_next_part_not_failed(account, faults, chain,
                                                                                          clock):
    account.groups("/aws/lambda/a", "/aws/lambda/b", "/aws/lambda/c")
    part = {"n": 0}
    puts_for = {"group": ""}
    boto3.DEFAULT_SESSION.events.register(
        "provide-client-params.cloudwatch-logs.PutSubscriptionFilter",
        lambda params, **_: puts_for.update(group=params["logGroupName"]))

    def slow_throttled_puts_on_b_in_the_first_part(service: str, operation: str) -> Fault | None:
        if operation == "PutSubscriptionFilter" and part["n"] == 1 and puts_for["group"] == "/aws/lambda/b":
            clock.now += 8  # each throttled answer is slow in coming
            return THROTTLED
        return None

    faults.add(slow_throttled_puts_on_b_in_the_first_part)

    parts = chain.run(SCHEDULED, budget_ms=65_000, before_part=lambda n: part.update(n=n))

    assert [p["complete"] for p in parts] == [False, True]
    assert [p["seen"] for p in parts] == [1, 2]
    assert parts[-1]["run_totals"]["failed"] == 0
    assert outcomes(chain.lines, "failed") == set()
    assert account.shipped() == {"/aws/lambda/a", "/aws/lambda/b", "/aws/lambda/c"}


# ------------------------------------------------------------------------------- LimitExceededException

def test_limit_exceeded_on_a_group_without_other_filters_is_retried_then_a_failure_with_the_reason(
        aws, faults, monkeypatch, capsys, clock):
    aws.groups("/aws/lambda/orders-api")
    attempts = faults.refuse("PutSubscriptionFilter", "LimitExceededException", "Resource limit exceeded.")

    with pytest.raises(SubscribeError, match=re.escape(
            "LimitExceededException: Resource limit exceeded. (4 times, although the group has no other "
            "subscription filter)")):
        run_subscriber(monkeypatch, capsys, load("cloudtrail_create_lambda_group"))

    assert len(attempts) == 4  # our bound; botocore no longer retries it as if it were throttling
    assert aws.filters("/aws/lambda/orders-api") == {}


@pytest.mark.parametrize("others", [0, 1])
def test_a_passing_limit_exceeded_is_not_limit_blocked(others, aws, faults, monkeypatch, capsys, clock):
    aws.groups("/aws/lambda/orders-api")
    if others:
        aws.subscribe("/aws/lambda/orders-api", aws.function("audit-forwarder"), name="audit")
    attempts = faults.refuse("PutSubscriptionFilter", "LimitExceededException", "Resource limit exceeded.", times=1)

    summary = run_subscriber(monkeypatch, capsys, load("cloudtrail_create_lambda_group"))[-1]

    assert len(attempts) == 2
    assert (summary["outcome"], summary["limit_blocked"], summary["failed"]) == ("subscribed", 0, 0)
    assert aws.filters("/aws/lambda/orders-api")["logship"] == SHIPPER_ARN


# ------------------------------------------------------------------------ removals: what really happened

@pytest.mark.parametrize("status", [500, 503, 0], ids=["500", "503", "read-timeout"])
def test_a_removal_whose_answer_was_lost_counts_as_removed_not_gone(status, account, faults, chain):
    account.groups("/aws/lambda/a", "/aws/lambda/b")
    for group in ("/aws/lambda/a", "/aws/lambda/b"):
        account.subscribe(group, SHIPPER_ARN)
    faults.lose_answer("DeleteSubscriptionFilter", status=status)

    [summary] = chain.run(remove_event(), budget_ms=600_000)

    assert (summary["removed"], summary["gone"], summary["failed"]) == (2, 0, 0)
    assert account.shipped() == set()


def test_a_filter_someone_else_deleted_first_counts_as_gone(account, faults, chain):
    account.groups("/aws/lambda/a")
    account.subscribe("/aws/lambda/a", SHIPPER_ARN)

    def someone_deletes_it_first(service: str, operation: str) -> Fault | None:
        if operation == "DeleteSubscriptionFilter" and account.filters("/aws/lambda/a"):
            logs_backends[ACCOUNT][REGION].delete_subscription_filter("/aws/lambda/a", "logship")
        return None  # and AWS answers for itself: ResourceNotFoundException

    faults.add(someone_deletes_it_first)
    [summary] = chain.run(remove_event(), budget_ms=600_000)

    assert (summary["removed"], summary["gone"], summary["failed"]) == (0, 1, 0)


def remove_event() -> dict[str, Any]:
    """An uninstall's part as a continuation (no CloudFormation to answer: the sweep's own figures are checked)."""
    return Job(Mode.REMOVE, "invoke", "run-1", 0.0).to_event()


# ---------------------------------------------------------------------------------- retention by sweep

def test_the_sweep_sets_retention_on_selected_groups_that_have_none_from_the_listing(account, faults, chain,
                                                                                     monkeypatch):
    monkeypatch.setenv("RETENTION_DAYS", "30")
    account.groups("/aws/lambda/a", "/aws/lambda/b", "/aws/lambda/legacy-x", *STACK_GROUPS)
    account.groups("/aws/lambda/kept", retention=7)
    account.subscribe("/aws/lambda/b", SHIPPER_ARN)  # already subscribed: still given retention

    [summary] = chain.run(SCHEDULED, budget_ms=600_000)

    retention = {name: account.retention(name) for name in account.all_group_names()}
    assert retention == {"/aws/lambda/a": 30, "/aws/lambda/b": 30, "/aws/lambda/kept": 7,
                         "/aws/lambda/legacy-x": None} | dict.fromkeys(STACK_GROUPS)
    assert (summary["retention_set"], summary["RetentionSet"]) == (2, 2)
    assert outcomes(chain.lines, "retention_set") == {"/aws/lambda/a", "/aws/lambda/b"}
    assert faults.attempts["DescribeLogGroups"] == 1  # the listing's retentionInDays: no extra call


# -------------------------------------------------------------------------- the subscription DLQ

def on_failure_record(group: str) -> str:
    """What Lambda sends to subscribe-log-group's on-failure destination after its retries."""
    return json.dumps({
        "version": "1.0", "timestamp": "2025-11-22T10:01:09.000Z",
        "requestContext": {"requestId": "c2a6b6a4", "functionArn": "arn:aws:lambda:eu-west-1:123456789012:function:"
                           "logship-subscribe-log-group:$LATEST", "condition": "RetriesExhausted",
                           "approximateInvokeCount": 3},
        "requestPayload": created(group),
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
        "responsePayload": {"errorMessage": f"could not subscribe {group}: ThrottlingException",
                            "errorType": "SubscribeError"}})


@pytest.fixture
def queue(account: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    sqs = boto3.client("sqs", region_name="eu-west-1")
    url = sqs.create_queue(QueueName="logship-SubscriptionDeadLetterQueue")["QueueUrl"]
    monkeypatch.setenv("SUBSCRIPTION_DLQ_URL", url)
    return sqs, url


def _now_ms() -> int:
    return int(time.time() * 1000)


def _after(ms: int) -> None:
    """Wait (real time: time.sleep is virtual here) until the millisecond is past ``ms``: SQS stamps to the ms."""
    while _now_ms() <= ms:
        pass


def _send(sqs: Any, url: str, group: str) -> None:
    sqs.send_message(QueueUrl=url, MessageBody=on_failure_record(group))


def test_a_complete_sweep_clears_the_dead_letters_sent_before_it_started(account, queue, chain):
    sqs, url = queue
    account.groups("/aws/lambda/orders-api", "/aws/lambda/billing")
    for group in ("/aws/lambda/orders-api", "/aws/lambda/billing"):
        _send(sqs, url, group)
    _after(_now_ms())
    job = Job.start(Mode.SUBSCRIBE, "schedule", None)
    _after(int(job.started_at * 1000))
    _send(sqs, url, "/aws/lambda/created-meanwhile")  # after the sweep started: the next sweep's

    [summary] = chain.run(job.to_event(), budget_ms=600_000)

    assert (summary["complete"], summary["dead_letters_cleared"], summary["dead_letters_kept"]) == (True, 2, 1)
    assert sorted(summary["dead_letters_groups"]) == ["/aws/lambda/billing", "/aws/lambda/orders-api"]
    left = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0).get("Messages", [])
    assert left == []  # the one kept is hidden for a moment after being looked at ...
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    counted = int(attributes["ApproximateNumberOfMessages"]) + int(attributes["ApproximateNumberOfMessagesNotVisible"])
    assert counted == 1  # ... but still there for the next sweep
    assert account.shipped() == {"/aws/lambda/orders-api", "/aws/lambda/billing"}


def test_an_unfinished_sweep_leaves_the_dead_letters_alone(account, queue, faults, chain):
    sqs, url = queue
    _send(sqs, url, "/aws/lambda/orders-api")
    faults.refuse("DescribeLogGroups", "ThrottlingException", "Rate exceeded")

    [summary] = chain.run(SCHEDULED, budget_ms=120_000)

    assert summary["complete"] is False
    assert "dead_letters_cleared" not in summary
    assert "ReceiveMessage" not in faults.attempts


def test_an_uninstall_leaves_the_dead_letters_alone(account, queue, faults, chain):
    sqs, url = queue
    _send(sqs, url, "/aws/lambda/orders-api")

    [summary] = chain.run(remove_event(), budget_ms=600_000)

    assert summary["complete"] is True
    assert "ReceiveMessage" not in faults.attempts


# ---------------------------------------------------------------------------------- pace and call()

def test_every_call_is_paced_at_the_configured_rate(aws):
    clock = VirtualTime()
    config = SubscriberConfig.from_env(subscriber_env(SUBSCRIPTION_CALLS_PER_SECOND="20"))
    subscriber = Subscriber.build(config, clock=lambda: clock.now, sleep=clock.sleep)
    aws.groups(*(f"/aws/lambda/fn-{i}" for i in range(10)))
    called_at: list[float] = []
    boto3.DEFAULT_SESSION.events.register("provide-client-params.cloudwatch-logs.DescribeSubscriptionFilters",
                                          lambda **_: called_at.append(clock.now))

    for i in range(10):
        subscriber.filters.ensure(f"/aws/lambda/fn-{i}")

    assert all(later - earlier >= 1 / 20 - 1e-9 for earlier, later in itertools.pairwise(called_at))
    assert called_at[-1] - called_at[0] < 1 / 20 * 10  # and no slower than that


def test_call_is_one_paced_retried_cloudwatch_logs_call_for_other_modules(aws, faults, clock):
    aws.groups("/aws/lambda/orders-api")
    aws.logs.create_log_stream(logGroupName="/aws/lambda/orders-api", logStreamName="s")
    aws.logs.put_log_events(logGroupName="/aws/lambda/orders-api", logStreamName="s",
                            logEvents=[{"timestamp": int(time.time() * 1000), "message": "START RequestId: 1"}])
    throttled = faults.refuse("FilterLogEvents", "ThrottlingException", "Rate exceeded", times=2)
    filters = Subscriber.build(SubscriberConfig.from_env(subscriber_env())).filters

    page = filters.call("FilterLogEvents", logGroupName="/aws/lambda/orders-api")

    assert len(throttled) == 3
    assert [event["message"] for event in page["events"]] == ["START RequestId: 1"]
    with pytest.raises(ValueError, match="CreateLogGroup is not one of the APIs"):
        filters.call("CreateLogGroup", logGroupName="/aws/lambda/x")

