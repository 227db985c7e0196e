"""template.yaml read as CloudFormation would, checked against the code and the samples so they cannot drift.

A small evaluator resolves the intrinsic functions the template uses, for a stack named ``logship`` with
default parameters; EventBridge's pattern matching is moto's, not ours.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from cfnlint.decode.cfn_yaml import load as load_template
from moto.events.models import EventPattern

from logship.config import SubscriberConfig
from logship.selection import Selection, Verdict
from logship.subscriptions import CALLS_PER_SECOND
from tests.payloads import EVENTS_DIR

TEMPLATE = load_template(str(Path(__file__).parents[2] / "template.yaml"))
RESOURCES = TEMPLATE["Resources"]
PSEUDO = {"AWS::StackName": "logship", "AWS::Region": "eu-west-1", "AWS::AccountId": "123456789012",
          "AWS::Partition": "aws"}
NO_VALUE = object()
SUBSCRIPTION_FUNCTIONS = ("SubscribeLogGroupFunction", "ReconcileSubscriptionsFunction")


class Stack:
    """The template's values for one set of parameters: Ref, Fn::Sub, Fn::Join, Fn::GetAtt (Arn), Fn::If."""

    def __init__(self, **parameters: str) -> None:
        defaults = {name: str(spec.get("Default", "")) for name, spec in TEMPLATE["Parameters"].items()}
        self.parameters = defaults | parameters

    def ref(self, name: str) -> Any:
        if name == "AWS::NoValue":
            return NO_VALUE
        if name in PSEUDO:
            return PSEUDO[name]
        if name in self.parameters:
            if TEMPLATE["Parameters"][name]["Type"] == "CommaDelimitedList":
                return self.parameters[name].split(",")
            return self.parameters[name]
        properties = RESOURCES[name]["Properties"]
        return self.value(properties.get("LogGroupName") or properties["FunctionName"])

    def arn(self, name: str, attribute: str = "Arn") -> str:
        if RESOURCES[name]["Type"] == "AWS::SQS::Queue":  # generated name: the logical id stands in for it
            assert attribute in ("Arn", "QueueName")
            return name if attribute == "QueueName" else f"arn:aws:sqs:eu-west-1:123456789012:{name}"
        assert attribute == "Arn"
        return f"arn:aws:lambda:eu-west-1:123456789012:function:{self.ref(name)}"

    def condition(self, node: Any) -> bool:
        if isinstance(node, str):
            return self.condition(TEMPLATE["Conditions"][node])
        [(function, args)] = node.items()
        if function == "Fn::Equals":
            return str(self.value(args[0])) == str(self.value(args[1]))
        if function == "Fn::Not":
            return not self.condition(args[0])
        if function == "Fn::And":
            return all(self.condition(arg) for arg in args)
        assert function == "Condition"
        return self.condition(args)

    def value(self, node: Any) -> Any:
        if isinstance(node, list):
            return [v for v in map(self.value, node) if v is not NO_VALUE]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            [(function, args)] = node.items()
            if function == "Ref":
                return self.ref(args)
            if function == "Fn::GetAtt":
                return self.arn(*(args.split(".") if isinstance(args, str) else args))
            if function == "Fn::Sub":
                return re.sub(r"\$\{([^}]+)\}", lambda m: self.arn(*m[1].split(".")) if "." in m[1]
                              else self.ref(m[1]), args)
            if function == "Fn::Join":
                return args[0].join(self.value(args[1]))
            if function == "Fn::If":
                return self.value(args[1] if self.condition(args[0]) else args[2])
        return {key: v for key, v in ((k, self.value(v)) for k, v in node.items()) if v is not NO_VALUE}

    def environment(self, function: str) -> dict[str, str]:
        return self.value(RESOURCES[function]["Properties"]["Environment"]["Variables"])


# ------------------------------------------------------------------------------------ the trigger

def _rule_pattern() -> dict[str, Any]:
    events = RESOURCES["SubscribeLogGroupFunction"]["Properties"]["Events"]
    [rule] = [event for event in events.values() if event["Type"] == "EventBridgeRule"]
    return json.loads(json.dumps(rule["Properties"]["Pattern"]))


@pytest.mark.parametrize("sample", sorted(path.stem for path in EVENTS_DIR.glob("*.json")))
def test_the_rule_matches_the_create_log_group_samples_and_nothing_else(sample):
    pattern = EventPattern.load(json.dumps(_rule_pattern()))
    event = json.loads((EVENTS_DIR / f"{sample}.json").read_text())

    assert pattern.matches_event(event) is sample.startswith("cloudtrail_create_")


