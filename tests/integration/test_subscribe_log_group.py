"""subscribe-log-group against moto: which filters exist after each CloudTrail CreateLogGroup event.

The shipper is a real (moto) Lambda function, because CloudWatch Logs only accepts a destination that exists
(the ``aws`` fixture in conftest.py).
"""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from logship.subscribe.created_groups import SubscribeError
from tests.conftest import LambdaContext, load_handler
from tests.integration.aws_faults import Faults
from tests.integration.conftest import ACCOUNT, REGION, SHIPPER_ARN, SHIPPER_GROUP, STACK_GROUPS
from tests.payloads import load


def subscriber_env(**overrides: str) -> dict[str, str]:
    """The environment template.yaml gives both subscription functions (stack ``logship``, FilterName ``logship``)."""
    env = {"DESTINATION_ARN": SHIPPER_ARN, "FILTER_NAME": "logship", "FILTER_PATTERN": "",
           "INCLUDE_PREFIXES": "/aws/lambda/", "EXCLUDE": "/aws/lambda/legacy-*",
           "SHIPPER_LOG_GROUP": SHIPPER_GROUP, "STACK_LOG_GROUPS": ",".join(STACK_GROUPS),
           "RETENTION_DAYS": "", "METRICS_NAMESPACE": "logship", "AWS_REGION": REGION,
           "BACKFILL_HOURS": "24", "BACKFILL_MAX_EVENTS": "10000"}
    env.update(overrides)
    return env


def printed(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    return [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]


def run_subscriber(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], event: Any,
                   **env: str) -> list[dict[str, Any]]:
    """Invoke the real handler on a cold start; return every JSON line it printed (the summary last)."""
    for key, value in subscriber_env(AWS_LAMBDA_FUNCTION_NAME="logship-subscribe-log-group", **env).items():
        monkeypatch.setenv(key, value)
    app = load_handler("subscribe_log_group")
    try:
        app.handler(event, LambdaContext(function_name="logship-subscribe-log-group"))
    finally:
        lines = printed(capsys)
    return lines


def created(name: str) -> dict[str, Any]:
    """The CloudTrail sample for a Lambda-created group, renamed."""
    event = load("cloudtrail_create_lambda_group")
    event["detail"]["requestParameters"]["logGroupName"] = name
    return event


# Every sample, the group that exists when it arrives, and the outcome a user should see.
REPLAYS = [
    ("cloudtrail_create_lambda_group", "/aws/lambda/orders-api", "subscribed"),
    ("cloudtrail_create_group_cloudformation", "/aws/lambda/billing-worker", "subscribed"),
    ("cloudtrail_create_excluded_group", "/aws/lambda/legacy-reports", "excluded"),
    ("cloudtrail_create_non_lambda_group", "/ecs/web-frontend", "excluded"),
    ("cloudtrail_create_shipper_group", SHIPPER_GROUP, "excluded"),
    ("cloudtrail_create_failed_already_exists", "/aws/lambda/payments", None),
    ("cloudtrail_delete_log_group", "/aws/lambda/inventory", None),
    ("cloudtrail_missing_detail", None, None),
    # a function created while a group of its name exists (a function deleted and created again)
    ("cloudtrail_lambda_create_function", "/aws/lambda/inventory-sync", "subscribed"),
    ("cloudtrail_lambda_update_function_memory", "/aws/lambda/billing-export", None),
]
BYSTANDERS = ("/aws/lambda/untouched", "/aws/lambda/legacy-old", "/ecs/other")


@pytest.mark.parametrize(("sample", "group", "outcome"), REPLAYS)
def test_each_sample_subscribes_exactly_the_groups_it_should(sample, group, outcome, aws, monkeypatch, capsys):
    aws.groups(*BYSTANDERS, *([group] if group else []))

    summary = run_subscriber(monkeypatch, capsys, load(sample))[-1]

    expected = {group} if outcome == "subscribed" else set()
    assert aws.shipped() == expected
    assert all(aws.filters(name) == {} for name in aws.all_group_names() if name not in expected)
    assert summary.get("outcome") == outcome
    assert summary["subscribed"] == (1 if outcome == "subscribed" else 0)
    if outcome is None:
        assert summary["skipped"]


