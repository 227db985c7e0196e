"""Each shape of the stack deployed from template.yaml into moto's CloudFormation, then deleted.

Every resource is made from the template's own properties (tests/integration/stack_deploy.py says what moto is
taught and why), the custom resources run by the stack's handlers under the roles the template gives them, against
osmem-server as the cluster. A user's function log group exists before the stack: the install subscribes it (or
the account policy covers it); deleting the stack removes that filter and every resource, leaving the account as it
was but for what the template retains on purpose.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

import pytest

from tests.integration.stack_deploy import (
    DeployFailed,
    TemplateStack,
    aws_client,
    check_properties,
    holdings,
    teach_cloudformation,
)
from tests.template_stack import ACCOUNT, REGION, Stack

USERS_GROUP = "/aws/lambda/orders-api"  # a function's log group that exists before the stack
CENTRAL, MEMBER = ACCOUNT, "111122223333"


@pytest.fixture
def moto_url(cloud: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> str:
    teach_cloudformation(monkeypatch, cloud["moto"])
    return str(cloud["moto"])


def _secret(moto_url: str) -> dict[str, str]:
    arn = aws_client(moto_url, "secretsmanager").create_secret(
        Name="logship-opensearch", SecretString='{"username": "logship", "password": "correct-horse"}')["ARN"]
    return {"OpenSearchAuth": "basic", "OpenSearchSecretArn": arn,
            "OpenSearchSecretKmsKeyArn": "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"}


def _vpc(moto_url: str) -> dict[str, str]:
    ec2 = aws_client(moto_url, "ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24")["Subnet"]["SubnetId"] for i in (1, 2)]
    group = ec2.create_security_group(GroupName="logship", Description="logship", VpcId=vpc)["GroupId"]
    return {"VpcSubnetIds": ",".join(subnets), "VpcSecurityGroupIds": group}


# Each shape: its parameters, given the cluster's URL and the moto server (for what must exist first).
SHAPES: dict[str, Callable[[str, str], dict[str, str]]] = {
    "standalone: direct, per group": lambda cluster, _: {"OpenSearchEndpoint": cluster, "OpenSearchAuth": "none"},
    "standalone: SigV4 to a domain": lambda cluster, _: {
        "OpenSearchEndpoint": cluster, "OpenSearchDomainArn": "arn:aws:es:eu-west-1:123456789012:domain/logs"},
    "standalone: basic auth from a KMS-encrypted secret, in a VPC": lambda cluster, url: {
        "OpenSearchEndpoint": cluster, **_secret(url), **_vpc(url)},
    "standalone: an OpenSearch Serverless collection": lambda cluster, _: {
        "OpenSearchEndpoint": cluster, "OpenSearchCollectionArn": "arn:aws:aoss:eu-west-1:123456789012:collection/abc123"},
    "standalone: Transport=kinesis": lambda cluster, _: {
        "OpenSearchEndpoint": cluster, "OpenSearchAuth": "none", "Transport": "kinesis"},
    "standalone: SubscriptionMode=account-policy": lambda cluster, _: {
        "OpenSearchEndpoint": cluster, "OpenSearchAuth": "none", "SubscriptionMode": "account-policy"},
    "standalone: its own trail, /aws/lambda/ only": lambda cluster, _: {
        "OpenSearchEndpoint": cluster, "OpenSearchAuth": "none", "CreateCloudTrail": "true",
        "FunctionLogGroups": "false"},
    "central: an organization": lambda cluster, _: {
        "OpenSearchEndpoint": cluster, "OpenSearchAuth": "none", "Role": "central", "Transport": "kinesis",
        "OrganizationId": "o-a1b2c3d4e5"},
    "relay": lambda _, __: {"Role": "relay", "OrganizationId": "o-a1b2c3d4e5",
                            "CentralStreamArn": f"arn:aws:kinesis:{REGION}:{CENTRAL}:stream/logship-central-logs"},
}


def _promised_outputs(stack: TemplateStack) -> set[str]:
    """The outputs the template gives this shape (those whose condition holds)."""
    template = Stack(stack.name, template=stack.template, **stack.parameters)
    return {key for key, output in stack.template.get("Outputs", {}).items()
            if "Condition" not in output or template.condition(output["Condition"])}


def _filters(moto_url: str, account: str | None = None) -> list[str]:
    found = aws_client(moto_url, "logs", account).describe_subscription_filters(logGroupName=USERS_GROUP)
    return [f["destinationArn"] for f in found["subscriptionFilters"]]


def deploy_and_delete(moto_url: str, parameters: dict[str, str], account: str | None = None,
                      name: str = "logship") -> None:
    """Deploy, check what the shape promises, delete, check the account is as it was."""
    logs = aws_client(moto_url, "logs", account)
    with contextlib.suppress(logs.exceptions.ResourceAlreadyExistsException):  # a stack before this one's
        logs.create_log_group(logGroupName=USERS_GROUP)
    before = holdings(moto_url, account)
    stack = TemplateStack(moto_url, name, account, **parameters)
    assert set(stack.outputs) == _promised_outputs(stack)
    template = Stack(name, template=stack.template, **parameters)
    if template.condition("AccountPolicy"):  # named logship-<stack>, and @<region> in a member
        assert [h for h in holdings(moto_url, account) if h.startswith(f"account policy logship-{name}")]
    else:  # the sweep subscribed the group that was there first, to the stack's destination
        role = parameters.get("Role", "standalone")
        destination = {"member": parameters.get("CentralDestinationArn"), "relay": stack.outputs.get("DestinationArn")
                       }.get(role) or stack.outputs.get("LogStreamArn") or stack.outputs["ShipLogsFunctionArn"]
        assert _filters(moto_url, account) == [destination]
    retained = stack.retained()
    stack.delete()
    assert holdings(moto_url, account) - retained == before
    assert _filters(moto_url, account) == []


@pytest.mark.parametrize("shape", SHAPES)
def test_each_shape_deploys_from_the_template_and_deletes_cleanly(shape: str, moto_url: str, osmem_clone: Any) -> None:
    deploy_and_delete(moto_url, SHAPES[shape](osmem_clone.url, moto_url))


def test_a_member_deploys_against_its_central_stack(moto_url: str, osmem_clone: Any) -> None:
    before = holdings(moto_url)
    central = TemplateStack(moto_url, "central", None, OpenSearchEndpoint=osmem_clone.url, OpenSearchAuth="none",
                            Role="central", Transport="kinesis", MemberAccountIds=MEMBER)
    for parameters in ({}, {"SubscriptionMode": "account-policy"}):
        deploy_and_delete(moto_url, {"Role": "member", "CentralDestinationArn": central.outputs["DestinationArn"],
                                     "CentralStreamArn": central.outputs["LogStreamArn"],
                                     "CentralDeliveryRoleArn": central.outputs["MemberDeliveryRoleArn"],
                                     **parameters}, account=MEMBER)
    retained = central.retained()
    central.delete()
    assert holdings(moto_url) - retained == before


def test_a_property_cloudformation_would_refuse_fails_the_deploy_here_too() -> None:
    """The check every resource's properties pass (CloudFormation's registry schema for the type) can refuse."""
    with pytest.raises(DeployFailed, match=r"ShipLogsLogGroup \(AWS::Logs::LogGroup\): Properties validation "
                                           r"failed: /RetentionInDays: 13 is not one of"):
        check_properties("ShipLogsLogGroup", "AWS::Logs::LogGroup", {"RetentionInDays": 13})


def test_a_setting_cloudformation_refuses_creates_nothing(moto_url: str) -> None:
    before = holdings(moto_url)
    with pytest.raises(DeployFailed, match="Role=member needs CentralDestinationArn"):
        TemplateStack(moto_url, "logship", None, Role="member")
    assert holdings(moto_url) == before


def test_a_cluster_that_refuses_the_install_rolls_the_stack_back(moto_url: str) -> None:
    """Nothing listens at the endpoint: the installer answers FAILED with what to do; CloudFormation deletes what it
    had made (ROLLBACK_COMPLETE)."""
    before = holdings(moto_url)
    with pytest.raises(DeployFailed, match=r"IndexTemplate .*CREATE_FAILED.*127\.0\.0\.1:9"):
        TemplateStack(moto_url, "logship", None, OpenSearchEndpoint="http://127.0.0.1:9", OpenSearchAuth="none")
    assert holdings(moto_url) == before