def test_the_rule_is_the_cloudtrail_create_log_group_pattern():
    assert _rule_pattern() == {"source": ["aws.logs"], "detail-type": ["AWS API Call via CloudTrail"],
                               "detail": {"eventSource": ["logs.amazonaws.com"], "eventName": ["CreateLogGroup"]}}


# ---------------------------------------------------------------------------------- permissions

def statements(function: str, stack: Stack) -> list[dict[str, Any]]:
    policies = stack.value(RESOURCES[function]["Properties"]["Policies"])
    assert all(isinstance(policy, dict) for policy in policies), "no managed policies: only what the code calls"
    return [statement for policy in policies for statement in policy["Statement"]]


def _actions(found: list[dict[str, Any]]) -> set[str]:
    return {action for s in found for action in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}


LOGS = ["logs:DescribeSubscriptionFilters", "logs:PutSubscriptionFilter"]


@pytest.mark.parametrize(("function", "parameters", "allowed"), [
    ("SubscribeLogGroupFunction", {}, set(LOGS)),
    ("SubscribeLogGroupFunction", {"NewLogGroupRetentionDays": "30"},
     {*LOGS, "logs:DescribeLogGroups", "logs:PutRetentionPolicy"}),
    ("ReconcileSubscriptionsFunction", {},
     {*LOGS, "logs:DescribeLogGroups", "logs:DeleteSubscriptionFilter", "lambda:InvokeFunction"}),
])
def test_each_function_may_do_only_what_it_calls(function, parameters, allowed):
    stack = Stack(**parameters)
    found = statements(function, stack)

    assert _actions(found) == allowed
    assert {s["Effect"] for s in found} == {"Allow"}
    for statement in found:
        if statement["Action"] == "lambda:InvokeFunction":  # continuing a sweep: itself, nothing else
            assert statement["Resource"] == stack.arn(function)
        elif statement["Action"] == "logs:DescribeLogGroups":  # lists the account: no narrower resource
            assert statement["Resource"] == "arn:aws:logs:eu-west-1:123456789012:log-group:*"
        else:  # everything done to a group: only Lambda's groups, with the default prefix
            assert statement["Resource"] == "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/*"


@pytest.mark.parametrize("function", SUBSCRIPTION_FUNCTIONS)
def test_other_prefixes_widen_the_group_actions_to_the_accounts_groups(function):
    stack = Stack(IncludePrefixes="/aws/lambda/,/ecs/", NewLogGroupRetentionDays="30")
    resources = {s["Resource"] for s in statements(function, stack) if s["Action"] != "lambda:InvokeFunction"}
    assert resources == {"arn:aws:logs:eu-west-1:123456789012:log-group:*"}


def test_every_cloudwatch_logs_call_in_the_code_is_allowed_somewhere():
    stack = Stack(NewLogGroupRetentionDays="30")
    granted = set().union(*(_actions(statements(f, stack)) for f in SUBSCRIPTION_FUNCTIONS))

    assert {f"logs:{operation}" for operation in CALLS_PER_SECOND} == {a for a in granted if a.startswith("logs:")}


# ------------------------------------------------------------------------ never a loop, same settings

def _log_groups(stack: Stack) -> set[str]:
    return {stack.ref(name) for name, r in RESOURCES.items() if r["Type"] == "AWS::Logs::LogGroup"}


@pytest.mark.parametrize("function", SUBSCRIPTION_FUNCTIONS)
def test_no_log_group_of_the_stack_can_ever_be_subscribed(function):
    stack = Stack(IncludePrefixes="/aws/lambda/,/aws/lambda/logship-")
    config = SubscriberConfig.from_env(stack.environment(function))
    selection = Selection(config.include_prefixes, config.exclude, config.own_log_groups)

    assert {group: selection.verdict(group) for group in _log_groups(stack)} == dict.fromkeys(
        _log_groups(stack), Verdict.OWN)


