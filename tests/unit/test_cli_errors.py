"""What a person reads when AWS or the cluster says no: what happened and what to do next."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, NoCredentialsError, NoRegionError

from logship.core.config import ConfigError
from logship_cli.errors import FAILED, USAGE, explain


def client_error(code: str, message: str, operation: str = "DescribeStacks") -> ClientError:
    """The error botocore raises for an AWS error answer."""
    return ClientError({"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": 400}},
                       operation)


@pytest.mark.parametrize(("exc", "says"), [
    (NoCredentialsError(), "no AWS credentials found: run `aws configure` (or `aws sso login`)"),
    (NoRegionError(), "no AWS region: give --region"),
    (EndpointConnectionError(endpoint_url="https://logs.eu-west-1.amazonaws.com"),
     "could not reach AWS (Could not connect to the endpoint URL"),
    (client_error("ExpiredTokenException", "The security token included in the request is expired"),
     "AWS refused your credentials (ExpiredTokenException"),
    (client_error("AccessDenied", "User: arn:aws:iam::1:user/me is not authorized", "ReceiveMessage"),
     "AWS denied ReceiveMessage (AccessDenied): User: arn:aws:iam::1:user/me is not authorized. Your credentials"),
    (client_error("AWS.SimpleQueueService.NonExistentQueue", "The specified queue does not exist."),
     "the queue does not exist (The specified queue does not exist.): check --queue-url"),
    (client_error("ThrottlingException", "Rate exceeded"), "AWS answered ThrottlingException to DescribeStacks"),
])
def test_aws_failures_are_explained_as_failures(exc, says):
    error = explain(exc)

    assert error.exit_code == FAILED
    assert says in error.message


def test_a_bad_setting_is_a_usage_error_naming_the_option():
    error = explain(ConfigError("INDEX_PREFIX='A B' must be lowercase"))

    assert error.exit_code == USAGE
    assert error.message == "bad setting: --prefix (INDEX_PREFIX)='A B' must be lowercase"


def test_anything_else_says_it_is_unexpected_and_how_to_see_more():
    error = explain(ZeroDivisionError("division by zero"))

    assert error.exit_code == FAILED
    assert "unexpected ZeroDivisionError: division by zero (run `logship --debug ...` for the traceback" in error.message