def test_replaying_every_sample_subscribes_only_the_new_lambda_groups(aws, monkeypatch, capsys):
    aws.groups(*BYSTANDERS, *(group for _, group, _ in REPLAYS if group))

    for sample, _, _ in REPLAYS:
        run_subscriber(monkeypatch, capsys, load(sample))

    assert aws.shipped() == {"/aws/lambda/orders-api", "/aws/lambda/billing-worker", "/aws/lambda/inventory-sync"}
    assert aws.filters("/aws/lambda/orders-api") == {"logship": SHIPPER_ARN}


def test_failed_create_is_logged_as_a_warning_and_skipped(aws, monkeypatch, capsys):
    aws.groups("/aws/lambda/payments")

    summary = run_subscriber(monkeypatch, capsys, load("cloudtrail_create_failed_already_exists"))[-1]

    assert summary["level"] == "warning"
    assert "ResourceAlreadyExistsException" in summary["skipped"]
    assert summary["seen"] == 0


def test_the_same_event_twice_leaves_one_filter(aws, monkeypatch, capsys):
    aws.groups("/aws/lambda/orders-api")
    event = load("cloudtrail_create_lambda_group")

    first = run_subscriber(monkeypatch, capsys, event)[-1]
    second = run_subscriber(monkeypatch, capsys, event)[-1]

    assert (first["outcome"], second["outcome"]) == ("subscribed", "already_subscribed")
    assert aws.filters("/aws/lambda/orders-api") == {"logship": SHIPPER_ARN}


def test_a_filter_left_by_a_deleted_deployment_is_pointed_at_this_shipper(aws, monkeypatch, capsys):
    old = aws.function("old-logship-ship-logs")
    aws.groups("/aws/lambda/orders-api")
    aws.subscribe("/aws/lambda/orders-api", old)
    aws.lambda_.delete_function(FunctionName="old-logship-ship-logs")  # the filter outlived its destination

    lines = run_subscriber(monkeypatch, capsys, load("cloudtrail_create_lambda_group"))

    assert aws.filters("/aws/lambda/orders-api") == {"logship": SHIPPER_ARN}
    assert lines[-1]["updated"] == lines[-1]["Updated"] == 1
    assert old in lines[0]["detail"]


def test_a_changed_filter_pattern_is_applied(aws, monkeypatch, capsys):
    aws.groups("/aws/lambda/orders-api")
    aws.subscribe("/aws/lambda/orders-api", SHIPPER_ARN)

    summary = run_subscriber(monkeypatch, capsys, load("cloudtrail_create_lambda_group"),
                             FILTER_PATTERN='{ $.level = "ERROR" }')[-1]

    assert summary["outcome"] == "updated"
    found = aws.logs.describe_subscription_filters(logGroupName="/aws/lambda/orders-api")["subscriptionFilters"]
    assert found[0]["filterPattern"] == '{ $.level = "ERROR" }'


def test_a_group_with_two_other_filters_is_a_warning_and_a_metric_not_a_failure(aws, monkeypatch, capsys):
    monkeypatch.setattr("time.sleep", lambda _s: None)  # AWS's refusal is asked again, after a backoff
    aws.groups("/aws/lambda/orders-api")
    others = {"audit": aws.function("audit-forwarder"), "siem": aws.function("siem-forwarder")}
    for name, arn in others.items():
        aws.subscribe("/aws/lambda/orders-api", arn, name=name)

    lines = run_subscriber(monkeypatch, capsys, load("cloudtrail_create_lambda_group"))

    warning, summary = lines[0], lines[-1]
    assert warning["level"] == "warning"
    assert warning["log_group"] == "/aws/lambda/orders-api"
    assert "audit -> " in warning["detail"]
    assert "siem -> " in warning["detail"]
    assert summary["limit_blocked"] == summary["LimitBlocked"] == 1
    assert summary["failed"] == 0
    assert aws.filters("/aws/lambda/orders-api") == others


