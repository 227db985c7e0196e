"""Which groups logship subscribes, from the settings and from each CloudTrail event: one answer for every path."""

from __future__ import annotations

import pytest

from logship.core.config import ConfigError, SubscriberConfig
from logship.core.selection import STACK_TAG, Selection, Verdict, named_like_logship, tagged_as_logship
from logship.subscribe.cloudtrail_records import FunctionLogging, created_log_group, function_logging
from tests.payloads import load

SHIPPER_ARN = "arn:aws:lambda:eu-west-1:123456789012:function:logship-ship-logs"
OWN = frozenset({"/aws/lambda/logship-ship-logs", "/aws/lambda/logship-subscribe-log-group"})
SELECTION = Selection(("/aws/lambda/", "/ecs/"), ("/aws/lambda/legacy-*", "*-dev"), OWN)


@pytest.mark.parametrize(("name", "verdict"), [
    ("/aws/lambda/orders-api", Verdict.INCLUDED),
    ("/ecs/web", Verdict.INCLUDED),
    ("/aws/lambda/legacy-reports", Verdict.EXCLUDED),
    ("/aws/lambda/orders-dev", Verdict.EXCLUDED),
    ("/aws/lambda/legacy", Verdict.INCLUDED),  # the glob wants the dash
    ("/aws/lambda/Legacy-reports", Verdict.INCLUDED),  # log group names are case-sensitive
    ("/aws/lambda/logship-ship-logs", Verdict.OWN),
    ("/aws/lambda/logship-subscribe-log-group", Verdict.OWN),
    ("/aws/rds/instance/db/error", Verdict.NOT_INCLUDED),
    ("aws/lambda/no-leading-slash", Verdict.NOT_INCLUDED),
])
def test_verdicts(name, verdict):
    assert SELECTION.verdict(name) is verdict


def test_own_groups_stay_out_even_when_the_settings_name_them():
    selection = Selection(("/aws/lambda/logship-",), (), OWN)

    assert selection.verdict("/aws/lambda/logship-ship-logs") is Verdict.OWN
    assert selection.verdict("/aws/lambda/logship-demo") is Verdict.INCLUDED


@pytest.mark.parametrize(("prefixes", "listed"), [
    (("/aws/lambda/",), ("/aws/lambda/",)),
    (("/aws/lambda/orders", "/aws/lambda/"), ("/aws/lambda/",)),  # each group is listed once
    (("/ecs/", "/aws/lambda/", "/ecs/"), ("/aws/lambda/", "/ecs/")),
])
def test_listing_prefixes_never_overlap(prefixes, listed):
    assert Selection(prefixes).listing_prefixes() == listed


# Every CloudTrail sample: the group it names, or the reason there is nothing to do.
@pytest.mark.parametrize(("sample", "name", "skipped"), [
    ("cloudtrail_create_lambda_group", "/aws/lambda/orders-api", None),
    ("cloudtrail_create_group_cloudformation", "/aws/lambda/billing-worker", None),
    ("cloudtrail_create_excluded_group", "/aws/lambda/legacy-reports", None),
    ("cloudtrail_create_non_lambda_group", "/ecs/web-frontend", None),
    ("cloudtrail_create_shipper_group", "/aws/lambda/logship-ship-logs", None),
    ("cloudtrail_create_failed_already_exists", "/aws/lambda/payments",
     "CreateLogGroup failed with ResourceAlreadyExistsException: The specified log group already exists"),
    ("cloudtrail_delete_log_group", None, "not a CreateLogGroup call: logs.amazonaws.com DeleteLogGroup"),
    ("cloudtrail_missing_detail", None, "no 'detail' object"),
    ("cloudtrail_lambda_create_function", None, "not a CreateLogGroup call: lambda.amazonaws.com CreateFunction"),
])
def test_created_log_group_from_each_sample(sample, name, skipped):
    created = created_log_group(load(sample))

    assert created.name == name
    if skipped is None:
        assert created.skipped is None
    else:
        assert skipped in created.skipped


@pytest.mark.parametrize("event", [None, [], "CreateLogGroup", {"detail": "x"},
                                   {"detail": {"eventSource": "logs.amazonaws.com", "eventName": "CreateLogGroup"}},
                                   {"detail": {"eventSource": "logs.amazonaws.com", "eventName": "CreateLogGroup",
                                               "requestParameters": {"logGroupName": ""}}}])
def test_malformed_events_are_skipped_not_raised(event):
    created = created_log_group(event)

    assert created.name is None
    assert created.skipped


def test_settings_default_to_every_lambda_group_with_an_empty_pattern():
    config = SubscriberConfig.from_env({"DESTINATION_ARN": SHIPPER_ARN, "AWS_REGION": "eu-west-1"})

    assert (config.filter_name, config.filter_pattern) == ("logship", "")
    assert config.include_prefixes == ("/aws/lambda/",)
    assert config.exclude == ()
    assert config.retention_days is None
    assert config.own_log_groups == {"/aws/lambda/logship-ship-logs"}  # known from the ARN alone
    assert (config.calls_per_second, config.dead_letter_queue_url) == (5.0, "")


