"""Every IAM statement of every stack shape, as SAM's transform makes it, checked against the Service Authorization
Reference (tests/iam_reference.py): each action exists, each resource is one of the resource types the action is
authorized against (and its required ones are granted), each condition key is one the action takes, and the
actions an action depends on are granted. What the reference says and the stack does otherwise carries its
reason here, with its source.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import pytest

from tests.iam_reference import Finding, check
from tests.template_stack import ACCOUNT, REGION, Stack, transformed

CENTRAL = "210987654321"
DOMAIN = {"OpenSearchEndpoint": "https://search-logs-abc.eu-west-1.es.amazonaws.com",
          "OpenSearchDomainArn": "arn:aws:es:eu-west-1:123456789012:domain/logs"}
MEMBER = {"Role": "member", "OpenSearchEndpoint": "",
          "CentralDestinationArn": f"arn:aws:logs:eu-west-1:{CENTRAL}:destination:logship-central"}
# Each shape of the stack: Role, Transport, SubscriptionMode, the cluster's authentication, VPC, CloudTrail.
SHAPES: dict[str, dict[str, str]] = {
    "standalone: direct, per group, SigV4 to a domain": DOMAIN,
    "standalone: basic auth from a KMS-encrypted secret, in a VPC": {
        "OpenSearchEndpoint": "https://vpc-logs-abc.eu-west-1.es.amazonaws.com", "OpenSearchAuth": "basic",
        "OpenSearchSecretArn": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:logship-abc",
        "OpenSearchSecretKmsKeyArn": "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
        "VpcSubnetIds": "subnet-0a1b2c3d,subnet-4e5f6a7b", "VpcSecurityGroupIds": "sg-0123456789abcdef0"},
    "standalone: an OpenSearch Serverless collection": {
        "OpenSearchEndpoint": "https://abc123.eu-west-1.aoss.amazonaws.com",
        "OpenSearchCollectionArn": "arn:aws:aoss:eu-west-1:123456789012:collection/abc123"},
    "standalone: Transport=kinesis": {**DOMAIN, "Transport": "kinesis"},
    "standalone: SubscriptionMode=account-policy": {**DOMAIN, "SubscriptionMode": "account-policy"},
    "standalone: its own trail, /aws/lambda/ only": {**DOMAIN, "CreateCloudTrail": "true", "FunctionLogGroups": "false"},
    "central: an organization": {**DOMAIN, "Role": "central", "Transport": "kinesis", "OrganizationId": "o-a1b2c3d4e5"},
    "central: listed accounts": {**DOMAIN, "Role": "central", "Transport": "kinesis",
                                 "MemberAccountIds": "111122223333,444455556666"},
    "member: with backfill": {**MEMBER, "CentralStreamArn": f"arn:aws:kinesis:eu-west-1:{CENTRAL}:stream/central-logs",
                              "CentralDeliveryRoleArn": f"arn:aws:iam::{CENTRAL}:role/central-MemberDeliveryRole-1A2B"},
    "member: account policy": {**MEMBER, "SubscriptionMode": "account-policy"},
    "relay": {"Role": "relay", "OpenSearchEndpoint": "", "OrganizationId": "o-a1b2c3d4e5",
              "CentralStreamArn": f"arn:aws:kinesis:us-east-1:{CENTRAL}:stream/central-logs"},
}

# Where the reference says one thing and the stack, on AWS's documented word, does another: (action, kind, what
# the finding says) -> why it holds, and the source.
EXPLAINED = {
    ("logs:PutSubscriptionFilter", "dependent action", "needs iam:PassRole too"):
        "iam:PassRole is needed only when the request names a role (roleArn: a Kinesis stream or Firehose as the "
        "destination; CloudWatch Logs API reference, PutSubscriptionFilter: roleArn). A Lambda function or another "
        "account's destination takes none; the Transport=kinesis shapes pass LogsToStreamRole and grant the "
        "PassRole (test_a_passed_role_is_granted_where_it_is_passed)",
    ("ec2:CreateNetworkInterface", "dependent action", "needs ec2:CreateTags too"):
        "ec2:CreateTags is needed only to tag the interface as it is created (TagSpecifications); Lambda creates a "
        "function's network interfaces untagged, and AWS's own AWSLambdaVPCAccessExecutionRole grants "
        "CreateNetworkInterface without CreateTags (Lambda developer guide, Giving Lambda functions access to a VPC)",
    ("logs:PutAccountPolicy", "resource", "the action takes no resource type, so only * grants it"):
        "in a destination's access policy the resource is the destination itself: CloudWatch Logs' cross-account "
        "account-level subscription example allows logs:PutAccountPolicy on the destination's ARN (CloudWatch Logs "
        "user guide, Cross-account cross-Region account-level subscriptions using Kinesis Data Streams, step 3)",
}


@pytest.fixture(autouse=True)
def _region(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)  # SAM's transform asks for one


def _statement_of(permission: dict[str, Any]) -> dict[str, Any]:
    """An AWS::Lambda::Permission as the statement Lambda writes into the function's resource policy."""
    conditions = {}
    if permission.get("SourceArn"):
        conditions["ArnLike"] = {"AWS:SourceArn": permission["SourceArn"]}
    if permission.get("SourceAccount"):
        conditions["StringEquals"] = {"AWS:SourceAccount": permission["SourceAccount"]}
    function = permission["FunctionName"]  # a name or an ARN: Lambda writes the function's ARN
    arn = function if function.startswith("arn:") else f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{function}"
    return {"Effect": "Allow", "Action": permission["Action"], "Principal": {"Service": permission["Principal"]},
            "Resource": arn, **({"Condition": conditions} if conditions else {})}