def test_a_filter_added_between_our_look_and_our_put_is_still_limit_blocked(aws, monkeypatch, capsys):
    """Describe shows one other filter; by the time of our Put a second one exists and AWS says LimitExceeded."""
    aws.groups("/aws/lambda/orders-api")
    aws.subscribe("/aws/lambda/orders-api", aws.function("audit-forwarder"), name="audit")
    monkeypatch.setattr("time.sleep", lambda _s: None)
    answer_with(monkeypatch, "PutSubscriptionFilter", "LimitExceededException", "Resource limit exceeded.")

    summary = run_subscriber(monkeypatch, capsys, load("cloudtrail_create_lambda_group"))[-1]

    assert summary["outcome"] == "limit_blocked"
    assert summary["failed"] == 0


def test_a_group_deleted_meanwhile_is_skipped(aws, monkeypatch, capsys):
    summary = run_subscriber(monkeypatch, capsys, created("/aws/lambda/short-lived"))[-1]

    assert summary["outcome"] == "gone"
    assert summary["gone"] == 1
    assert summary["failed"] == 0


def test_the_created_group_of_infrequent_access_class_is_skipped_and_the_event_succeeds(aws, monkeypatch, capsys):
    aws.groups("/aws/lambda/audit-archive", log_class="INFREQUENT_ACCESS")

    summary = run_subscriber(monkeypatch, capsys, load("cloudtrail_create_infrequent_access_group"),
                             RETENTION_DAYS="30")[-1]  # no SubscribeError: nothing for Lambda to retry

    assert (summary["outcome"], summary["log_class"], summary["failed"]) == ("log_class", 1, 0)
    assert aws.filters("/aws/lambda/audit-archive") == {}
    assert "retention" not in summary


def test_a_created_delivery_group_is_asked_for_a_filter_and_the_event_succeeds(aws, monkeypatch, capsys):
    """A Delivery group's class is no reason to skip it: AWS's own delivery to S3 is a filter on such a group.
    AWS accepts logship's here (moto's answer; the real one is undocumented, see test_reconcile_subscriptions)."""
    aws.groups("/aws/lambda/orders-api", log_class="DELIVERY")
    event = load("cloudtrail_create_lambda_group")
    event["detail"]["requestParameters"]["logGroupClass"] = "DELIVERY"

    lines = run_subscriber(monkeypatch, capsys, event, RETENTION_DAYS="30")  # no SubscribeError

    summary = lines[-1]
    assert (summary["outcome"], summary["failed"], summary["log_class"]) == ("subscribed", 0, 0)
    assert aws.filters("/aws/lambda/orders-api") == {"logship": SHIPPER_ARN}
    assert summary["retention"] == "fixed by its class (DELIVERY)"
    assert summary["backfill"]["status"] == "log_class"  # FilterLogEvents does not read it back here: told


def test_aws_refusing_for_the_log_class_is_classified_when_the_record_did_not_say(aws, monkeypatch, capsys):
    """A record without logGroupClass (older CloudTrail records, other creators): AWS's answer decides."""
    aws.groups("/aws/lambda/orders-api", log_class="INFREQUENT_ACCESS")
    event = load("cloudtrail_create_lambda_group")
    assert "logGroupClass" not in event["detail"]["requestParameters"]

    summary = run_subscriber(monkeypatch, capsys, event)[-1]

    assert (summary["outcome"], summary["log_class"], summary["failed"]) == ("log_class", 1, 0)


# ------------------------------------------------------------------ functions that log to a custom group

def lambda_calls(aws: Any) -> list[str]:
    """Every Lambda API the subscriber calls from now on, in order."""
    calls: list[str] = []
    boto3.DEFAULT_SESSION.events.register("provide-client-params.lambda",
                                          lambda model, **_: calls.append(model.name))
    return calls


def test_a_function_created_with_an_existing_custom_group_gets_it_subscribed(aws, monkeypatch, capsys):
    aws.groups("/shared/orders")
    aws.function("orders-api", log_group="/shared/orders")

    summary = run_subscriber(monkeypatch, capsys, load("cloudtrail_lambda_create_function_custom_group"))[-1]

    assert aws.shipped() == {"/shared/orders"}
    assert (summary["call"], summary["function"], summary["log_group"]) == (
        "CreateFunction20150331", "orders-api", "/shared/orders")
    assert (summary["outcome"], summary["functions"]) == ("subscribed", ["orders-api"])


