"""template.yaml for a real account: VPC-only domains, the parameters' rules, the alarms and what they watch.

The alarms are checked against the code: each watches a metric a logship function really emits, under the
namespace and dimension it emits it with, so a renamed figure cannot leave an alarm watching nothing.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from logship.ship.report import SHIPPER_METRICS
from logship.subscribe.reconcile import UNFINISHED
from logship.subscribe.report import FIGURES
from tests.doc_pages import section
from tests.template_stack import RESOURCES, TEMPLATE, Stack, transformed
from tests.unit.test_template import KEY, SECRET, _grants, statements

FUNCTIONS = [name for name, r in RESOURCES.items() if r["Type"] == "AWS::Serverless::Function"]
IN_VPC = {"ShipLogsFunction", "InstallIndexTemplateFunction"}  # the two that talk to OpenSearch
ENI_ACTIONS = {"ec2:CreateNetworkInterface", "ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets",
               "ec2:DeleteNetworkInterface", "ec2:AssignPrivateIpAddresses", "ec2:UnassignPrivateIpAddresses"}
VPC = {"VpcSubnetIds": "subnet-0a1b2c3d,subnet-4e5f6a7b", "VpcSecurityGroupIds": "sg-0123456789abcdef0"}


# ------------------------------------------------------------------------------------------ VPC

@pytest.mark.parametrize("function", FUNCTIONS)
def test_vpc_settings_put_only_the_opensearch_functions_in_the_vpc(function):
    stack = Stack(**VPC)
    vpc_config = stack.value(RESOURCES[function]["Properties"]).get("VpcConfig")
    eni = ENI_ACTIONS & set(_grants(function, stack))

    if function in IN_VPC:
        assert vpc_config == {"SubnetIds": ["subnet-0a1b2c3d", "subnet-4e5f6a7b"],
                              "SecurityGroupIds": ["sg-0123456789abcdef0"]}
        assert eni == ENI_ACTIONS
    else:  # the subscription functions call AWS APIs only: outside the VPC they need no endpoints
        assert vpc_config is None
        assert eni == set()


@pytest.mark.parametrize("function", FUNCTIONS)
def test_without_vpc_settings_no_function_is_in_a_vpc_or_may_touch_the_network(function):
    stack = Stack()
    assert "VpcConfig" not in stack.value(RESOURCES[function]["Properties"])
    assert not any(action.startswith("ec2:") for action in _grants(function, stack))


def test_the_installer_names_the_vpc_it_runs_in_for_its_error_messages():
    env = Stack(**VPC).environment("InstallIndexTemplateFunction")
    assert (env["VPC_SUBNET_IDS"], env["VPC_SECURITY_GROUP_IDS"]) == ("subnet-0a1b2c3d,subnet-4e5f6a7b",
                                                                     "sg-0123456789abcdef0")
    assert Stack().environment("InstallIndexTemplateFunction")["VPC_SUBNET_IDS"] == ""


def test_the_sam_transform_passes_the_vpc_config_to_exactly_the_two_functions(monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    resources = transformed({"OpenSearchEndpoint": "https://vpc-logs-abc.eu-west-1.es.amazonaws.com", **VPC})["Resources"]

    with_vpc = {name for name, r in resources.items() if r["Type"] == "AWS::Lambda::Function"
                and "VpcConfig" in r["Properties"]}
    assert with_vpc == IN_VPC
    assert resources["ShipLogsFunction"]["Properties"]["VpcConfig"]["Fn::If"][0] == "InVpc"


# ------------------------------------------------------------------------------------------ rules

def _refused(**parameters: str) -> list[str]:
    return Stack(**({"OpenSearchEndpoint": "https://logs.example.com"} | parameters)).refused()


CLOUD_ID = "logs-prod:ZXUtd2VzdC0xLmF3cy5mb3VuZC5pbyRlczEyMyRrYjQ1Ng=="


@pytest.mark.parametrize(("parameters", "says"), [
    ({"OpenSearchAuth": "basic"}, "OpenSearchAuth=basic or apikey needs OpenSearchSecretArn"),
    ({"OpenSearchAuth": "apikey"}, "OpenSearchAuth=basic or apikey needs OpenSearchSecretArn"),
    ({"OpenSearchEndpoint": ""}, "Give exactly one of OpenSearchEndpoint and ElasticCloudId"),
    ({"ElasticCloudId": CLOUD_ID, "OpenSearchAuth": "none"},
     "Give exactly one of OpenSearchEndpoint and ElasticCloudId"),
    ({"OpenSearchEndpoint": "", "ElasticCloudId": CLOUD_ID},
     "ElasticCloudId with OpenSearchAuth=sigv4 cannot work"),
    ({"VpcSubnetIds": "subnet-0a1b2c3d"}, "Set VpcSubnetIds and VpcSecurityGroupIds together"),
    ({"VpcSecurityGroupIds": "sg-0123456789abcdef0"}, "Set VpcSubnetIds and VpcSecurityGroupIds together"),
    ({"SubscriptionMode": "account-policy", "ApplyOnTransformedLogs": "true"},
     "ApplyOnTransformedLogs=true needs SubscriptionMode=per-group"),
    ({"SubscriptionMode": "account-policy", "EmitSystemFields": "true"},
     "EmitSystemFields=true needs SubscriptionMode=per-group"),
])
def test_mistakes_are_refused_before_anything_is_created(parameters, says):
    assert [message for message in _refused(**parameters) if says in message]


@pytest.mark.parametrize("parameters", [
    {}, VPC, {"OpenSearchAuth": "basic", "OpenSearchSecretArn": SECRET},
    {"OpenSearchEndpoint": "", "ElasticCloudId": CLOUD_ID, "OpenSearchAuth": "apikey", "OpenSearchSecretArn": SECRET},
])
def test_sound_settings_pass_the_rules(parameters):
    assert _refused(**({"OpenSearchEndpoint": "https://logs.example.com"} | parameters)) == []


@pytest.mark.parametrize(("parameter", "value", "accepted"), [
    ("OpenSearchEndpoint", "https://search-logs-abc.eu-west-1.es.amazonaws.com", True),
    ("OpenSearchEndpoint", "https://admin:hunter2@search-logs-abc.eu-west-1.es.amazonaws.com", False),
    ("OpenSearchSecretArn", SECRET, True),
    ("OpenSearchSecretArn", "logship-opensearch", False),
    ("OpenSearchSecretKmsKeyArn", KEY, True),
    ("OpenSearchSecretKmsKeyArn", "alias/aws/secretsmanager", False),
    ("AlarmTopicArn", "arn:aws:sns:eu-west-1:123456789012:ops-alerts", True),
    ("AlarmTopicArn", "ops-alerts", False),
    ("OpenSearchEndpoint", "", True),  # with ElasticCloudId (a rule asks for exactly one)
    ("ElasticCloudId", CLOUD_ID, True),
    ("ElasticCloudId", "https://es123.eu-west-1.aws.found.io", False),
    ("DataStreamDataset", "aws.lambda", True),
    ("DataStreamDataset", "aws-lambda", False),  # '-' separates type, dataset and namespace
    ("DataStreamNamespace", "Prod", False),
    ("IngestPipeline", "logs-aws.lambda@custom", True),
    ("IngestPipeline", "my pipeline", False),
    ("RedactBuiltins", "keys,jwt,aws_key_id,basic_auth", True),
    ("RedactBuiltins", "phone", False),
    ("RedactKeys", "session_id,X-Api-Key,db.password", True),
    ("RedactKeys", "pass word", False),
    ("TransformedOriginalKey", "raw", True),
    ("TransformedOriginalKey", "line.raw", False),  # processors read a dot as a path: a top-level key only
])
def test_parameters_refuse_what_cannot_work(parameter, value, accepted):
    import re

    assert bool(re.fullmatch(TEMPLATE["Parameters"][parameter]["AllowedPattern"], value)) is accepted


def test_every_redaction_built_in_and_all_of_them_pass_the_template():
    """The template's list is written out by hand: a built-in missing from it could never be turned on."""
    from logship.ship.redaction import BUILTINS

    pattern = TEMPLATE["Parameters"]["RedactBuiltins"]["AllowedPattern"]
    assert re.fullmatch(pattern, ",".join(BUILTINS))
    assert re.fullmatch(pattern, "all")