@pytest.mark.parametrize(("raw", "pace"), [("5", 5.0), ("0.5", 0.5), (" 40 ", 40.0), ("", 5.0)])
def test_the_pace_is_any_positive_number_of_calls_per_second(raw, pace):
    config = SubscriberConfig.from_env({"DESTINATION_ARN": SHIPPER_ARN, "SUBSCRIPTION_CALLS_PER_SECOND": raw})

    assert config.calls_per_second == pace


def test_a_groups_arn_is_in_the_shippers_partition_region_and_account():
    config = SubscriberConfig.from_env({"DESTINATION_ARN": "arn:aws-cn:lambda:cn-north-1:210987654321:function:s"})

    assert config.log_group_arn("/aws/lambda/x") == "arn:aws-cn:logs:cn-north-1:210987654321:log-group:/aws/lambda/x"
    assert config.function_arn_prefix == "arn:aws-cn:lambda:cn-north-1:210987654321:function:"


# ------------------------------------------------------------------- logship's own groups, by any stack

@pytest.mark.parametrize(("name", "suspect"), [
    ("/aws/lambda/prod-ship-logs", True),
    ("/aws/lambda/team-a-stage-reconcile-subscriptions", True),
    ("/custom/x-install-index-template", True),
    ("/aws/lambda/x-subscribe-log-group", True),
    ("/aws/lambda/ship-logs", False),  # a logship function is always <stack>-<component>
    ("/aws/lambda/prod-ship-logs-v2", False),
    ("/aws/lambda/orders", False),
])
def test_only_groups_named_like_a_logship_functions_are_suspects(name, suspect):
    assert named_like_logship(name) is suspect


@pytest.mark.parametrize(("tags", "logship"), [
    ({STACK_TAG: "prod", "logship:component": "ship-logs"}, True),
    ({STACK_TAG: ""}, True),
    ({"logship:component": "ship-logs"}, False),  # the stack tag is what the template puts on every group
    ({"Logship:Stack": "prod"}, False),  # tag keys are case-sensitive
    ({}, False),
])
def test_a_logship_group_is_known_by_its_stack_tag(tags, logship):
    assert tagged_as_logship(tags) is logship


@pytest.mark.parametrize(("tags", "read"), [
    ({"logship:stack": "prod"}, {"logship:stack": "prod"}),
    ({}, {}),
    (None, None),  # not in the record: the tags are read from the group
    ("logship:stack=prod", None),  # not a map: not trusted, read from the group
    ({"logship:stack": 7}, None),
])
def test_the_tags_a_create_log_group_record_carries_are_read(tags, read):
    event = load("cloudtrail_create_group_cloudformation")
    if tags is None:
        del event["detail"]["requestParameters"]["tags"]
    else:
        event["detail"]["requestParameters"]["tags"] = tags

    assert created_log_group(event).tags == read


def test_settings_are_read_as_lists():
    config = SubscriberConfig.from_env({
        "DESTINATION_ARN": SHIPPER_ARN, "INCLUDE_PREFIXES": " /aws/lambda/ , /ecs/,", "EXCLUDE": "/aws/lambda/a-*,*-dev",
        "SHIPPER_LOG_GROUP": "/custom/shipper", "STACK_LOG_GROUPS": "/aws/lambda/x,/aws/lambda/y", "RETENTION_DAYS": "30"})

    assert config.include_prefixes == ("/aws/lambda/", "/ecs/")
    assert config.exclude == ("/aws/lambda/a-*", "*-dev")
    assert config.retention_days == 30
    assert config.own_log_groups == {"/aws/lambda/logship-ship-logs", "/custom/shipper", "/aws/lambda/x",
                                     "/aws/lambda/y"}