@cache
def findings(shape: str) -> list[Finding]:
    """Every finding for every policy of the shape: the roles' own statements, their trust, the resource policies."""
    parameters = SHAPES[shape]
    template = transformed(parameters)
    stack = Stack("logship", template=template, **parameters)
    found: list[Finding] = []
    for name, resource in template["Resources"].items():
        if not stack.exists(name):
            continue
        kind, properties = resource["Type"], stack.value(resource.get("Properties", {}))
        if kind == "AWS::IAM::Role":
            found += check(name, [s for p in properties.get("Policies", []) for s in p["PolicyDocument"]["Statement"]])
            found += check(f"{name} (trust)", properties["AssumeRolePolicyDocument"]["Statement"], resource_policy=True)
        elif kind == "AWS::S3::BucketPolicy":
            found += check(name, properties["PolicyDocument"]["Statement"], resource_policy=True)
        elif kind == "AWS::Logs::Destination" and properties.get("DestinationPolicy"):
            found += check(name, json.loads(properties["DestinationPolicy"])["Statement"], resource_policy=True)
        elif kind == "AWS::Lambda::Permission":
            found += check(name, [_statement_of(properties)], resource_policy=True)
    return found


def _explained(finding: Finding) -> str | None:
    return next((why for (action, kind, says), why in EXPLAINED.items()
                 if finding.action == action and finding.kind == kind and says in finding.detail), None)


@pytest.mark.parametrize("shape", SHAPES)
def test_every_statement_is_one_iam_grants_as_the_stack_means_it(shape):
    assert [str(f) for f in findings(shape) if _explained(f) is None] == []


def test_each_explanation_still_answers_a_finding():
    used = {key for shape in SHAPES for f in findings(shape)
            for key in EXPLAINED if f.action == key[0] and f.kind == key[1] and key[2] in f.detail}
    assert used == set(EXPLAINED)


def test_a_passed_role_is_granted_where_it_is_passed():
    for shape in ("standalone: Transport=kinesis", "central: an organization"):
        assert not [f for f in findings(shape) if f.action == "logs:PutSubscriptionFilter"
                    and f.kind == "dependent action" and f.principal.startswith(("Reconcile", "Subscribe"))]


def test_describe_log_groups_is_granted_on_star_as_the_reference_says_not_on_log_groups_as_aws_examples_do():
    """The reference lists logs:DescribeLogGroups with no resource type, so only "*" grants it; AWS's own examples
    grant it on arn:aws:logs:<region>:<account>:log-group:* (CloudWatch Logs permissions reference), which the
    stack did before. Granted on "*" it works in either reading, and lists nothing a narrower grant would not."""
    wrong = check("role", [{"Effect": "Allow", "Action": "logs:DescribeLogGroups",
                            "Resource": "arn:aws:logs:eu-west-1:123456789012:log-group:*"}])
    assert [f.kind for f in wrong] == ["resource"]
    assert check("role", [{"Effect": "Allow", "Action": "logs:DescribeLogGroups", "Resource": "*"}]) == []


@pytest.mark.parametrize(("statement", "kind"), [
    ({"Action": "logs:PutSubscriptionFilters", "Resource": "*"}, "unknown action"),
    ({"Action": "logs:PutSubscriptionFilter", "Resource": "arn:aws:logs:eu-west-1:123456789012:destination:d"},
     "required resource"),  # the group it is put on must be granted: here only the destination is
    ({"Action": "sqs:SendMessage", "Resource": "arn:aws:sns:eu-west-1:123456789012:topic"}, "resource"),
    ({"Action": "iam:PassRole", "Resource": "arn:aws:iam::123456789012:role/r",
      "Condition": {"StringEquals": {"logs:PassedToService": "logs.amazonaws.com"}}}, "condition key"),
    ({"Action": "cloudformation:DescribeStacks", "Resource": "*"}, "dependent action"),
])
def test_the_check_finds_what_iam_would_not_grant_as_written(statement, kind):
    assert kind in [f.kind for f in check("role", [{"Effect": "Allow", **statement}])]
