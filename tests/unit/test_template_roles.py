"""One template, three roles: a member stack holds no shipper and no cluster setting, and its subscription functions
read the central stack's outputs as the code expects; a central stack admits its members to its destination."""

from __future__ import annotations

import json
from typing import Any

import pytest

from logship.core.config import SubscriberConfig
from logship.core.members import named_region
from tests.template_stack import REGION, RESOURCES, TEMPLATE, Stack
from tests.unit.test_template import SUBSCRIPTION_FUNCTIONS, _actions, statements

CENTRAL = "210987654321"
DESTINATION = f"arn:aws:logs:{REGION}:{CENTRAL}:destination:logship-central"
STREAM = f"arn:aws:kinesis:{REGION}:{CENTRAL}:stream/central-logs"
DELIVERY_ROLE = f"arn:aws:iam::{CENTRAL}:role/central-MemberDeliveryRole-1A2B"
CLUSTER_SETTINGS = {"OpenSearchEndpoint", "ElasticCloudId", "OpenSearchAuth", "OpenSearchSecretArn",
                    "OpenSearchSecretKmsKeyArn", "OpenSearchDomainArn", "OpenSearchCollectionArn", "ClusterFlavor"}


def member(**parameters: str) -> Stack:
    return Stack("StackSet-logship-member-1a2b", **{
        "Role": "member", "OpenSearchEndpoint": "", "CentralDestinationArn": DESTINATION, "CentralStreamArn": STREAM,
        "CentralDeliveryRoleArn": DELIVERY_ROLE} | parameters)


def central(**parameters: str) -> Stack:
    return Stack("central", Role="central", Transport="kinesis", **parameters)


