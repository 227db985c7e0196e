"""The functions' integration tests run under exactly their roles' policies (tests/integration/own_policies.py):
a call the role lacks fails as AWS would fail it, and the harness's own calls are not the function's."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from tests.integration import own_policies
from tests.integration.conftest import SHIPPER_ARN
from tests.integration.test_subscribe_log_group import created, run_subscriber


def without(action: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every role the stack makes, as if the template did not grant ``action``."""
    real = own_policies.role_policies

    def lacking(role: str, parameters: tuple[tuple[str, str], ...]) -> tuple[str, tuple[dict[str, Any], ...]]:
        trust, statements = real(role, parameters)
        kept = []
        for statement in statements:
            written = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            actions = [a for a in written if a != action]
            if actions:
                kept.append({**statement, "Action": actions})
        return trust, tuple(kept)

    monkeypatch.setattr(own_policies, "role_policies", lacking)


def test_a_call_the_role_does_not_grant_fails_as_aws_would_fail_it(aws, monkeypatch, capsys):
    aws.groups("/aws/lambda/orders")
    without("logs:PutSubscriptionFilter", monkeypatch)

    from logship.subscribe.created_groups import SubscribeError

    with pytest.raises(SubscribeError) as raised:  # Lambda retries it, then keeps the event
        run_subscriber(monkeypatch, capsys, created("/aws/lambda/orders"))

    assert "AccessDenied" in str(raised.value)
    assert "is not authorized to perform: logs:PutSubscriptionFilter" in str(raised.value)
    assert aws.filters("/aws/lambda/orders") == {}


def test_with_the_templates_grants_the_same_call_is_made(aws, monkeypatch, capsys):
    aws.groups("/aws/lambda/orders")

    lines = run_subscriber(monkeypatch, capsys, created("/aws/lambda/orders"))

    assert next(line["outcome"] for line in lines if line.get("log_group") == "/aws/lambda/orders") == "subscribed"
    assert aws.filters("/aws/lambda/orders") == {"logship": SHIPPER_ARN}


def test_inside_a_function_only_its_roles_actions_are_allowed_and_the_harness_is_not_checked(aws, monkeypatch):
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "logship-subscribe-log-group")
    with own_policies.running_as("subscribe_log_group"):
        with pytest.raises(ClientError, match="not authorized to perform: logs:CreateLogGroup"):
            boto3.client("logs").create_log_group(logGroupName="/aws/lambda/not-the-functions-to-make")
        boto3.client("logs").describe_log_groups()  # granted
    aws.groups("/aws/lambda/the-harness-may")  # its own key, after the function: not checked
