"""Each function runs under exactly the policies SAM's transform gives its role, in moto's IAM.

moto checks the identity policies of an assumed role when a request is signed with its credentials
(moto/core/authorization.py, moto/iam/access_control.py), with two limits its source names ("TODO add support
for the Resource and Condition parts of IAM policies"): for most services it puts no resource in the request
("*", which a statement's ARN never matches), and it knows none of the request's condition keys (a statement with
a Condition is then taken as an explicit deny). Here a statement's Resource matches when moto names none, and its
conditions are taken as met: what moto checks is the action, under the role's exact statements. Resources and
condition keys are tests/unit/test_iam_reference.py's to check. The test harness's own requests (its setup and
assertions, signed with the key ``testing``, or moto's own ``FOOBARKEY``) are not checked, as they are no function's.

A test invokes a handler as before (``load_handler(...).handler(event, context)``): with a moto account active,
the call runs with the credentials of a role holding that function's policies for the stack's settings (read
back from the environment the test set), created and assumed in moto for it.
"""

from __future__ import annotations

import contextlib
import functools
import os
from collections.abc import Iterator, Mapping
from functools import cache
from typing import Any

import boto3
import pytest
from moto.core.authorization import ActionAuthenticatorMixin
from moto.iam.access_control import IAMPolicyStatement

from tests.template_stack import RESOURCES, Stack, transformed

FUNCTIONS = {"ship_logs": "ShipLogsFunction", "install_index_template": "InstallIndexTemplateFunction",
             "subscribe_log_group": "SubscribeLogGroupFunction",
             "reconcile_subscriptions": "ReconcileSubscriptionsFunction"}
HARNESS_KEY = "testing"  # the tests' own credentials (conftest's aws fixture), in moto's account
ACCOUNT = "123456789012"
# ... and the ones moto puts in the environment while it mocks (moto/core/models.py: FAKE_KEYS)
HARNESS_KEYS = frozenset({HARNESS_KEY, "FOOBARKEY"})


class _State:
    active = False  # a moto account of the aws fixture is up: handlers run as their roles
    checking = False  # a handler is running: its requests are checked


# The operations whose IAM action has another name (Service Authorization Reference): moto checks the operation's.
ACTION_OF_OPERATION = {"lambda:Invoke": "lambda:InvokeFunction",  # Lambda: Invoke is authorized by InvokeFunction
                       "sqs:SendMessageBatch": "sqs:SendMessage",  # SQS: a batch is authorized by its one-message
                       "sqs:DeleteMessageBatch": "sqs:DeleteMessage",  # action ("Amazon SQS API permissions")
                       "sqs:ChangeMessageVisibilityBatch": "sqs:ChangeMessageVisibility"}


def teach_policy_checks(monkeypatch: pytest.MonkeyPatch) -> None:
    """moto, checking a function's requests against its role's statements (see above)."""
    from urllib.parse import urlparse

    from moto.iam.access_control import IAMRequest

    element = IAMPolicyStatement._check_element_matches

    def authorize(self: Any, iam_request_cls: type, resource: str = "*") -> None:
        """moto's own check (ActionAuthenticatorMixin._authenticate_and_authorize_action) for a function's request,
        without its recomputation of the signature, which moto gets wrong for requests with a query string."""
        signed_by = self.headers.get("Authorization", "").partition("Credential=")[2].split("/")[0]
        if (not _State.checking or signed_by in HARNESS_KEYS or iam_request_cls is not IAMRequest
                or "Authorization" not in self.headers):  # unsigned: a custom resource's answer at its URL
            return
        query = urlparse(self.uri).query
        request = iam_request_cls(account_id=self.current_account, method=self.method,
                                  path=self.raw_path + (f"?{query}" if query else ""), data=self.data,
                                  body=self.raw_body, headers=self.headers, action=self._get_action())
        request._action = ACTION_OF_OPERATION.get(request._action, request._action)
        request.check_action_permitted(resource)

    def matches(self: Any, statement_element: Any, value: str) -> bool:
        return (statement_element == "Resource" and value == "*") or element(self, statement_element, value)

    def principal_admitted(self: Any, principal: str) -> bool:
        """A trust policy's AWS principal: an account (its id, or its root's ARN) admits any principal of that
        account (IAM user guide, "AWS account principals"); moto compares whole ARNs only."""
        expected = (self._statement.get("Principal") or {}).get("AWS", [])
        account = principal.split(":")[4] if principal.count(":") >= 5 else ""
        return any(value in ("*", principal, account, f"arn:aws:iam::{account}:root")
                   for value in (expected if isinstance(expected, list) else [expected]))

    monkeypatch.setattr(ActionAuthenticatorMixin, "_authenticate_and_authorize_action", authorize)
    monkeypatch.setattr(IAMPolicyStatement, "_check_principal", principal_admitted)
    monkeypatch.setattr(IAMPolicyStatement, "_check_element_matches", matches)
    monkeypatch.setattr(IAMPolicyStatement, "_check_conditions", lambda self, values: True)


def _parameter_in(value: Any) -> str | None:
    """The parameter a variable takes when set: ``!Ref P``, or ``P`` in a branch of ``!If`` (the others ``""`` or
    another resource's)."""
    if isinstance(value, dict) and set(value) == {"Ref"} and not value["Ref"].startswith("AWS::"):
        return str(value["Ref"])
    if isinstance(value, dict) and "Fn::If" in value:
        return next(filter(None, map(_parameter_in, value["Fn::If"][1:])), None)
    return None