def test_a_custom_group_lambda_creates_later_is_subscribed_when_it_is_created(aws, monkeypatch, capsys):
    aws.function("orders-api", log_group="/shared/orders")

    before = run_subscriber(monkeypatch, capsys, load("cloudtrail_lambda_create_function_custom_group"))[-1]
    aws.groups("/shared/orders")  # the function's first invocation
    after = run_subscriber(monkeypatch, capsys, load("cloudtrail_create_custom_group"))[-1]

    assert "/shared/orders does not exist yet" in before["skipped"]
    assert (before["seen"], before["failed"]) == (0, 0)
    assert (after["outcome"], after["functions"]) == ("subscribed", ["orders-api"])
    assert aws.shipped() == {"/shared/orders"}


def test_a_function_moved_to_a_custom_group_gets_it_subscribed(aws, monkeypatch, capsys):
    aws.groups("/shared/orders", "/aws/lambda/billing-export")
    aws.function("billing-export", log_group="/shared/orders")

    summary = run_subscriber(monkeypatch, capsys, load("cloudtrail_lambda_update_function_logging"))[-1]

    assert summary["outcome"] == "subscribed"
    assert aws.shipped() == {"/shared/orders"}


def test_an_update_that_leaves_logging_alone_costs_no_call(aws, monkeypatch, capsys):
    calls = lambda_calls(aws)

    summary = run_subscriber(monkeypatch, capsys, load("cloudtrail_lambda_update_function_memory"))[-1]

    assert summary["skipped"] == ("UpdateFunctionConfiguration20150331v2 did not change where billing-export logs "
                                  "(no loggingConfig)")
    assert calls == []


def test_an_update_whose_record_does_not_name_the_group_asks_lambda(aws, monkeypatch, capsys):
    aws.groups("/shared/orders")
    aws.function("billing-export", log_group="/shared/orders")
    event = load("cloudtrail_lambda_update_function_logging")
    event["detail"]["requestParameters"]["loggingConfig"] = {"logFormat": "JSON"}
    del event["detail"]["responseElements"]["loggingConfig"]
    calls = lambda_calls(aws)

    summary = run_subscriber(monkeypatch, capsys, event)[-1]

    assert calls == ["GetFunctionConfiguration"]
    assert (summary["log_group"], summary["outcome"]) == ("/shared/orders", "subscribed")


def test_a_group_no_function_logs_to_is_not_selected_and_the_listing_is_reused(aws, monkeypatch, capsys):
    aws.groups("/ecs/web-frontend", "/ecs/api")
    aws.function("orders-api", log_group="/shared/orders")
    calls = lambda_calls(aws)
    event = load("cloudtrail_create_non_lambda_group")
    for key, value in subscriber_env(AWS_LAMBDA_FUNCTION_NAME="logship-subscribe-log-group").items():
        monkeypatch.setenv(key, value)
    app = load_handler("subscribe_log_group")  # one cold start, two events
    app.handler(event, LambdaContext(function_name="logship-subscribe-log-group"))
    event["detail"]["requestParameters"]["logGroupName"] = "/ecs/api"
    app.handler(event, LambdaContext(function_name="logship-subscribe-log-group"))
    summaries = printed(capsys)

    assert [s["verdict"] for s in summaries] == ["not_included", "not_included"]
    assert calls == ["ListFunctions"]  # the second group is looked up in the first listing (under a minute old)
    assert aws.shipped() == set()


def test_exclusions_hold_for_custom_groups(aws, monkeypatch, capsys):
    aws.groups("/shared/orders")
    aws.function("orders-api", log_group="/shared/orders")

    summary = run_subscriber(monkeypatch, capsys, load("cloudtrail_create_custom_group"), EXCLUDE="/shared/*")[-1]

    assert (summary["verdict"], summary["outcome"]) == ("excluded", "excluded")
    assert aws.shipped() == set()


def test_a_custom_group_a_logship_function_logs_to_is_never_subscribed_whatever_its_name(aws, monkeypatch, capsys):
    aws.groups("/shared/orders")
    aws.function("stage-ship-logs", log_group="/shared/orders", tags={"logship:stack": "stage"})
    aws.function("orders-api", log_group="/shared/orders")

    summary = run_subscriber(monkeypatch, capsys, load("cloudtrail_create_custom_group"))[-1]

    assert summary["verdict"] == "logship"
    assert aws.shipped() == set()