@pytest.mark.parametrize(("env", "says"), [
    ({"DESTINATION_ARN": ""}, "DESTINATION_ARN='' is not a Lambda function ARN; set it to the stack's ShipLogsFunctionArn"),
    ({"DESTINATION_ARN": "arn:aws:kinesis:eu-west-1:123456789012:stream/logs"}, "is not a Lambda function ARN"),
    ({"DESTINATION_ARN": SHIPPER_ARN + ":live"}, "is not a Lambda function ARN"),
    ({"FILTER_NAME": "log:ship"}, "FILTER_NAME='log:ship' must be at most 512 characters without ':' or '*'"),
    ({"FILTER_PATTERN": "x" * 1025}, "FILTER_PATTERN is 1025 characters"),
    ({"RETENTION_DAYS": "2"}, "RETENTION_DAYS=2 is not a retention CloudWatch Logs accepts; use one of 1, 3, 5"),
    ({"RETENTION_DAYS": "a week"}, "RETENTION_DAYS='a week' is not a whole number"),
    ({"SUBSCRIPTION_CALLS_PER_SECOND": "fast"}, "SUBSCRIPTION_CALLS_PER_SECOND='fast' is not a number"),
    ({"SUBSCRIPTION_CALLS_PER_SECOND": "0"}, "SUBSCRIPTION_CALLS_PER_SECOND=0 must be a positive number"),
    ({"SUBSCRIPTION_CALLS_PER_SECOND": "-5"}, "SUBSCRIPTION_CALLS_PER_SECOND=-5 must be a positive number"),
    ({"SUBSCRIPTION_CALLS_PER_SECOND": "nan"}, "SUBSCRIPTION_CALLS_PER_SECOND=nan must be a positive number"),
    ({"SUBSCRIPTION_CALLS_PER_SECOND": "inf"}, "SUBSCRIPTION_CALLS_PER_SECOND=inf must be a positive number"),
    ({"SUBSCRIPTION_DLQ_URL": "logship-dlq"}, "SUBSCRIPTION_DLQ_URL='logship-dlq' is not an SQS queue URL"),
    ({"APPLY_ON_TRANSFORMED_LOGS": "yes"}, "APPLY_ON_TRANSFORMED_LOGS='yes' must be true or false"),
    ({"APPLY_ON_TRANSFORMED_LOGS": "true", "SUBSCRIPTION_MODE": "account-policy", "ACCOUNT_POLICY_NAME": "logship-x"},
     "APPLY_ON_TRANSFORMED_LOGS=true with SUBSCRIPTION_MODE=account-policy: an account policy has no such setting"),
    ({"EMIT_SYSTEM_FIELDS": "true", "SUBSCRIPTION_MODE": "account-policy", "ACCOUNT_POLICY_NAME": "logship-x"},
     "EMIT_SYSTEM_FIELDS=true with SUBSCRIPTION_MODE=account-policy: an account policy has no such setting"),
])
def test_bad_settings_are_explained(env, says):
    with pytest.raises(ConfigError) as error:
        SubscriberConfig.from_env({"DESTINATION_ARN": SHIPPER_ARN} | env)

    assert says in str(error.value)


# --------------------------------------------------------------- functions and their custom groups

FUNCTIONS = Selection(("/aws/lambda/prod-",), ("/shared/legacy-*",), OWN, function_groups=True)


@pytest.mark.parametrize(("name", "writers", "verdict"), [
    ("/shared/orders", ("orders-api", "billing"), Verdict.INCLUDED),  # a custom group, whatever its name
    ("/shared/orders", (), Verdict.NOT_INCLUDED),  # no function logs to it
    ("/shared/legacy-batch", ("batch",), Verdict.EXCLUDED),  # ExcludeLogGroups holds for custom groups
    ("/aws/lambda/dev-api", ("dev-api",), Verdict.NOT_INCLUDED),  # under /aws/lambda/ the prefixes decide
    ("/aws/lambda/prod-api", (), Verdict.INCLUDED),
    ("/aws/lambda/logship-ship-logs", ("logship-ship-logs",), Verdict.OWN),
])
def test_custom_groups_of_functions_are_selected_and_the_prefixes_still_narrow(name, writers, verdict):
    assert FUNCTIONS.verdict(name, writers) is verdict
    assert Selection(("/aws/lambda/prod-",), function_groups=False).verdict("/shared/orders", ("a",)) is (
        Verdict.NOT_INCLUDED)


def test_why_a_custom_group_is_selected_names_its_functions():
    assert FUNCTIONS.why("/shared/orders", ("orders-api", "billing")) == (
        "selected: the log group of billing, orders-api (FunctionLogGroups)")


@pytest.mark.parametrize(("sample", "function", "group", "skipped"), [
    ("cloudtrail_lambda_create_function", "inventory-sync", "/aws/lambda/inventory-sync", None),  # default group
    ("cloudtrail_lambda_create_function_custom_group", "orders-api", "/shared/orders", None),
    ("cloudtrail_lambda_update_function_logging", "billing-export", "/shared/orders", None),
    ("cloudtrail_lambda_update_function_memory", "billing-export", None,
     "UpdateFunctionConfiguration20150331v2 did not change where billing-export logs (no loggingConfig)"),
])
def test_each_lambda_record_says_which_function_logs_where(sample, function, group, skipped):
    found = function_logging(load(sample)["detail"])

    assert (found.function, found.log_group, found.skipped) == (function, group, skipped)


def test_a_failed_lambda_call_and_an_arn_as_the_function_are_read_as_such():
    detail = load("cloudtrail_lambda_update_function_memory")["detail"]
    del detail["responseElements"]
    detail["requestParameters"]["loggingConfig"] = {"logFormat": "JSON"}
    assert function_logging(detail) == FunctionLogging("billing-export")  # the group: ask Lambda

    detail |= {"errorCode": "ResourceConflictException", "errorMessage": "An update is in progress"}
    failed = function_logging(detail)
    assert (failed.error_code, failed.skipped) == ("ResourceConflictException", (
        "UpdateFunctionConfiguration20150331v2 failed with ResourceConflictException: An update is in progress"))