def stack_parameters(function: str, env: Mapping[str, str]) -> dict[str, str]:
    """The stack's name and the template's parameters behind the function's environment as the test set it.

    A subscription function sending to a destination and to no shipper of its own is a member's (``IsMember``:
    Role=member, or a relay, whose subscription functions hold the same statements)."""
    found = {parameter: env[name]
             for name, value in RESOURCES[function]["Properties"]["Environment"]["Variables"].items()
             if (parameter := _parameter_in(value)) and env.get(name)}
    if env.get("CENTRAL_DESTINATION_ARN") and not env.get("DESTINATION_ARN"):
        found |= {"Role": "member", "OpenSearchEndpoint": ""}
    suffix = RESOURCES[function]["Properties"]["FunctionName"]["Fn::Sub"].removeprefix("${AWS::StackName}")
    return found | {"StackName": env.get("AWS_LAMBDA_FUNCTION_NAME", f"logship{suffix}").removesuffix(suffix)}


@cache
def role_policies(role: str, parameters: tuple[tuple[str, str], ...]) -> tuple[str, tuple[dict[str, Any], ...]]:
    """A role of the stack (``ShipLogsFunctionRole``, ``MemberDeliveryRole``...) as SAM's transform makes it for these
    settings (``StackName`` among them): its trust policy (JSON), and its statements."""
    import json

    settings_ = dict(parameters)
    name = settings_.pop("StackName", "logship")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
        template = transformed(settings_)
    stack = Stack(name, template=template, **settings_)
    properties = stack.value(template["Resources"][role]["Properties"])
    return (json.dumps(properties["AssumeRolePolicyDocument"]),
            tuple(s for policy in properties.get("Policies", []) for s in policy["PolicyDocument"]["Statement"]))


def create_role(name: str, policies: tuple[str, tuple[dict[str, Any], ...]],
                keys: Mapping[str, str] | None = None) -> str:
    """A moto role with ``policies`` (:func:`role_policies`: the trust, and exactly these statements), in the
    account of ``keys`` (the harness's by default); its ARN."""
    import json

    trust, statements = policies
    keys = keys or {"AWS_ACCESS_KEY_ID": HARNESS_KEY, "AWS_SECRET_ACCESS_KEY": HARNESS_KEY}
    iam = boto3.client("iam", region_name="eu-west-1", aws_access_key_id=keys["AWS_ACCESS_KEY_ID"],
                       aws_secret_access_key=keys["AWS_SECRET_ACCESS_KEY"], aws_session_token=keys.get(
                           "AWS_SESSION_TOKEN"))
    arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust)["Role"]["Arn"]
    if statements:
        iam.put_role_policy(RoleName=name, PolicyName="stack", PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": list(statements)}))
    return str(arn)


def _assumed(function: str, policies: tuple[str, tuple[dict[str, Any], ...]]) -> dict[str, str]:
    """Credentials of a new role holding exactly ``statements``, in the account the function runs in: the harness's,
    or another account's whose keys the test put in the environment (a member's)."""
    import uuid

    elsewhere = os.environ.get("ACCOUNT_ID", ACCOUNT) != ACCOUNT
    keys = {key: os.environ[key] for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")
            if key in os.environ} if elsewhere else None
    arn = create_role(f"{function}Role-{uuid.uuid4().hex[:8]}", policies, keys)
    signer = keys or {"AWS_ACCESS_KEY_ID": HARNESS_KEY, "AWS_SECRET_ACCESS_KEY": HARNESS_KEY}
    found = boto3.client("sts", region_name="eu-west-1", aws_access_key_id=signer["AWS_ACCESS_KEY_ID"],
                         aws_secret_access_key=signer["AWS_SECRET_ACCESS_KEY"],
                         aws_session_token=signer.get("AWS_SESSION_TOKEN")).assume_role(
        RoleArn=arn, RoleSessionName=function)["Credentials"]
    return {"AWS_ACCESS_KEY_ID": found["AccessKeyId"], "AWS_SECRET_ACCESS_KEY": found["SecretAccessKey"],
            "AWS_SESSION_TOKEN": found["SessionToken"]}


@contextlib.contextmanager
def running_as(function_dir: str) -> Iterator[None]:
    """The function's role (made for the test's settings) for the duration."""
    function = FUNCTIONS[function_dir]
    parameters = tuple(sorted(stack_parameters(function, os.environ).items()))
    with with_credentials(_assumed(function, role_policies(f"{function}Role", parameters))):
        yield


@contextlib.contextmanager
def with_credentials(credentials: Mapping[str, str]) -> Iterator[None]:
    """A role's credentials for the duration, its requests checked: in the environment (new sessions) and in the
    default session (the one the functions' clients and the tests' fault hooks share)."""
    saved = {key: os.environ.get(key) for key in credentials}
    default = boto3.DEFAULT_SESSION._session if boto3.DEFAULT_SESSION else None
    saved_credentials = default.get_credentials() if default else None
    os.environ.update(credentials)
    if default:
        default.set_credentials(*credentials.values())
    _State.checking = True
    try:
        yield
    finally:
        _State.checking = False
        if default:
            default._credentials = saved_credentials
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def as_its_role(function_dir: str, handler: Any) -> Any:
    """``handler``, running as the function's role whenever a moto account is active."""
    if function_dir not in FUNCTIONS:
        return handler

    @functools.wraps(handler)
    def run(event: Any, context: Any) -> Any:
        if not _State.active:
            return handler(event, context)
        with running_as(function_dir):
            return handler(event, context)

    return run