def test_with_function_log_groups_off_custom_groups_are_left_to_the_prefixes(aws, monkeypatch, capsys):
    aws.groups("/shared/orders")
    aws.function("orders-api", log_group="/shared/orders")
    calls = lambda_calls(aws)

    created = run_subscriber(monkeypatch, capsys, load("cloudtrail_create_custom_group"),
                             FUNCTION_LOG_GROUPS="false")[-1]
    function = run_subscriber(monkeypatch, capsys, load("cloudtrail_lambda_create_function_custom_group"),
                              FUNCTION_LOG_GROUPS="false")[-1]

    assert created["verdict"] == "not_included"
    assert function["skipped"] == "FunctionLogGroups is false: groups are found by name only"
    assert calls == []
    assert aws.shipped() == set()


def test_a_refused_subscription_fails_the_invocation_so_lambda_retries(aws, monkeypatch, capsys):
    aws.groups("/aws/lambda/orders-api")
    missing = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:deleted-shipper"

    with pytest.raises(SubscribeError, match=r"could not subscribe /aws/lambda/orders-api: .*InvalidParameter"):
        run_subscriber(monkeypatch, capsys, load("cloudtrail_create_lambda_group"), DESTINATION_ARN=missing)


@pytest.mark.parametrize(("existing", "expected"), [(None, 30), (7, 7)])
def test_new_groups_get_the_retention_unless_their_creator_chose_one(existing, expected, aws, monkeypatch, capsys):
    aws.groups("/aws/lambda/orders-api", retention=existing)

    summary = run_subscriber(monkeypatch, capsys, load("cloudtrail_create_lambda_group"), RETENTION_DAYS="30")[-1]

    assert aws.retention("/aws/lambda/orders-api") == expected
    assert summary["retention"] == (f"set {expected} days" if existing is None else f"kept {expected} days")


def test_without_retention_days_groups_keep_theirs(aws, monkeypatch, capsys):
    aws.groups("/aws/lambda/orders-api")

    run_subscriber(monkeypatch, capsys, load("cloudtrail_create_lambda_group"))

    assert aws.retention("/aws/lambda/orders-api") is None


def answer_with(monkeypatch: pytest.MonkeyPatch, operation: str, code: str, message: str,
                times: int | None = None, service: str = "cloudwatch-logs") -> list[str]:
    """Make AWS answer ``operation`` with error ``code`` (a 400 on the wire) ``times`` times, then normally.

    Moto never sees a refused attempt (tests/integration/aws_faults.py); returns the attempts seen.
    """
    return Faults(monkeypatch).refuse(operation, code, message, times, service)


def test_throttling_is_retried_with_backoff_until_it_succeeds(aws, monkeypatch, capsys):
    aws.groups("/aws/lambda/orders-api")
    sleeps: list[float] = []
    monkeypatch.setattr("time.sleep", sleeps.append)
    attempts = answer_with(monkeypatch, "PutSubscriptionFilter", "ThrottlingException", "Rate exceeded", times=2)

    summary = run_subscriber(monkeypatch, capsys, load("cloudtrail_create_lambda_group"))[-1]

    assert len(attempts) == 3
    assert len(sleeps) >= 2  # botocore's backoff between attempts (jittered, so no exact values)
    assert summary["outcome"] == "subscribed"
    assert aws.filters("/aws/lambda/orders-api") == {"logship": SHIPPER_ARN}


def test_summary_is_embedded_metric_format(aws, monkeypatch, capsys):
    aws.groups("/aws/lambda/orders-api")

    summary = run_subscriber(monkeypatch, capsys, load("cloudtrail_create_lambda_group"))[-1]

    directive = summary["_aws"]["CloudWatchMetrics"][0]
    assert directive["Namespace"] == "logship"
    assert directive["Dimensions"] == [["FunctionName"]]
    assert summary["FunctionName"] == "logship-subscribe-log-group"
    names = {metric["Name"] for metric in directive["Metrics"]}
    assert {"Seen", "Subscribed", "AlreadySubscribed", "Updated", "Excluded", "LimitBlocked", "Failed"} <= names
    assert all(isinstance(summary[name], int | float) for name in names)
    assert summary["Subscribed"] == summary["Seen"] == 1
