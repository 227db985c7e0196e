"""template.yaml read as CloudFormation would, checked against the code and the samples so they cannot drift.

The evaluator (tests/template_stack.py) resolves the template for a stack named ``logship`` with default
parameters unless a test says otherwise; EventBridge's pattern matching is moto's, not ours.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from moto.events.models import EventPattern

from logship.core.config import SubscriberConfig
from logship.core.selection import COMPONENTS, STACK_TAG, Selection, Verdict, named_like_logship, tagged_as_logship
from logship.subscribe.subscriber import PACED_APIS
from tests.payloads import EVENTS_DIR
from tests.template_stack import RESOURCES, TEMPLATE, Stack

SUBSCRIPTION_FUNCTIONS = ("SubscribeLogGroupFunction", "ReconcileSubscriptionsFunction")


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


@pytest.mark.parametrize("sample", sorted(path.stem for path in EVENTS_DIR.glob("*.json")))
def test_the_function_rule_matches_the_lambda_samples_and_nothing_else(sample):
    rule = RESOURCES["FunctionLoggingRule"]
    pattern = EventPattern.load(json.dumps(rule["Properties"]["EventPattern"]))
    event = json.loads((EVENTS_DIR / f"{sample}.json").read_text())

    assert pattern.matches_event(event) is sample.startswith("cloudtrail_lambda_")
    assert rule["Properties"]["Targets"] == [{"Id": "subscribe-log-group",
                                              "Arn": {"Fn::GetAtt": ["SubscribeLogGroupFunction", "Arn"]}}]


def test_the_function_rule_exists_only_with_function_log_groups():
    assert {name for name in ("FunctionLoggingRule", "FunctionLoggingPermission")
            if Stack(FunctionLogGroups="false").condition(RESOURCES[name]["Condition"])} == set()
    assert all(Stack().condition(RESOURCES[name]["Condition"]) for name in ("FunctionLoggingRule",
                                                                            "FunctionLoggingPermission"))


# ---------------------------------------------------------------------------------- permissions

def statements(function: str, stack: Stack) -> list[dict[str, Any]]:
    policies = stack.value(RESOURCES[function]["Properties"]["Policies"])
    assert all(isinstance(policy, dict) for policy in policies), "no managed policies: only what the code calls"
    return [statement for policy in policies for statement in policy["Statement"]]


def _actions(found: list[dict[str, Any]]) -> set[str]:
    return {action for s in found for action in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}


PREFIX = "arn:aws:logs:eu-west-1:123456789012:log-group:"
LAMBDA_GROUPS = PREFIX + "/aws/lambda/*"
FUNCTIONS = "arn:aws:lambda:eu-west-1:123456789012:function:*"


def _expected(function: str, stack: Stack, *, groups: str, suspects: str, retention: bool,
              functions: bool = True) -> dict[str, Any]:
    """What each subscription function may do, and on which resources: what its code calls, nothing else."""
    queue = stack.arn("SubscriptionDeadLetterQueue")
    common = {"logs:DescribeSubscriptionFilters": groups, "logs:PutSubscriptionFilter": groups,
              # tags are read only on groups named like a logship function's; the trailing * covers "name:*"
              "logs:ListTagsForResource": [f"{PREFIX}{suspects}*-{component}*" for component in COMPONENTS],
              "lambda:ListTags": FUNCTIONS,  # does a filter's other destination still exist, and whose?
              "logs:DescribeLogGroups": "*",  # the Service Authorization Reference gives it no resource type
              # the backfill: a new subscription's earlier lines, read and handed to the shipper alone
              "logs:FilterLogEvents": groups, "lambda:InvokeFunction": stack.arn("ShipLogsFunction"),
              # does an account policy count toward a group's limit; this stack's own, in that mode
              "logs:DescribeAccountPolicies": "*"}
    if function == "SubscribeLogGroupFunction":
        own: dict[str, Any] = {"sqs:SendMessage": queue}  # Lambda's on-failure record, sent with the function's role
        if retention:
            own["logs:PutRetentionPolicy"] = groups
    else:
        own = {"logs:DeleteSubscriptionFilter": groups,
               # continuing a sweep: itself; and the shipper for the backfill
               "lambda:InvokeFunction": [stack.arn(function), stack.arn("ShipLogsFunction")],
               "sqs:ReceiveMessage": queue, "sqs:DeleteMessage": queue}  # clearing what a sweep covered
        if retention:
            own["logs:PutRetentionPolicy"] = groups
    if functions:  # FunctionLogGroups: which functions log where (ListFunctions has no narrower resource)
        own["lambda:ListFunctions"] = "*"
        if function == "SubscribeLogGroupFunction":  # where a reconfigured function logs, if its record omits it
            own["lambda:GetFunctionConfiguration"] = FUNCTIONS
    return common | own


@pytest.mark.parametrize("function", SUBSCRIPTION_FUNCTIONS)
@pytest.mark.parametrize("retention", ["", "30"])
def test_each_function_may_do_only_what_it_calls(function, retention):
    stack = Stack(NewLogGroupRetentionDays=retention, FunctionLogGroups="false")

    assert {s["Effect"] for s in statements(function, stack)} == {"Allow"}
    assert _grants(function, stack) == _expected(function, stack, groups=LAMBDA_GROUPS, suspects="/aws/lambda/",
                                                 retention=bool(retention), functions=False)


@pytest.mark.parametrize("function", SUBSCRIPTION_FUNCTIONS)
def test_custom_function_groups_may_be_named_anything_so_they_widen_the_group_actions(function):
    stack = Stack()  # FunctionLogGroups=true by default

    assert _grants(function, stack) == _expected(function, stack, groups=PREFIX + "*", suspects="", retention=False)


@pytest.mark.parametrize("function", SUBSCRIPTION_FUNCTIONS)
def test_other_prefixes_widen_the_group_actions_to_the_accounts_groups(function):
    stack = Stack(IncludePrefixes="/aws/lambda/,/ecs/", NewLogGroupRetentionDays="30")

    assert _grants(function, stack) == _expected(function, stack, groups=PREFIX + "*", suspects="", retention=True)


# IAM action of each API the code calls (Lambda's Invoke is lambda:InvokeFunction, SQS's batch delete sqs:DeleteMessage).
_ACTION = {"logs": lambda api: f"logs:{api}", "lambda": lambda api: "lambda:InvokeFunction" if api == "Invoke" else
           f"lambda:{api}", "sqs": lambda api: "sqs:DeleteMessage" if api == "DeleteMessageBatch" else f"sqs:{api}"}


def test_every_api_the_code_calls_is_granted_and_nothing_more():
    stack = Stack(NewLogGroupRetentionDays="30")
    granted = set().union(*(_actions(statements(f, stack)) for f in SUBSCRIPTION_FUNCTIONS))
    called = {_ACTION[service](api) for service, apis in PACED_APIS.items() for api in apis}

    # SendMessage is Lambda's, for the on-failure record
    assert granted == called | {"sqs:SendMessage"}


# ------------------------------------------------------------------------ never a loop, same settings

def _log_groups(stack: Stack) -> set[str]:
    return set(stack.log_groups())


@pytest.mark.parametrize("function", SUBSCRIPTION_FUNCTIONS)
def test_no_log_group_of_the_stack_can_ever_be_subscribed(function):
    stack = Stack(IncludePrefixes="/aws/lambda/,/aws/lambda/logship-")
    config = SubscriberConfig.from_env(stack.environment(function))
    selection = Selection(config.include_prefixes, config.exclude, config.own_log_groups)

    assert {group: selection.verdict(group) for group in _log_groups(stack)} == dict.fromkeys(
        _log_groups(stack), Verdict.OWN)


def test_the_logship_function_names_are_the_ones_the_code_looks_for():
    """COMPONENTS (logship.core.selection) is the one list of function name suffixes: the template must match it."""
    stack = Stack("prod")
    functions = stack.functions()

    assert {name.removeprefix("prod-") for name in functions} == set(COMPONENTS)
    assert all(tags == {STACK_TAG: "prod", "logship:component": name.removeprefix("prod-")}
               for name, tags in functions.items())


@pytest.mark.parametrize("stack_name", ["logship", "prod", "team-a-stage-logs"])
def test_every_log_group_of_any_logship_stack_is_named_and_tagged_as_one(stack_name):
    stack = Stack(stack_name)

    for group, tags in stack.log_groups().items():
        assert named_like_logship(group)  # a suspect: its tags are read
        assert tags == {STACK_TAG: stack_name, "logship:component": group.rsplit(f"{stack_name}-", 1)[1]}
        assert tagged_as_logship(tags)


@pytest.mark.parametrize("name", [n for n, r in RESOURCES.items() if r["Type"] == "AWS::Serverless::Function"])
def test_every_function_logs_to_a_group_of_the_stack_with_the_stack_retention(name):
    group = RESOURCES[name]["Properties"]["LoggingConfig"]["LogGroup"]["Ref"]

    assert RESOURCES[group]["Type"] == "AWS::Logs::LogGroup"
    assert RESOURCES[group]["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}


def test_both_functions_subscribe_the_same_way_and_defaults_are_the_documented_ones():
    stack = Stack()
    subscribe, reconcile = (stack.environment(f) for f in SUBSCRIPTION_FUNCTIONS)
    config = SubscriberConfig.from_env(subscribe)

    reconcile_only = ("SUBSCRIPTION_DLQ_URL", "SUBSCRIPTION_MODE", "ACCOUNT_POLICY_NAME")  # per-group mode
    assert subscribe == {k: v for k, v in reconcile.items() if k not in reconcile_only}
    assert config.destination_arn == stack.arn("ShipLogsFunction")
    assert (config.filter_pattern, config.include_prefixes) == ("", ("/aws/lambda/",))
    assert (config.exclude, config.retention_days, config.calls_per_second) == ((), None, 5.0)
    assert stack.parameters["ReconcileSchedule"] == "rate(6 hours)"
    assert stack.parameters["CreateCloudTrail"] == "false"
    assert SubscriberConfig.from_env(reconcile).dead_letter_queue_url == stack.ref("SubscriptionDeadLetterQueue")


def test_two_stacks_default_filter_names_differ_and_a_chosen_name_is_used_as_is():
    names = {name: SubscriberConfig.from_env(Stack(name).environment("ReconcileSubscriptionsFunction")).filter_name
             for name in ("stage", "prod")}
    chosen = Stack("prod", FilterName="shipping")

    assert names == {"stage": "logship-stage", "prod": "logship-prod"}
    assert {chosen.environment(f)["FILTER_NAME"] for f in SUBSCRIPTION_FUNCTIONS} == {"shipping"}
    assert Stack("prod").value(RESOURCES["LogGroupSubscriptions"]["Properties"])["FilterName"] == "logship-prod"


@pytest.mark.parametrize("pace", ["5", "0.5", "40"])
def test_the_pace_reaches_both_functions(pace):
    stack = Stack(SubscriptionCallsPerSecond=pace)

    assert {SubscriberConfig.from_env(stack.environment(f)).calls_per_second for f in SUBSCRIPTION_FUNCTIONS} == {
        float(pace)}
    [group] = [g for g in TEMPLATE["Metadata"]["AWS::CloudFormation::Interface"]["ParameterGroups"]
               if "FilterName" in g["Parameters"]]
    assert "SubscriptionCallsPerSecond" in group["Parameters"]
    assert TEMPLATE["Parameters"]["SubscriptionCallsPerSecond"]["Default"] == 5


def test_failed_create_log_group_events_wait_in_an_encrypted_queue_a_sweep_clears():
    stack = Stack()
    assert RESOURCES["SubscriptionDeadLetterQueue"]["Properties"] == {"MessageRetentionPeriod": 1209600,
                                                                     "SqsManagedSseEnabled": True}  # 14 days
    invoke = stack.value(RESOURCES["SubscribeLogGroupFunction"]["Properties"]["EventInvokeConfig"])
    assert invoke["MaximumRetryAttempts"] == 2
    assert invoke["DestinationConfig"]["OnFailure"] == {"Type": "SQS",
                                                        "Destination": stack.arn("SubscriptionDeadLetterQueue")}
    assert TEMPLATE["Outputs"]["SubscriptionDeadLetterQueueUrl"]["Value"] == {"Ref": "SubscriptionDeadLetterQueue"}
    assert stack.environment("ReconcileSubscriptionsFunction")["SUBSCRIPTION_DLQ_URL"] == stack.ref(
        "SubscriptionDeadLetterQueue")


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
                    text, variables = (value[0], value[1]) if isinstance(value, list) else (value, {})
                    found.update(m.split(".")[0] for m in re.findall(r"\$\{([^}]+)\}", text) if
                                 m.split(".")[0] in RESOURCES)
                    walk(variables)
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
    """action -> resource(s), for exact comparisons; an action granted by several statements -> their resources."""
    grants: dict[str, Any] = {}
    for statement in statements(function, stack):
        for action in [statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"]:
            grants[action] = [grants[action], statement["Resource"]] if action in grants else statement["Resource"]
    return grants


KEY = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"


@pytest.mark.parametrize(("parameters", "shipper", "installer"), [
    # the installer's paths on the domain: each one a request it makes, tests/integration/test_installer_paths.py
    ({"OpenSearchAuth": "sigv4", "OpenSearchDomainArn": DOMAIN, "IndexPrefix": "applogs"},
     {"es:ESHttpPost": f"{DOMAIN}/_bulk"},  # POST /_bulk; nothing else
     {"es:ESHttpGet", "es:ESHttpPut", "es:ESHttpPost"}),
    ({"OpenSearchAuth": "sigv4", "OpenSearchDomainArn": DOMAIN, "IndexMode": "datastream",
      "DataStreamDataset": "checkout", "DataStreamNamespace": "prod", "IngestPipeline": "logs@custom"},
     {"es:ESHttpPost": f"{DOMAIN}/_bulk"},  # the pipeline and the data stream are in the body and query string
     {"es:ESHttpGet", "es:ESHttpPut", "es:ESHttpPost"}),
    ({"OpenSearchAuth": "sigv4", "OpenSearchCollectionArn": COLLECTION},
     {"aoss:APIAccessAll": COLLECTION},
     # the installer asks the control plane whether the collection is a time series one (it takes only "*")
     {"aoss:APIAccessAll": COLLECTION, "aoss:BatchGetCollection": "*"}),
    ({"OpenSearchAuth": "basic", "OpenSearchSecretArn": SECRET, "OpenSearchDomainArn": DOMAIN},
     {"secretsmanager:GetSecretValue": SECRET}, {"secretsmanager:GetSecretValue": SECRET}),
    ({"OpenSearchAuth": "apikey", "OpenSearchSecretArn": SECRET},
     {"secretsmanager:GetSecretValue": SECRET}, {"secretsmanager:GetSecretValue": SECRET}),
    ({"OpenSearchAuth": "apikey", "OpenSearchSecretArn": SECRET, "OpenSearchSecretKmsKeyArn": KEY},
     {"secretsmanager:GetSecretValue": SECRET, "kms:Decrypt": KEY},
     {"secretsmanager:GetSecretValue": SECRET, "kms:Decrypt": KEY}),
    ({"OpenSearchAuth": "basic", "OpenSearchSecretArn": SECRET, "OpenSearchSecretKmsKeyArn": KEY},
     {"secretsmanager:GetSecretValue": SECRET, "kms:Decrypt": KEY},
     {"secretsmanager:GetSecretValue": SECRET, "kms:Decrypt": KEY}),
    ({"OpenSearchAuth": "sigv4", "OpenSearchSecretKmsKeyArn": KEY}, {}, {}),  # a key is for the secret's auth modes
    ({"OpenSearchAuth": "none"}, {}, {}),
])
def test_opensearch_access_is_scoped_to_the_one_domain_collection_or_secret(parameters, shipper, installer):
    stack = Stack(**parameters)
    dlq = {"sqs:SendMessage": stack.value({"Fn::GetAtt": ["DeadLetterQueue", "Arn"]})}

    assert _grants("ShipLogsFunction", stack) == dlq | shipper
    grants = _grants("InstallIndexTemplateFunction", stack)
    if isinstance(installer, set):  # on a domain: its own paths only
        assert set(grants) == installer
        assert all(str(resource).startswith(DOMAIN) for resource in _flat(list(grants.values())))
    else:
        assert grants == installer


def _flat(values: list) -> list:
    return [leaf for value in values for leaf in (_flat(value) if isinstance(value, list) else [value])]


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
    from logship.core.config import ShipperConfig

    stack = Stack(OpenSearchEndpoint="https://search-logs-abc.eu-west-1.es.amazonaws.com", RedactBuiltins="email,card",
                  RedactPatterns='["sku=\\\\w+"]', FunctionNamePattern="(?P<service>[^-]+)-.+",
                  TransformedOriginalKey="raw")
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
    assert config.transformed_original_key == installer.transformed_original_key == "raw"


def test_issue_twelve_settings_reach_both_functions_and_parse():
    from logship.core.config import ShipperConfig

    cloud_id = "logs-prod:ZXUtd2VzdC0xLmF3cy5mb3VuZC5pbyRlczEyMyRrYjQ1Ng=="  # eu-west-1.aws.found.io$es123$kb456
    stack = Stack(OpenSearchEndpoint="", ElasticCloudId=cloud_id, OpenSearchAuth="apikey", OpenSearchSecretArn=SECRET,
                  CompressRequests="false", IndexMode="datastream", DataStreamDataset="checkout.api",
                  DataStreamNamespace="prod", IngestPipeline="logs@custom", DocumentIds="false",
                  BulkMaxBytes="1048576", BulkMaxDocs="500")
    for function in ("ShipLogsFunction", "InstallIndexTemplateFunction"):
        config = ShipperConfig.from_env(stack.environment(function) | {"AWS_REGION": "eu-west-1"})
        assert (config.endpoint, config.auth, config.secret_arn) == ("https://es123.eu-west-1.aws.found.io",
                                                                     "apikey", SECRET)
        assert (config.elasticsearch, config.compress, config.document_ids) == (True, False, False)
        assert config.naming.patterns == ["logs-checkout.api-prod", "logs-checkout.api.failed-prod"]
        assert config.ingest_pipeline == "logs@custom"
    shipper = ShipperConfig.from_env(stack.environment("ShipLogsFunction"))
    assert (shipper.bulk_max_bytes, shipper.bulk_max_docs) == (1048576, 500)

    defaults = ShipperConfig.from_env(Stack(OpenSearchEndpoint="https://logs.example.com").environment(
        "ShipLogsFunction"))
    assert (defaults.compress, defaults.cluster_flavor, defaults.index_mode, defaults.document_ids) == (
        True, "opensearch", "daily", True)
    assert (defaults.bulk_max_bytes, defaults.bulk_max_docs) == (5 * 1024 * 1024, 5000)  # the code's own defaults


def test_a_change_of_where_documents_go_installs_again():
    properties = Stack(IndexMode="datastream", DataStreamDataset="a", DataStreamNamespace="b").value(
        RESOURCES["IndexTemplate"]["Properties"])
    assert {"IndexMode": "datastream", "DataStream": "logs-a-b", "IngestPipeline": "", "DocumentIds": "true",
            "ClusterFlavor": "opensearch", "ElasticCloudId": ""}.items() <= properties.items()


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


# ------------------------------------------------------------------------------- account-policy mode

def test_an_account_policy_stack_has_no_event_path_and_its_policy_spares_every_group_of_its_own():
    stack = Stack(SubscriptionMode="account-policy")
    created = {name for name in RESOURCES if stack.exists(name)}
    preflight = stack.value(RESOURCES["AccountPolicyPreflight"]["Properties"])
    policy = RESOURCES["SubscriptionFilterPolicy"]["Properties"]

    assert {"SubscribeLogGroupFunction", "SubscriptionDeadLetterQueue", "FunctionLoggingRule",
            "ManagementEventsTrail"}.isdisjoint(created)
    assert {"AccountPolicyPreflight", "SubscriptionFilterPolicy"} <= created
    assert set(preflight["OwnLogGroups"].split(",")) == set(stack.log_groups())  # never its own logs
    assert (policy["PolicyType"], policy["Scope"], stack.value(policy["PolicyName"])) == (
        "SUBSCRIPTION_FILTER_POLICY", "ALL", "logship-logship")
    assert policy["SelectionCriteria"] == {"Fn::GetAtt": ["AccountPolicyPreflight", "SelectionCriteria"]}
    sweep = stack.value(RESOURCES["LogGroupSubscriptions"]["Properties"])
    assert sweep["AccountPolicy"] == "logship-logship"  # the sweep (its backfill) waits for the policy
    config = SubscriberConfig.from_env(stack.environment("ReconcileSubscriptionsFunction"))
    assert (config.account_policy, config.dead_letter_queue_url) == ("logship-logship", "")
    shipper = stack.environment("ShipLogsFunction")
    assert (shipper["SUBSCRIPTION_MODE"], set(shipper["STACK_LOG_GROUPS"].split(","))) == (
        "account-policy", set(stack.log_groups()))


def test_a_per_group_stack_creates_no_account_policy():
    stack = Stack()
    assert not any(stack.exists(name) for name in ("AccountPolicyPreflight", "SubscriptionFilterPolicy"))
    assert stack.value(RESOURCES["LogGroupSubscriptions"]["Properties"])["AccountPolicy"] == ""


# ------------------------------------------------------------------------------------ Transport=kinesis

def test_with_kinesis_filters_write_to_an_encrypted_stream_through_a_role_only_this_accounts_logs_assume():
    stack = Stack(Transport="kinesis")
    role = RESOURCES["LogsToStreamRole"]["Properties"]
    [trust] = role["AssumeRolePolicyDocument"]["Statement"]
    [grant] = role["Policies"][0]["PolicyDocument"]["Statement"]
    stream = stack.value(RESOURCES["LogStream"]["Properties"])

    assert (trust["Principal"], trust["Action"]) == ({"Service": "logs.amazonaws.com"}, "sts:AssumeRole")
    assert stack.value(trust["Condition"]) == {
        "StringLike": {"aws:SourceArn": "arn:aws:logs:eu-west-1:123456789012:*"},
        "StringEquals": {"aws:SourceAccount": "123456789012"}}
    assert (grant["Action"], grant["Resource"]) == ("kinesis:PutRecord", {"Fn::GetAtt": ["LogStream", "Arn"]})
    assert stream["StreamEncryption"] == {"EncryptionType": "KMS", "KeyId": "alias/aws/kinesis"}
    assert (stream["StreamModeDetails"], "ShardCount" in stream) == ({"StreamMode": "ON_DEMAND"}, False)
    provisioned = Stack(Transport="kinesis", KinesisShardCount="4").value(RESOURCES["LogStream"]["Properties"])
    assert (provisioned["StreamModeDetails"], provisioned["ShardCount"]) == ({"StreamMode": "PROVISIONED"}, "4")
    for function in SUBSCRIPTION_FUNCTIONS:
        env = stack.environment(function)
        assert (env["STREAM_ARN"], env["STREAM_ROLE_ARN"]) == (
            "arn:aws:kinesis:eu-west-1:123456789012:stream/logship-logs", stack.arn("LogsToStreamRole"))
        assert SubscriberConfig.from_env(env).filter_destination == env["STREAM_ARN"]
        [passes] = [st for st in statements(function, stack) if st["Action"] == "iam:PassRole"]
        assert (passes["Resource"], passes["Condition"]) == (
            stack.arn("LogsToStreamRole"), {"StringEquals": {"iam:PassedToService": "logs.amazonaws.com"}})
    assert not any(st["Action"] == "iam:PassRole" for st in statements("ReconcileSubscriptionsFunction", Stack()))


def test_with_kinesis_ship_logs_reads_the_stream_reporting_each_failed_record_and_bounding_retries():
    stack = Stack(Transport="kinesis", KinesisMaximumRetryAttempts="3")
    mapping = stack.value(RESOURCES["LogStreamMapping"]["Properties"])

    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert (mapping["BisectBatchOnFunctionError"], mapping["MaximumRetryAttempts"]) == (True, "3")
    assert (mapping["BatchSize"], mapping["MaximumBatchingWindowInSeconds"], mapping["ParallelizationFactor"]) == (
        "100", "1", "1")
    assert mapping["DestinationConfig"] == {"OnFailure": {"Destination": stack.arn("DeadLetterQueue")}}
    assert stack.environment("ShipLogsFunction")["DEAD_LETTER_QUEUE_URL"] == stack.ref("DeadLetterQueue")
    assert not any(Stack().exists(name) for name in ("LogStream", "LogsToStreamRole", "LogStreamMapping"))