CLUSTER = {"OpenSearchEndpoint": "https://search-logs.example.com", "OpenSearchAuth": "basic",
           "OpenSearchSecretArn": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:cluster-login"}


def created(stack: Stack) -> dict[str, Any]:
    return {name: stack.value(RESOURCES[name].get("Properties", {})) for name in RESOURCES if stack.exists(name)}


def test_a_member_stack_has_no_shipper_and_no_cluster_setting_reaches_any_of_its_resources():
    """Cluster settings given to a member by mistake (the deploy's rules refuse them) still reach nothing."""
    resources = created(member(**CLUSTER))
    shipping = json.dumps(created(Stack(**CLUSTER)))

    assert not {"ShipLogsFunction", "InstallIndexTemplateFunction", "IndexTemplate", "LogStream",
                "DeadLetterQueue", "LogsDestination"} & set(resources)
    assert {"ReconcileSubscriptionsFunction", "SubscribeLogGroupFunction", "LogGroupSubscriptions"} <= set(resources)
    for value in CLUSTER.values():
        assert value in shipping  # a standalone stack does use them: the check below can fail
        assert value not in json.dumps(resources)


@pytest.mark.parametrize("function", SUBSCRIPTION_FUNCTIONS)
def test_a_members_functions_send_to_the_central_destination_under_a_name_that_carries_the_region(function):
    stack = member()
    config = SubscriberConfig.from_env(stack.environment(function) | {"AWS_REGION": REGION})

    assert (config.member, config.filter_destination, config.filter_role_arn) == (True, DESTINATION, "")
    assert named_region(config.filter_name) == REGION
    assert (config.central_stream_arn, config.central_delivery_role_arn, config.account) == (
        STREAM, DELIVERY_ROLE, "123456789012")
    assert "/aws/lambda/StackSet-logship-member-1a2b-reconcile-subscriptions" in config.own_log_groups


@pytest.mark.parametrize("function", SUBSCRIPTION_FUNCTIONS)
def test_a_member_may_assume_the_central_delivery_role_for_its_backfill_and_invokes_no_shipper(function):
    found = statements(function, member())
    without_backfill = statements(function, member(CentralStreamArn="", CentralDeliveryRoleArn=""))

    assert [s["Resource"] for s in found if s["Action"] == "sts:AssumeRole"] == [DELIVERY_ROLE]
    assert "sts:AssumeRole" not in _actions(without_backfill)
    assert not any("ship-logs" in str(s["Resource"]) for s in found if s["Action"] == "lambda:InvokeFunction")


def test_a_member_account_policy_is_named_for_its_region_as_the_functions_expect():
    stack = member(SubscriptionMode="account-policy")
    policy = stack.value(RESOURCES["SubscriptionFilterPolicy"]["Properties"])
    preflight = stack.value(RESOURCES["AccountPolicyPreflight"]["Properties"])
    config = SubscriberConfig.from_env(stack.environment("ReconcileSubscriptionsFunction") | {"AWS_REGION": REGION})

    assert policy["PolicyName"] == preflight["PolicyName"] == config.account_policy
    assert named_region(config.account_policy) == REGION
    assert (preflight["DestinationArn"], preflight["RoleArn"]) == (DESTINATION, "")


def _destination_policy(stack: Stack) -> dict[str, Any]:
    return json.loads(stack.value(RESOURCES["LogsDestination"]["Properties"]["DestinationPolicy"]))


def test_a_central_stack_admits_its_organization_to_a_destination_writing_to_its_stream():
    stack = central(OrganizationId="o-a1b2c3d4e5")
    destination = stack.value(RESOURCES["LogsDestination"]["Properties"])
    [statement] = _destination_policy(stack)["Statement"]
    trust = stack.value(RESOURCES["MemberDeliveryRole"]["Properties"]["AssumeRolePolicyDocument"])["Statement"][0]

    assert destination["TargetArn"] == stack.arn("LogStream")
    assert (statement["Principal"], statement["Condition"]) == (
        "*", {"StringEquals": {"aws:PrincipalOrgID": ["o-a1b2c3d4e5"]}})
    assert statement["Resource"] == f"arn:aws:logs:{REGION}:123456789012:destination:{destination['DestinationName']}"
    assert trust["Condition"]["StringEquals"]["aws:PrincipalOrgID"] == "o-a1b2c3d4e5"
    assert trust["Condition"]["StringEquals"]["aws:PrincipalTag/logship:component"] == [
        "subscribe-log-group", "reconcile-subscriptions"]


def test_a_central_stack_given_accounts_admits_those_and_lets_cloudwatch_logs_write_for_them_only():
    """And its own account: a relay stack's own groups in another region send and backfill as a member's do."""
    stack = central(MemberAccountIds="111122223333,444455556666")
    [statement] = _destination_policy(stack)["Statement"]
    role = stack.value(RESOURCES["DestinationToStreamRole"]["Properties"]["AssumeRolePolicyDocument"])
    backfill = stack.value(RESOURCES["MemberDeliveryRole"]["Properties"]["AssumeRolePolicyDocument"])

    assert statement["Principal"] == {"AWS": ["111122223333", "444455556666", "123456789012"]}
    assert [s["Principal"] for s in backfill["Statement"]] == [{"AWS": ["111122223333", "444455556666"]},
                                                                {"AWS": "123456789012"}]
    assert all(s["Condition"]["StringEquals"]["aws:PrincipalTag/logship:component"] for s in backfill["Statement"])
    assert role["Statement"][0]["Condition"] == {
        "StringEquals": {"aws:SourceAccount": ["111122223333", "444455556666", "123456789012"]}}


def test_only_a_central_or_relay_stack_has_a_destination():
    assert [Stack(Role=role, **extra).exists("LogsDestination") for role, extra in (
        ("standalone", {}), ("standalone", {"Transport": "kinesis"}), ("member", {}),
        ("central", {"Transport": "kinesis"}), ("relay", {"CentralStreamArn": RELAYED_STREAM}))] == [
        False, False, False, True, True]


def relay(**parameters: str) -> Stack:
    """The central account's stack in another region than the central one's (the stream is in eu-central-1)."""
    return Stack("logship-relay", **{"Role": "relay", "OpenSearchEndpoint": "", "OrganizationId": "o-a1b2c3d4e5",
                                     "CentralStreamArn": RELAYED_STREAM, "CentralDeliveryRoleArn": DELIVERY_ROLE}
                 | parameters)


RELAYED_STREAM = "arn:aws:kinesis:eu-central-1:123456789012:stream/central-logs"


def test_a_relay_holds_a_destination_writing_to_the_central_stream_across_regions_and_no_shipper():
    stack = relay()
    destination = stack.value(RESOURCES["LogsDestination"]["Properties"])
    writes = stack.value(RESOURCES["DestinationToStreamRole"]["Properties"]["Policies"])[0]["PolicyDocument"]
    [statement] = _destination_policy(stack)["Statement"]

    assert destination["TargetArn"] == RELAYED_STREAM
    assert writes["Statement"] == [{"Effect": "Allow", "Action": "kinesis:PutRecord", "Resource": RELAYED_STREAM}]
    assert statement["Condition"] == {"StringEquals": {"aws:PrincipalOrgID": ["o-a1b2c3d4e5"]}}
    assert not {"ShipLogsFunction", "LogStream", "MemberDeliveryRole", "IndexTemplate"} & set(created(stack))
    assert stack.condition(TEMPLATE["Outputs"]["DestinationArn"]["Condition"])  # for this region's members
    assert not stack.condition(TEMPLATE["Outputs"]["MemberDeliveryRoleArn"]["Condition"])  # the central one's


@pytest.mark.parametrize("function", SUBSCRIPTION_FUNCTIONS)
def test_a_relays_own_groups_go_to_its_own_destination_named_for_its_region_and_backfill_as_a_members(function):
    stack = relay()
    config = SubscriberConfig.from_env(stack.environment(function) | {"AWS_REGION": REGION})
    without_backfill = SubscriberConfig.from_env(
        relay(CentralDeliveryRoleArn="").environment(function) | {"AWS_REGION": REGION})

    assert (config.member, config.filter_destination) == (True, stack.arn("LogsDestination"))
    assert named_region(config.filter_name) == REGION
    assert (config.central_stream_arn, config.central_delivery_role_arn) == (RELAYED_STREAM, DELIVERY_ROLE)
    assert (without_backfill.central_stream_arn, without_backfill.central_delivery_role_arn) == ("", "")


def test_the_roles_the_sam_transform_makes_for_a_members_functions_carry_the_tag_the_central_role_trusts(monkeypatch):
    """MemberDeliveryRole admits only principals tagged logship:component; the transform copies a function's tags
    onto the role it generates for it, which is the principal of the AssumeRole call."""
    from tests.template_stack import transformed

    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    resources = transformed({"Role": "member", "OpenSearchEndpoint": "", "CentralDestinationArn": DESTINATION,
                             "CentralStreamArn": STREAM, "CentralDeliveryRoleArn": DELIVERY_ROLE})["Resources"]
    trusted = central(OrganizationId="o-a1b2c3d4e5").value(
        RESOURCES["MemberDeliveryRole"]["Properties"]["AssumeRolePolicyDocument"])["Statement"][0]["Condition"]

    for function in SUBSCRIPTION_FUNCTIONS:
        role = resources[resources[function]["Properties"]["Role"]["Fn::GetAtt"][0]]
        tags = {tag["Key"]: tag["Value"] for tag in role["Properties"]["Tags"]}
        assert tags["logship:component"] in trusted["StringEquals"]["aws:PrincipalTag/logship:component"]


MEMBER_SETTINGS = {"Role": "member", "OpenSearchEndpoint": "", "CentralDestinationArn": DESTINATION}
RELAY_SETTINGS = {"Role": "relay", "OpenSearchEndpoint": "", "OrganizationId": "o-a1b2c3d4e5",
                  "CentralStreamArn": RELAYED_STREAM}


@pytest.mark.parametrize(("parameters", "says"), [
    (MEMBER_SETTINGS | {"OpenSearchEndpoint": "https://logs.example.com"}, "no cluster endpoint or secret"),
    (MEMBER_SETTINGS | {"CentralDestinationArn": ""}, "Role=member needs CentralDestinationArn"),
    (MEMBER_SETTINGS | {"CentralStreamArn": STREAM}, "CentralStreamArn and CentralDeliveryRoleArn together"),
    ({"Role": "central"}, "Role=central needs Transport=kinesis"),
    ({"Role": "central", "Transport": "kinesis"}, "give exactly one"),
    (RELAY_SETTINGS | {"CentralStreamArn": ""}, "Role=relay needs CentralStreamArn"),
    (RELAY_SETTINGS | {"OrganizationId": ""}, "give exactly one"),
    (RELAY_SETTINGS | {"ElasticCloudId": "logs:ZXU="}, "no cluster endpoint or secret"),
])
def test_a_role_given_what_it_cannot_use_or_without_what_it_needs_is_refused_before_anything_is_created(
        parameters, says):
    from tests.unit.test_template_operations import _refused

    assert [message for message in _refused(**parameters) if says in message]


@pytest.mark.parametrize("parameters", [
    MEMBER_SETTINGS, MEMBER_SETTINGS | {"CentralStreamArn": STREAM, "CentralDeliveryRoleArn": DELIVERY_ROLE},
    {"Role": "central", "Transport": "kinesis", "MemberAccountIds": "111122223333"},
    RELAY_SETTINGS, RELAY_SETTINGS | {"CentralDeliveryRoleArn": DELIVERY_ROLE},
])
def test_each_roles_sound_settings_pass_the_rules(parameters):
    from tests.unit.test_template_operations import _refused

    assert _refused(**parameters) == []
