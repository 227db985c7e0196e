"""reconcile-subscriptions against moto: sweeps of existing groups, continuations, install and uninstall.

CloudFormation's side of the custom resource is a local HTTP server receiving the real PUT.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from logship.core.config import SubscriberConfig
from logship.subscribe.reconcile import CONTINUE_MARGIN_MS, REMOVAL_BUDGET_S, Job
from logship.subscribe.report import Tally
from logship.subscribe.subscriber import Subscriber
from logship.subscribe.sweep import Mode, sweep
from tests.conftest import load_handler
from tests.integration.conftest import ACCOUNT, REGION, SHIPPER_ARN, STACK_GROUPS, CloudFormation
from tests.integration.test_subscribe_log_group import answer_with, printed, subscriber_env

RECONCILER = "logship-reconcile-subscriptions"
SCHEDULED = {"version": "0", "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa", "detail-type": "Scheduled Event",
             "source": "aws.events", "account": ACCOUNT, "time": "2025-11-22T12:00:00Z", "region": REGION,
             "resources": [f"arn:aws:events:{REGION}:{ACCOUNT}:rule/logship-ReconcileScheduleRule-1A2B3C"],
             "detail": {}}


class Countdown:
    """A Lambda context whose remaining time drops by ``step_ms`` each time it is read: deterministic deadlines."""

    def __init__(self, remaining_ms: int, step_ms: int = 1000, function_name: str = RECONCILER) -> None:
        self.function_name = function_name
        self.aws_request_id = "0e5f7d3c-run"
        self._remaining = remaining_ms
        self._step = step_ms

    def get_remaining_time_in_millis(self) -> int:
        self._remaining -= self._step
        return self._remaining


PLENTY = 10**9  # ms: a sweep that never runs short


@pytest.fixture
def account(aws: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The moto account with the reconciler deployed too (it invokes itself), pacing waits skipped."""
    aws.function(RECONCILER)
    monkeypatch.setattr("time.sleep", lambda _s: None)
    for key, value in subscriber_env(AWS_LAMBDA_FUNCTION_NAME=RECONCILER).items():
        monkeypatch.setenv(key, value)
    return aws


@pytest.fixture
def timeline() -> Iterator[list[tuple[str, Any]]]:
    """Every AWS call the functions make, in order, as ``("Operation", params)``; CloudFormation answers join it."""
    calls: list[tuple[str, Any]] = []

    def record(params: Any, model: Any, **_kwargs: Any) -> None:
        calls.append((model.name, params))

    boto3.DEFAULT_SESSION.events.register("provide-client-params", record)
    return calls


def invocations(timeline: list[tuple[str, Any]]) -> list[dict[str, Any]]:
    """The asynchronous self-invocations, as Lambda would deliver them."""
    found = [params for operation, params in timeline if operation == "Invoke"]
    assert all(p["InvocationType"] == "Event" and p["FunctionName"] == RECONCILER for p in found)
    return [json.loads(p["Payload"]) for p in found]


def reconcile(capsys: pytest.CaptureFixture[str], event: Any, context: Any = None) -> list[dict[str, Any]]:
    """One invocation of the real handler on a cold start; every JSON line it printed."""
    app = load_handler("reconcile_subscriptions")
    try:
        app.handler(event, context or Countdown(PLENTY))
    finally:
        lines = printed(capsys)
    return lines