def test_a_customer_key_may_decrypt_only_through_secrets_manager():
    stack = Stack(OpenSearchAuth="basic", OpenSearchSecretArn=SECRET, OpenSearchSecretKmsKeyArn=KEY)
    [decrypt] = [s for s in statements("ShipLogsFunction", stack) if s["Action"] == "kms:Decrypt"]
    assert decrypt["Condition"] == {"StringEquals": {"kms:ViaService": "secretsmanager.eu-west-1.amazonaws.com"}}


# ------------------------------------------------------------------------------------------ alarms

ALARMS = {name: r["Properties"] for name, r in RESOURCES.items() if r["Type"] == "AWS::CloudWatch::Alarm"}


def _watched(alarm: dict[str, Any], stack: Stack) -> list[tuple[str, str, dict[str, str]]]:
    """(namespace, metric, dimensions) of every metric an alarm reads."""
    alarm = stack.value(alarm)
    metrics = [m["MetricStat"]["Metric"] for m in alarm.get("Metrics", []) if "MetricStat" in m] or [alarm]
    return [(m["Namespace"], m["MetricName"], {d["Name"]: d["Value"] for d in m["Dimensions"]}) for m in metrics]


@pytest.mark.parametrize(("alarm", "watches"), [
    ("DeadLetterQueueNotEmptyAlarm", [("AWS/SQS", "ApproximateNumberOfMessagesVisible", {"QueueName": "logship-DeadLetterQueue"})]),
    ("DeadLetterQueueAgingAlarm", [("AWS/SQS", "ApproximateAgeOfOldestMessage", {"QueueName": "logship-DeadLetterQueue"})]),
    ("ShipLogsErrorsAlarm", [("AWS/Lambda", "Errors", {"FunctionName": "logship-ship-logs"})]),
    ("ShipLogsThrottlesAlarm", [("AWS/Lambda", "Throttles", {"FunctionName": "logship-ship-logs"})]),
    ("ShipLogsPendingAlarm", [("logship", "Pending", {"FunctionName": "logship-ship-logs"})]),
    ("ShipLogsFailedAlarm", [("logship", "Failed", {"FunctionName": "logship-ship-logs"})]),
    ("SubscriptionFailuresAlarm", [("logship", "Failed", {"FunctionName": "logship-subscribe-log-group"}),
                                   ("logship", "Failed", {"FunctionName": "logship-reconcile-subscriptions"}),
                                   ("logship", "BackfillFailed", {"FunctionName": "logship-subscribe-log-group"}),
                                   ("logship", "BackfillFailed", {"FunctionName": "logship-reconcile-subscriptions"})]),
    ("SubscriptionDeadLetterQueueNotEmptyAlarm", [("AWS/SQS", "ApproximateNumberOfMessagesVisible",
                                                  {"QueueName": "logship-SubscriptionDeadLetterQueue"})]),
    ("SubscriptionLimitBlockedAlarm", [("logship", "LimitBlocked", {"FunctionName": "logship-subscribe-log-group"}),
                                       ("logship", "LimitBlocked", {"FunctionName": "logship-reconcile-subscriptions"}),
                                       ("logship", "Clash", {"FunctionName": "logship-subscribe-log-group"}),
                                       ("logship", "Clash", {"FunctionName": "logship-reconcile-subscriptions"})]),
    ("SweepUnfinishedAlarm", [("logship", "Unfinished", {"FunctionName": "logship-reconcile-subscriptions"}),
                              ("AWS/Lambda", "Errors", {"FunctionName": "logship-reconcile-subscriptions"})]),
])
def test_each_alarm_watches_what_the_issue_asks(alarm, watches):
    assert _watched(ALARMS[alarm], Stack()) == watches


