"""An organization's logs into one cluster: member accounts' filters send to the central account's CloudWatch Logs
destination, which writes to the central stream; the central ship-logs indexes them with the member's account and
region. On moto: accounts are reached by assuming a role in them (moto acts as the role's account), the
destination's delivery is tests/integration/moto_gaps.py's, Lambda's mapping is tests/integration/kinesis_mapping.py.
"""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from tests.conftest import search_all
from tests.integration.conftest import ACCOUNT as CENTRAL
from tests.integration.conftest import STREAM
from tests.integration.own_policies import create_role, role_policies
from tests.integration.test_backfill import now_ms
from tests.integration.test_kinesis_transport import mapping, shipper
from tests.integration.test_reconcile_subscriptions import RECONCILER, SCHEDULED, reconcile, summaries
from tests.integration.test_subscribe_log_group import subscriber_env

MEMBER = "111122223333"
MEMBER_REGION = "us-east-2"  # the stream is in eu-west-1: the destination (a relay's) points across regions
DESTINATION = f"arn:aws:logs:{MEMBER_REGION}:{CENTRAL}:destination:logship"
DELIVERY_ROLE = f"arn:aws:iam::{CENTRAL}:role/logship-MemberDeliveryRole"
GROUP = "/aws/lambda/orders-api"
LOG_STREAM = "2025/11/22/[$LATEST]7d1e0c4b9a8f4f6e8d2c1b0a9f8e7d6c"


def credentials(account: str) -> dict[str, str]:
    """Keys acting in ``account``, as an organization's admin role hands them out."""
    found = boto3.client("sts").assume_role(RoleArn=f"arn:aws:iam::{account}:role/OrganizationAccountAccessRole",
                                            RoleSessionName="test")["Credentials"]
    return {"AWS_ACCESS_KEY_ID": found["AccessKeyId"], "AWS_SECRET_ACCESS_KEY": found["SecretAccessKey"],
            "AWS_SESSION_TOKEN": found["SessionToken"]}


def client(service: str, account: str, region: str = MEMBER_REGION) -> Any:
    keys = credentials(account)
    return boto3.client(service, region_name=region, aws_access_key_id=keys["AWS_ACCESS_KEY_ID"],
                        aws_secret_access_key=keys["AWS_SECRET_ACCESS_KEY"], aws_session_token=keys["AWS_SESSION_TOKEN"])


def admit(principal: Any, condition: dict[str, Any] | None = None) -> None:
    """The central destination's access policy, as the central stack writes it."""
    statement = {"Effect": "Allow", "Principal": principal, "Action": "logs:PutSubscriptionFilter",
                 "Resource": DESTINATION}
    if condition:
        statement["Condition"] = condition
    boto3.client("logs", region_name=MEMBER_REGION).put_destination_policy(
        destinationName="logship", accessPolicy=json.dumps({"Version": "2012-10-17", "Statement": [statement]}))


@pytest.fixture
def central(stream: Any) -> Any:
    """The central account: its stream (eu-west-1) and, in the member's region, the destination writing to it."""
    stream_arn = stream.client.describe_stream(StreamName=STREAM)["StreamDescription"]["StreamARN"]
    # the role members' backfill writes to the stream as: the central stack's own (policies checked in moto)
    create_role("logship-MemberDeliveryRole", role_policies("MemberDeliveryRole", tuple(sorted({
        "Role": "central", "Transport": "kinesis", "OpenSearchEndpoint": "https://logs.example.com",
        "MemberAccountIds": f"{MEMBER},{CENTRAL}"}.items()))))
    role = boto3.client("iam").create_role(RoleName="logship-DestinationRole", AssumeRolePolicyDocument="{}")
    boto3.client("logs", region_name=MEMBER_REGION).put_destination(
        destinationName="logship", targetArn=stream_arn, roleArn=role["Role"]["Arn"])
    stream.arn = stream_arn
    return stream