def summaries(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [line for line in lines if line.get("logship") == "reconcile-subscriptions"]


# ---------------------------------------------------------------------------------------------- sweeps

class VirtualClock:
    """Time that passes only when the pacer sleeps, so 2,000 groups at 5 calls/second take no real seconds."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_sweep_over_2000_groups_subscribes_every_selected_one_and_paces_listing(aws):
    lambda_groups = [f"/aws/lambda/fn-{i:04d}" for i in range(1500)]
    legacy = [f"/aws/lambda/legacy-{i:03d}" for i in range(200)]
    elsewhere = [f"/ecs/svc-{i:03d}" for i in range(150)] + [f"/aws/rds/db-{i:03d}" for i in range(147)]
    aws.many_groups(lambda_groups + legacy + elsewhere + list(STACK_GROUPS))
    assert len(aws.all_group_names()) == 2000
    config = SubscriberConfig.from_env(subscriber_env())
    clock = VirtualClock()
    subscriber = Subscriber.build(config, clients={"logs": lambda: aws.logs}, clock=clock, sleep=clock.sleep)
    listed_at: list[float] = []
    aws.logs.meta.events.register("before-call.cloudwatch-logs.DescribeLogGroups", lambda **_: listed_at.append(clock.now))
    tally = Tally()

    cursor = sweep(subscriber, Mode.SUBSCRIBE, tally, remaining_ms=lambda: PLENTY, margin_ms=60_000)

    pages = list(listed_at)
    assert cursor is None
    assert len(pages) == 35  # only /aws/lambda/ is listed: 1,703 groups, 50 a page
    assert all(later - earlier >= 1.0 for earlier, later in zip(pages, pages[5:], strict=False))  # <= 5 a second
    assert clock.now >= (1700 - 1) / 5 - 1e-6  # a DescribeSubscriptionFilters per group but our own, 5 a second
    assert tally.counts["seen"] == 1500 + 200 + 3
    assert tally.counts["subscribed"] == 1500
    assert tally.counts["excluded"] == 203
    assert aws.shipped() == set(lambda_groups)


def test_scheduled_sweep_fixes_stale_filters_and_unsubscribes_newly_excluded_groups(account, capsys):
    old = account.function("old-logship-ship-logs")
    other = account.function("audit-forwarder")
    live = account.function("someone-elses-shipper")
    account.groups("/aws/lambda/new", "/aws/lambda/stale", "/aws/lambda/done", "/aws/lambda/legacy-billing",
                   "/aws/lambda/two-others", "/aws/lambda/taken", *STACK_GROUPS)
    account.subscribe("/aws/lambda/stale", old)
    account.subscribe("/aws/lambda/done", SHIPPER_ARN)
    account.subscribe("/aws/lambda/legacy-billing", SHIPPER_ARN)  # subscribed before EXCLUDE named it
    account.subscribe("/aws/lambda/legacy-billing", other, name="audit")
    account.subscribe("/aws/lambda/two-others", other, name="audit")
    account.subscribe("/aws/lambda/two-others", old, name="legacy")
    account.subscribe("/aws/lambda/taken", live)  # our filter name, a live destination that is not ours
    account.lambda_.delete_function(FunctionName="old-logship-ship-logs")  # its filters are stale now

    lines = reconcile(capsys, SCHEDULED)

    assert account.shipped() == {"/aws/lambda/new", "/aws/lambda/stale", "/aws/lambda/done"}
    assert account.filters("/aws/lambda/legacy-billing") == {"audit": other}
    assert account.filters("/aws/lambda/two-others") == {"audit": other, "legacy": old}
    assert account.filters("/aws/lambda/taken") == {"logship": live}
    summary = summaries(lines)[-1]
    assert summary["trigger"] == "schedule"
    assert summary["complete"] is True
    figures = {key: summary[key] for key in ("seen", "subscribed", "already_subscribed", "updated", "excluded",
                                             "limit_blocked", "clash", "failed", "removed")}
    assert figures == {"seen": 9, "subscribed": 1, "already_subscribed": 1, "updated": 1, "excluded": 4,
                       "limit_blocked": 1, "clash": 1, "failed": 0, "removed": 1}
    assert (summary["LimitBlocked"], summary["Clash"]) == (1, 1)
    assert summary["problems"][0].startswith("/aws/lambda/taken: a filter named 'logship' already sends this "
                                             f"group to {live} (a live function)")
    assert summary["problems"][1].startswith("/aws/lambda/two-others: no room for logship's filter: AWS answered "
                                             "LimitExceededException 4 times while the group has 2 other")
    changed = {line["log_group"]: line["outcome"] for line in lines if line.get("logship") == "subscription"}
    assert changed == {"/aws/lambda/new": "subscribed", "/aws/lambda/stale": "updated",
                       "/aws/lambda/legacy-billing": "removed", "/aws/lambda/two-others": "limit_blocked",
                       "/aws/lambda/taken": "clash"}


def transformed(account: Any, group: str) -> bool | None:
    """What DescribeSubscriptionFilters says of logship's filter on ``group``: None when it leaves the option out."""
    [found] = account.logs.describe_subscription_filters(logGroupName=group)["subscriptionFilters"]
    return found.get("applyOnTransformedLogs")


def test_apply_on_transformed_logs_puts_filters_so_and_a_change_of_the_setting_updates_them(account, capsys,
                                                                                           monkeypatch):
    """Described by DescribeSubscriptionFilters as PutSubscriptionFilter was given it (moto taught to keep it,
    tests/integration/moto_gaps.py): a filter whose applyOnTransformedLogs differs from the setting is outdated."""
    account.groups("/aws/lambda/orders", "/aws/lambda/billing", *STACK_GROUPS)
    account.subscribe("/aws/lambda/billing", SHIPPER_ARN)  # from before the setting

    monkeypatch.setenv("APPLY_ON_TRANSFORMED_LOGS", "true")
    turned_on = reconcile(capsys, SCHEDULED)
    again = summaries(reconcile(capsys, SCHEDULED))[-1]
    monkeypatch.setenv("APPLY_ON_TRANSFORMED_LOGS", "false")
    turned_off = summaries(reconcile(capsys, SCHEDULED))[-1]

    summary = summaries(turned_on)[-1]
    assert (summary["subscribed"], summary["updated"], summary["failed"]) == (1, 1, 0)
    [updated] = [line for line in turned_on if line.get("outcome") == "updated"]
    assert updated["detail"] == ("filter logship: has applyOnTransformedLogs false, not true "
                                 "(ApplyOnTransformedLogs)")
    assert (again["already_subscribed"], again["updated"]) == (2, 0)
    assert (turned_off["updated"], turned_off["failed"]) == (2, 0)
    assert {transformed(account, group) for group in ("/aws/lambda/orders", "/aws/lambda/billing")} == {None}


def test_emit_system_fields_puts_filters_naming_the_source_and_a_filter_without_them_is_updated(account, capsys,
                                                                                               monkeypatch):
    """For a central account of a CloudWatch Logs centralization: each event a filter sends then names the account
    and region it was logged in (moto taught to keep and describe emitSystemFields, as the API reference does)."""
    account.groups("/aws/lambda/orders", "/aws/lambda/billing", *STACK_GROUPS)
    account.subscribe("/aws/lambda/billing", SHIPPER_ARN)  # from before the setting
    monkeypatch.setenv("EMIT_SYSTEM_FIELDS", "true")

    lines = reconcile(capsys, SCHEDULED)

    summary = summaries(lines)[-1]
    assert (summary["subscribed"], summary["updated"], summary["failed"]) == (1, 1, 0)
    [updated] = [line for line in lines if line.get("outcome") == "updated"]
    assert updated["detail"] == "filter logship: emits system fields none, not @aws.account, @aws.region " \
                                "(EmitSystemFields)"
    for group in ("/aws/lambda/orders", "/aws/lambda/billing"):
        [found] = account.logs.describe_subscription_filters(logGroupName=group)["subscriptionFilters"]
        assert found["emitSystemFields"] == ["@aws.account", "@aws.region"]
    assert summaries(reconcile(capsys, SCHEDULED))[-1]["already_subscribed"] == 2


def test_with_apply_on_transformed_logs_a_group_that_refuses_it_is_failed_with_the_setting_named(account, capsys,
                                                                                                 monkeypatch):
    """The API says the option is valid only for groups with a transformer, not what a group without one answers
    (if anything: the refusal's words here are the test's own): a refusal is reported with the setting to look at."""
    monkeypatch.setenv("APPLY_ON_TRANSFORMED_LOGS", "true")
    account.groups("/aws/lambda/orders", *STACK_GROUPS)
    answer_with(monkeypatch, "PutSubscriptionFilter", "InvalidParameterException",
                "applyOnTransformedLogs is valid only for log groups that have an active log transformer")

    summary = summaries(reconcile(capsys, SCHEDULED))[-1]

    assert summary["failed"] == 1
    assert summary["problems"] == [
        "/aws/lambda/orders: InvalidParameterException: applyOnTransformedLogs is valid only for log groups that "
        "have an active log transformer; logship puts its filter with applyOnTransformedLogs "
        "(ApplyOnTransformedLogs=true): if this group cannot take that, add it to ExcludeLogGroups or turn the "
        "setting off"]


def test_a_sweep_skips_infrequent_access_without_a_call_and_asks_for_a_delivery_group(account, capsys, timeline,
                                                                                     monkeypatch):
    """Infrequent Access is documented to take no subscription filter; a Delivery group is what AWS's own delivery of
    Lambda logs to S3 puts a filter on, so logship asks. Whether AWS takes one to Lambda there is undocumented: here
    it does (moto's answer); the next test has it refuse."""
    monkeypatch.setenv("RETENTION_DAYS", "30")
    account.groups("/aws/lambda/orders", *STACK_GROUPS)
    account.groups("/aws/lambda/archive", log_class="INFREQUENT_ACCESS")
    account.groups("/aws/lambda/to-s3", log_class="DELIVERY")

    lines = reconcile(capsys, SCHEDULED)

    assert account.shipped() == {"/aws/lambda/orders", "/aws/lambda/to-s3"}
    summary = summaries(lines)[-1]
    assert (summary["log_class"], summary["LogClassSkipped"], summary["subscribed"], summary["failed"]) == (1, 1, 2, 0)
    assert "problems" not in summary
    asked = [params.get("logGroupName") for operation, params in timeline if operation in (
        "DescribeSubscriptionFilters", "PutSubscriptionFilter", "FilterLogEvents")]
    assert "/aws/lambda/archive" not in asked
    # a Delivery group's retention is fixed by its class: never asked to change it
    assert [p["logGroupName"] for operation, p in timeline if operation == "PutRetentionPolicy"] == ["/aws/lambda/orders"]
    # its earlier lines cannot be read back (moto refuses FilterLogEvents for any class but Standard): told, not failed
    [backfill] = [line for line in lines if line.get("logship") == "backfill"]
    assert (backfill["log_group"], backfill["status"], backfill["level"]) == ("/aws/lambda/to-s3", "log_class", "info")
    assert "the filter delivers what is ingested from its creation on" in backfill["detail"]


def test_a_delivery_group_aws_refuses_is_counted_by_its_class_and_told_once(account, capsys, monkeypatch):
    """The other answer a Delivery group may get (undocumented, so both are tested): the refusal AWS gives an
    Infrequent Access group. Counted as log_class, never a failure, and logged so `logship status` can tell it."""
    account.groups(*STACK_GROUPS)
    account.groups("/aws/lambda/to-s3", log_class="DELIVERY")
    answer_with(monkeypatch, "PutSubscriptionFilter", "ValidationException",
                "This operation is only supported on the Standard log class.")

    lines = reconcile(capsys, SCHEDULED)

    summary = summaries(lines)[-1]
    assert (summary["log_class"], summary["failed"], summary["subscribed"]) == (1, 0, 0)
    assert "problems" not in summary
    [told] = [line for line in lines if line.get("logship") == "subscription"]
    assert (told["log_group"], told["outcome"], told["level"]) == ("/aws/lambda/to-s3", "log_class", "info")
    assert told["detail"].startswith("log class DELIVERY: CloudWatch Logs refused logship's filter for it "
                                     "(This operation is only supported on the Standard log class.)")
    assert account.filters("/aws/lambda/to-s3") == {}


def test_a_sweep_subscribes_the_custom_groups_functions_log_to_and_an_uninstall_takes_them_back(account, capsys,
                                                                                               monkeypatch):
    monkeypatch.setenv("EXCLUDE", "/aws/lambda/legacy-*,/shared/legacy-*")
    account.groups("/shared/orders", "/shared/legacy-batch", "/shared/unused", *STACK_GROUPS)
    for function, group in (("orders-api", "/shared/orders"), ("billing-export", "/shared/orders"),
                            ("reports", "/shared/reports"), ("batch", "/shared/legacy-batch")):
        account.function(function, log_group=group)  # /shared/reports: none of them has logged yet

    summary = summaries(reconcile(capsys, SCHEDULED))[-1]
    removal = Tally()
    sweep(Subscriber.from_env(), Mode.REMOVE, removal, remaining_ms=lambda: PLENTY, margin_ms=CONTINUE_MARGIN_MS)

    assert (summary["subscribed"], summary["excluded"], summary["failed"]) == (1, 4, 0)  # 3 own groups, 1 legacy
    assert account.filters("/shared/orders") == {}  # subscribed once (two functions, one group), then removed
    assert removal.counts["removed"] == 1
    assert account.filters("/shared/unused") == account.filters("/shared/legacy-batch") == {}


def test_a_sweep_short_of_time_among_custom_groups_continues_where_it_stopped(account, capsys, timeline):
    groups = [f"/teams/t{i:03d}" for i in range(80)]
    for i, group in enumerate(groups):
        account.function(f"fn-{i:03d}", log_group=group)
    account.groups(*groups)

    first = summaries(reconcile(capsys, SCHEDULED, Countdown(60_000 + 20_000)))[-1]
    [continuation] = invocations(timeline)
    second = summaries(reconcile(capsys, continuation, Countdown(PLENTY)))[-1]

    assert first["complete"] is False
    assert 0 < first["seen"] < 80
    assert continuation["cursor"]["done"] == [groups[first["seen"] - 1]]  # the last one done, not every name
    assert first["seen"] + second["seen"] == second["run_totals"]["subscribed"] == 80
    assert account.shipped() == set(groups)


def test_own_groups_are_never_touched(account, capsys, timeline):
    account.groups(*STACK_GROUPS)

    reconcile(capsys, {"any": "event"})

    assert account.shipped() == set()
    touched = {params.get("logGroupName") for operation, params in timeline if operation != "DescribeLogGroups"}
    assert touched.isdisjoint(STACK_GROUPS)


def test_a_sweep_short_of_time_continues_in_a_fresh_invocation(account, capsys, timeline):
    groups = [f"/aws/lambda/fn-{i:03d}" for i in range(120)]
    account.groups(*groups)

    first = summaries(reconcile(capsys, SCHEDULED, Countdown(60_000 + 30_000)))[-1]
    [continuation] = invocations(timeline)
    second = summaries(reconcile(capsys, continuation, Countdown(PLENTY)))[-1]

    assert first["complete"] is False
    assert 0 < first["seen"] < 120
    assert first["continues_at"] == continuation["cursor"]
    assert (second["part"], second["complete"], second["run_id"]) == (2, True, first["run_id"])
    assert second["run_totals"]["seen"] == second["run_totals"]["subscribed"] == 120
    assert first["seen"] + second["seen"] == 120  # no group visited twice
    assert account.shipped() == set(groups)


def test_a_chain_always_progresses_even_with_almost_no_time(account, capsys, timeline):
    account.groups(*(f"/aws/lambda/fn-{i}" for i in range(3)))

    summary = summaries(reconcile(capsys, {}, Countdown(1000)))[-1]

    assert summary["seen"] >= 1
    assert len(invocations(timeline)) == 1


# ------------------------------------------------------------------------------ the custom resource

@pytest.fixture
def cloudformation(timeline: list[tuple[str, Any]]) -> Iterator[CloudFormation]:
    """Answers join the timeline, to check their order against the AWS calls."""
    server = CloudFormation(timeline)
    yield server
    server.close()


def position(timeline: list[tuple[str, Any]], operation: str, last: bool = False) -> int:
    found = [i for i, (name, _) in enumerate(timeline) if name == operation]
    return found[-1] if last else found[0]


def test_create_answers_success_at_once_then_subscribes_existing_groups(account, capsys, cloudformation, timeline):
    account.groups("/aws/lambda/orders-api", "/aws/lambda/billing")

    reconcile(capsys, cloudformation.request("Create"))

    [answer] = cloudformation.answers
    assert answer["Status"] == "SUCCESS"
    assert answer["PhysicalResourceId"] == "logship-subscriptions"
    assert (answer["StackId"], answer["RequestId"], answer["LogicalResourceId"]) == (
        f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/logship/1a2b", "create-request-1", "LogGroupSubscriptions")
    assert answer["content-type"] == ""  # the pre-signed URL is signed without one
    assert position(timeline, "CloudFormation") < position(timeline, "PutSubscriptionFilter")
    assert account.shipped() == {"/aws/lambda/orders-api", "/aws/lambda/billing"}


def test_update_keeps_the_physical_id_so_cloudformation_never_deletes_the_subscriptions(account, capsys,
                                                                                         cloudformation):
    reconcile(capsys, cloudformation.request("Update", physical_id="logship-subscriptions-v0"))

    assert [a["PhysicalResourceId"] for a in cloudformation.answers] == ["logship-subscriptions-v0"]
    assert cloudformation.answers[0]["Status"] == "SUCCESS"


def test_create_with_bad_settings_fails_the_deployment_with_the_reason(account, capsys, cloudformation,
                                                                       monkeypatch):
    monkeypatch.setenv("DESTINATION_ARN", "ship-logs")

    reconcile(capsys, cloudformation.request("Create"))

    [answer] = cloudformation.answers
    assert answer["Status"] == "FAILED"
    assert "DESTINATION_ARN='ship-logs' is not a Lambda function ARN" in answer["Reason"]


def _installed(account: Any) -> dict[str, str]:
    """Groups as an install leaves them, next to filters that are not ours; returns the other destinations."""
    other = account.function("audit-forwarder")
    older = account.function("old-logship-ship-logs")
    account.groups("/aws/lambda/a", "/aws/lambda/b", "/aws/lambda/c", "/aws/lambda/d", "/aws/lambda/e",
                   "/aws/lambda/legacy-x", "/ecs/web")
    for group in ("/aws/lambda/a", "/aws/lambda/b", "/aws/lambda/legacy-x", "/ecs/web"):
        account.subscribe(group, SHIPPER_ARN)
    account.subscribe("/aws/lambda/b", other, name="audit")
    account.subscribe("/aws/lambda/c", older)  # our name, another deployment's shipper
    account.subscribe("/aws/lambda/d", SHIPPER_ARN, name="added-by-hand")
    return {"other": other, "older": older}


def test_delete_removes_every_filter_sending_to_our_shipper_and_nothing_else(account, capsys, cloudformation,
                                                                             timeline):
    others = _installed(account)

    reconcile(capsys, cloudformation.request("Delete", physical_id="logship-subscriptions"))

    assert account.shipped() == {"/ecs/web"}  # outside INCLUDE_PREFIXES: see the README
    assert account.filters("/aws/lambda/b") == {"audit": others["other"]}
    assert account.filters("/aws/lambda/c") == {"logship": others["older"]}
    [answer] = cloudformation.answers
    assert answer["Status"] == "SUCCESS"
    assert answer["PhysicalResourceId"] == "logship-subscriptions"
    assert answer["Reason"].startswith("removed logship's filter from 4 of 6 log groups checked; 0 failed")
    assert position(timeline, "DeleteSubscriptionFilter", last=True) < position(timeline, "CloudFormation")


def test_a_long_uninstall_continues_and_its_last_part_answers(account, capsys, cloudformation, timeline):
    groups = [f"/aws/lambda/fn-{i:03d}" for i in range(80)]
    account.groups(*groups)
    for group in groups:
        account.subscribe(group, SHIPPER_ARN)

    reconcile(capsys, cloudformation.request("Delete", physical_id="logship-subscriptions"), Countdown(90_000))
    assert cloudformation.answers == []  # still removing: CloudFormation waits
    [continuation] = invocations(timeline)
    assert continuation["request"]["RequestType"] == "Delete"
    reconcile(capsys, continuation)

    [answer] = cloudformation.answers
    assert answer["Status"] == "SUCCESS"
    assert answer["Reason"].startswith("removed logship's filter from 80 of 80")
    assert account.shipped() == set()


@pytest.mark.parametrize("setting", [{"DESTINATION_ARN": ""}, {"RETENTION_DAYS": "2"}])
def test_delete_answers_success_even_with_bad_settings(setting, account, capsys, cloudformation, monkeypatch):
    for key, value in setting.items():
        monkeypatch.setenv(key, value)

    reconcile(capsys, cloudformation.request("Delete", physical_id="logship-subscriptions"))

    [answer] = cloudformation.answers
    assert answer["Status"] == "SUCCESS"
    assert "ConfigError" in answer["Reason"]


def test_delete_answers_success_with_the_reason_when_aws_refuses(account, capsys, cloudformation, monkeypatch):
    account.groups("/aws/lambda/a")
    answer_with(monkeypatch, "DescribeLogGroups", "AccessDeniedException",
                "User is not authorized to perform: logs:DescribeLogGroups")

    lines = reconcile(capsys, cloudformation.request("Delete", physical_id="logship-subscriptions"))

    [answer] = cloudformation.answers
    assert answer["Status"] == "SUCCESS"
    assert "AccessDeniedException" in answer["Reason"]
    assert summaries(lines)[-1]["level"] == "error"


def test_a_sweep_that_aws_refuses_fails_the_invocation_after_its_summary(account, capsys, monkeypatch):
    answer_with(monkeypatch, "DescribeLogGroups", "AccessDeniedException", "not authorized")
    app = load_handler("reconcile_subscriptions")

    with pytest.raises(ClientError, match="AccessDeniedException"):
        app.handler(SCHEDULED, Countdown(PLENTY))

    summary = summaries(printed(capsys))[-1]
    assert summary["level"] == "error"
    assert summary["complete"] is False
    assert "AccessDeniedException" in summary["stopped"]


def test_an_uninstall_answers_cloudformation_within_its_budget_even_mid_chain(account, capsys, cloudformation,
                                                                            timeline):
    groups = [f"/aws/lambda/fn-{i:03d}" for i in range(30)]
    account.groups(*groups)
    for group in groups:
        account.subscribe(group, SHIPPER_ARN)
    left_s = CONTINUE_MARGIN_MS / 1000 / 2  # less than a part keeps back for the group in hand
    late = Job(Mode.REMOVE, "custom-resource-delete", "run-1", time.time() - REMOVAL_BUDGET_S + left_s,
               request=cloudformation.request("Delete", physical_id="logship-subscriptions"))

    reconcile(capsys, late.to_event())  # plenty of Lambda time, but seconds of CloudFormation's hour

    [answer] = cloudformation.answers
    assert answer["Status"] == "SUCCESS"
    assert "stopped after 45 minutes so CloudFormation gets its answer" in answer["Reason"]
    assert invocations(timeline) == []  # no further part: CloudFormation has its answer