def test_logships_own_metrics_under_alarm_are_ones_the_functions_emit():
    emitted = {name for name, _unit in SHIPPER_METRICS.values()} | set(FIGURES.values()) | {UNFINISHED}
    watched = {metric for alarm in ALARMS.values() for ns, metric, _ in _watched(alarm, Stack()) if ns == "logship"}
    assert watched <= emitted
    shipper = Stack().environment("ShipLogsFunction")
    assert shipper["METRICS_NAMESPACE"] == "logship"  # the namespace the alarms read


def test_the_dead_letter_queue_alarms_fire_on_one_batch_and_well_before_sqs_expires_it():
    stack = Stack()
    not_empty, aging = (stack.value(ALARMS[a]) for a in ("DeadLetterQueueNotEmptyAlarm", "DeadLetterQueueAgingAlarm"))
    assert (not_empty["ComparisonOperator"], not_empty["Threshold"]) == ("GreaterThanThreshold", 0)
    expression = next(m for m in aging["Metrics"] if m.get("ReturnData"))["Expression"]
    assert expression == "age / 86400"  # the queue reports seconds; the threshold is days
    assert (aging["ComparisonOperator"], aging["Threshold"]) == ("GreaterThanOrEqualToThreshold", "3")
    spec = TEMPLATE["Parameters"]["DeadLetterAlarmAgeDays"]
    assert spec["MaxValue"] < 14  # SQS keeps a message at most 14 days


@pytest.mark.parametrize(("topic", "actions"), [("", None), ("arn:aws:sns:eu-west-1:123456789012:ops-alerts",
                                                             ["arn:aws:sns:eu-west-1:123456789012:ops-alerts"])])
def test_alarms_notify_the_topic_only_when_one_is_given(topic, actions):
    stack = Stack(AlarmTopicArn=topic)
    for alarm in ALARMS.values():
        assert stack.value(alarm).get("AlarmActions") == actions
        assert stack.value(alarm).get("TreatMissingData") == "notBreaching"  # no data is no trouble


def test_every_alarm_is_explained_in_the_operations_page():
    alarms = section("operations.md", "Alarms")
    for name, alarm in ALARMS.items():
        assert Stack().value(alarm["AlarmName"]).removeprefix("logship-") in alarms, name


def test_every_parameter_is_in_the_deploy_pages_table():
    table = section("deploy.md", "Deploy")
    named = {name for row in re.findall(r"^\| (`[^|]+`) \|", table, re.M) for name in re.findall(r"`(\w+)`", row)}
    assert set(TEMPLATE["Parameters"]) - named == set()