def member_sweep(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], account: str, stream_arn: str,
                 **overrides: str) -> dict[str, Any]:
    """reconcile-subscriptions of a member stack in ``account``: no shipper, filters to the central destination."""
    env = subscriber_env(AWS_LAMBDA_FUNCTION_NAME=RECONCILER, AWS_REGION=MEMBER_REGION, DESTINATION_ARN="",
                         SHIPPER_LOG_GROUP="", STACK_LOG_GROUPS="/aws/lambda/logship-reconcile-subscriptions",
                         FILTER_NAME=f"logship@{MEMBER_REGION}", CENTRAL_DESTINATION_ARN=DESTINATION,
                         ACCOUNT_ID=account, CENTRAL_STREAM_ARN=stream_arn, CENTRAL_DELIVERY_ROLE_ARN=DELIVERY_ROLE,
                         **overrides)
    with monkeypatch.context() as scope:
        for key, value in (env | credentials(account)).items():
            scope.setenv(key, value)
        scope.setattr("time.sleep", lambda _s: None)
        boto3.setup_default_session()  # the functions' clients come from it: now with the member's keys
        try:
            return summaries(reconcile(capsys, SCHEDULED))[-1]
        finally:
            scope.undo()
            boto3.setup_default_session(region_name="eu-west-1")


def log(logs: Any, message: str, timestamp: int | None = None) -> None:
    logs.put_log_events(logGroupName=GROUP, logStreamName=LOG_STREAM, logEvents=[
        {"timestamp": timestamp or now_ms(), "message": f"[INFO]\t2025-11-22T10:00:00.151Z\t"
                                                       f"3f1c2a9e-6b1d-4f7a-9a7e-2d5b8c1e0f42\t{message}\n"}])


@pytest.mark.parametrize("account", [MEMBER, CENTRAL], ids=["a member", "a relay's own groups"])
def test_a_members_lines_reach_the_central_cluster_with_its_account_and_region_backfill_included(
        account, central, opensearch, osmem_clone, monkeypatch, capsys):
    """The member's sweep subscribes its group to the destination of its region and backfills what it logged
    before (written to the central stream as the central account's role); both lines are indexed once, as the
    member's. A relay's sweep does the same for the central account's own groups of that region."""
    admit({"AWS": [account]})
    logs = client("logs", account)
    logs.create_log_group(logGroupName=GROUP)
    logs.create_log_stream(logGroupName=GROUP, logStreamName=LOG_STREAM)
    log(logs, "Received order 1041 (before the subscription)", now_ms() - 60_000)

    summary = member_sweep(monkeypatch, capsys, account, central.arn)
    log(logs, "Received order 1042")
    ship = shipper(monkeypatch, osmem_clone.url, central.queue_url)
    mapping(central, ship).run()
    mapping(central, ship).run()  # the stream read again from its start: nothing twice

    assert (summary["subscribed"], summary["failed"]) == (1, 0), summary
    [found] = logs.describe_subscription_filters(logGroupName=GROUP)["subscriptionFilters"]
    assert (found["filterName"], found["destinationArn"], found.get("roleArn")) == (
        f"logship@{MEMBER_REGION}", DESTINATION, None)
    documents = search_all(opensearch)
    assert [d["message"] for d in documents] == ["Received order 1041 (before the subscription)",
                                                 "Received order 1042"]
    assert {(d["cloud"]["account"]["id"], d["cloud"]["region"]) for d in documents} == {(account, MEMBER_REGION)}
    assert central.dead_letters() == []


def test_an_organizations_accounts_are_admitted_by_its_id_and_an_outsider_is_refused_saying_why(
        central, monkeypatch, capsys):
    """A destination policy admitting the organization (``aws:PrincipalOrgID``) lets its accounts subscribe; an
    account outside it gets a failed subscription whose reason names the refusal, and no filter."""
    organizations = boto3.client("organizations")
    org = organizations.create_organization(FeatureSet="ALL")["Organization"]["Id"]
    created = organizations.create_account(AccountName="orders", Email="orders@example.com")
    inside = organizations.describe_create_account_status(
        CreateAccountRequestId=created["CreateAccountStatus"]["Id"])["CreateAccountStatus"]["AccountId"]
    admit("*", {"StringEquals": {"aws:PrincipalOrgID": [org]}})
    outsider = "444455556666"
    for account in (inside, outsider):
        client("logs", account).create_log_group(logGroupName=GROUP)

    admitted = member_sweep(monkeypatch, capsys, inside, central.arn, BACKFILL_HOURS="0")
    refused = member_sweep(monkeypatch, capsys, outsider, central.arn, BACKFILL_HOURS="0")

    assert (admitted["subscribed"], admitted["failed"]) == (1, 0)
    assert (refused["subscribed"], refused["failed"]) == (0, 1)
    assert "AccessDeniedException" in " ".join(refused["problems"])
    assert client("logs", outsider).describe_subscription_filters(logGroupName=GROUP)["subscriptionFilters"] == []