@pytest.mark.parametrize("name", [n for n, r in RESOURCES.items() if r["Type"] == "AWS::Serverless::Function"])
def test_every_function_logs_to_a_group_of_the_stack_with_the_stack_retention(name):
    group = RESOURCES[name]["Properties"]["LoggingConfig"]["LogGroup"]["Ref"]

    assert RESOURCES[group]["Type"] == "AWS::Logs::LogGroup"
    assert RESOURCES[group]["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}


def test_both_functions_subscribe_the_same_way_and_defaults_are_the_documented_ones():
    stack = Stack()
    subscribe, reconcile = (stack.environment(f) for f in SUBSCRIPTION_FUNCTIONS)
    config = SubscriberConfig.from_env(subscribe)

    assert {k: v for k, v in subscribe.items() if k != "RETENTION_DAYS"} == reconcile
    assert config.destination_arn == stack.arn("ShipLogsFunction")
    assert (config.filter_name, config.filter_pattern, config.include_prefixes) == ("logship", "", ("/aws/lambda/",))
    assert (config.exclude, config.retention_days) == ((), None)
    assert stack.parameters["ReconcileSchedule"] == "rate(6 hours)"
    assert stack.parameters["CreateCloudTrail"] == "false"


# ------------------------------------------------------------------------------------ lifecycle

def depends_on(name: str) -> set[str]:
    """Every resource ``name`` depends on, directly or not: CloudFormation deletes it before any of them."""
    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "Ref" and value in RESOURCES:
                    found.add(value)
                elif key == "Fn::GetAtt":
                    found.add(value[0])
                elif key == "Fn::Sub":
                    found.update(m.split(".")[0] for m in re.findall(r"\$\{([^}]+)\}", value) if
                                 m.split(".")[0] in RESOURCES)
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    resource = RESOURCES[name]
    walk(resource.get("Properties", {}))
    explicit = resource.get("DependsOn", [])
    found.update([explicit] if isinstance(explicit, str) else explicit)
    for direct in list(found):
        found |= depends_on(direct)
    return found


def test_uninstall_runs_after_every_trigger_is_gone_and_before_the_shipper_goes():
    assert {"ShipLogsFunction", "LogsInvokePermission", "ReconcileSubscriptionsFunction"} <= depends_on(
        "LogGroupSubscriptions")
    assert "LogGroupSubscriptions" in depends_on("SubscribeLogGroupFunction")  # and so its CreateLogGroup rule
    assert "LogGroupSubscriptions" in depends_on("ReconcileScheduleRule")


def test_the_schedule_runs_the_reconciler():
    stack = Stack()
    rule = stack.value(RESOURCES["ReconcileScheduleRule"]["Properties"])

    assert rule["ScheduleExpression"] == "rate(6 hours)"
    assert [target["Arn"] for target in rule["Targets"]] == [stack.arn("ReconcileSubscriptionsFunction")]
    permission = RESOURCES["ReconcileSchedulePermission"]["Properties"]
    assert permission["Principal"] == "events.amazonaws.com"
    assert permission["FunctionName"] == {"Ref": "ReconcileSubscriptionsFunction"}
    assert permission["SourceArn"] == {"Fn::GetAtt": ["ReconcileScheduleRule", "Arn"]}


@pytest.mark.parametrize(("create", "expected"), [("false", False), ("true", True)])
def test_a_trail_is_created_only_when_asked(create, expected):
    stack = Stack(CreateCloudTrail=create)
    conditional = {name for name, r in RESOURCES.items() if r.get("Condition") == "CreateTrail"}

    assert conditional == {"TrailBucket", "TrailBucketPolicy", "ManagementEventsTrail"}
    assert stack.condition("CreateTrail") is expected
    trail = RESOURCES["ManagementEventsTrail"]["Properties"]
    assert trail["EventSelectors"] == [{"ReadWriteType": "WriteOnly", "IncludeManagementEvents": True}]


# ------------------------------------------------------------------- shipping and the index template

DOMAIN = "arn:aws:es:eu-west-1:123456789012:domain/logs"
COLLECTION = "arn:aws:aoss:eu-west-1:123456789012:collection/abc123"
SECRET = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:logship-AbCdEf"


def _grants(function: str, stack: Stack) -> dict[str, Any]:
    """action -> resource(s), for exact comparisons."""
    return {action: s["Resource"] for s in statements(function, stack)
            for action in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}


KEY = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
POLICY = f"{DOMAIN}/_plugins/_ism/policies/logship-applogs"


@pytest.mark.parametrize(("parameters", "shipper", "installer"), [
    ({"OpenSearchAuth": "sigv4", "OpenSearchDomainArn": DOMAIN, "IndexPrefix": "applogs"},
     {"es:ESHttpPost": f"{DOMAIN}/_bulk"},  # POST /_bulk; nothing else
     {"es:ESHttpGet": [DOMAIN, f"{DOMAIN}/", POLICY],  # GET / and the current ISM policy
      "es:ESHttpPut": [f"{DOMAIN}/_index_template/logship-applogs", POLICY, f"{DOMAIN}/_ilm/policy/logship-applogs"]}),
    ({"OpenSearchAuth": "sigv4", "OpenSearchCollectionArn": COLLECTION},
     {"aoss:APIAccessAll": COLLECTION}, {"aoss:APIAccessAll": COLLECTION}),
    ({"OpenSearchAuth": "basic", "OpenSearchSecretArn": SECRET, "OpenSearchDomainArn": DOMAIN},
     {"secretsmanager:GetSecretValue": SECRET}, {"secretsmanager:GetSecretValue": SECRET}),
    ({"OpenSearchAuth": "basic", "OpenSearchSecretArn": SECRET, "OpenSearchSecretKmsKeyArn": KEY},
     {"secretsmanager:GetSecretValue": SECRET, "kms:Decrypt": KEY},
     {"secretsmanager:GetSecretValue": SECRET, "kms:Decrypt": KEY}),
    ({"OpenSearchAuth": "sigv4", "OpenSearchSecretKmsKeyArn": KEY}, {}, {}),  # a key is for basic auth's secret
    ({"OpenSearchAuth": "none"}, {}, {}),
])
def test_opensearch_access_is_scoped_to_the_one_domain_collection_or_secret(parameters, shipper, installer):
    stack = Stack(**parameters)
    dlq = {"sqs:SendMessage": stack.value({"Fn::GetAtt": ["DeadLetterQueue", "Arn"]})}

    assert _grants("ShipLogsFunction", stack) == dlq | shipper
    assert _grants("InstallIndexTemplateFunction", stack) == installer


def test_failed_batches_go_to_an_encrypted_queue_after_two_retries():
    queue = RESOURCES["DeadLetterQueue"]["Properties"]
    assert queue == {"MessageRetentionPeriod": 1209600, "SqsManagedSseEnabled": True}  # 14 days
    invoke = RESOURCES["ShipLogsFunction"]["Properties"]["EventInvokeConfig"]
    assert invoke["MaximumRetryAttempts"] == 2
    assert invoke["DestinationConfig"]["OnFailure"] == {"Type": "SQS", "Destination": {"Fn::GetAtt": ["DeadLetterQueue",
                                                                                                        "Arn"]}}


def test_cloudwatch_logs_may_invoke_the_shipper_through_one_wildcard_statement():
    permissions = [r["Properties"] for r in RESOURCES.values() if r["Type"] == "AWS::Lambda::Permission"
                   and r["Properties"]["Principal"] == "logs.amazonaws.com"]
    stack = Stack()
    assert [stack.value(p) for p in permissions] == [{
        "Action": "lambda:InvokeFunction", "FunctionName": stack.arn("ShipLogsFunction"),
        "Principal": "logs.amazonaws.com", "SourceAccount": "123456789012",
        "SourceArn": "arn:aws:logs:eu-west-1:123456789012:log-group:*"}]


def test_shipper_settings_from_the_template_parse_and_match_the_parameters():
    from logship.config import ShipperConfig

    stack = Stack(OpenSearchEndpoint="https://search-logs-abc.eu-west-1.es.amazonaws.com", RedactBuiltins="email,card",
                  RedactPatterns='["sku=\\\\w+"]', FunctionNamePattern="(?P<service>[^-]+)-.+")
    config = ShipperConfig.from_env(stack.environment("ShipLogsFunction") | {"AWS_REGION": "eu-west-1"})

    assert (config.auth, config.index_prefix, config.function_metrics_namespace) == ("sigv4", "cwl", "logship/functions")
    assert config.correlation_keys == ("correlation_id", "correlationId")
    assert config.redact_builtins == ("email", "card")
    assert config.redact_patterns == (r"sku=\w+",)
    installer = ShipperConfig.from_env(stack.environment("InstallIndexTemplateFunction"))
    assert (installer.endpoint, installer.index_retention_days) == (config.endpoint, 30)
    # the installer validates the shipper's parsing settings at deploy: the same values, the same checks
    assert (installer.redact_patterns, installer.function_name_pattern) == (config.redact_patterns,
                                                                            config.function_name_pattern)


def test_the_index_template_is_in_place_before_any_log_group_is_subscribed():
    assert "IndexTemplate" in depends_on("LogGroupSubscriptions")
    properties = RESOURCES["IndexTemplate"]["Properties"]
    assert Stack().value(properties["ServiceToken"]) == Stack().arn("InstallIndexTemplateFunction")
    assert Stack().value(properties["Install"]) == "true"
    assert properties["Code"] == {"Ref": "SharedLayer"}  # new mappings in a new layer are installed again


def test_every_function_arn_and_the_dead_letter_queue_are_outputs():
    outputs = {o["Value"].get("Fn::GetAtt", [None])[0] for o in TEMPLATE["Outputs"].values() if isinstance(o["Value"], dict)}
    functions = {n for n, r in RESOURCES.items() if r["Type"] == "AWS::Serverless::Function"}
    assert functions <= outputs
    assert TEMPLATE["Outputs"]["DeadLetterQueueUrl"]["Value"] == {"Ref": "DeadLetterQueue"}
