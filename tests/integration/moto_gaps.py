"""What moto (5.2.5) lacks of the AWS behaviour logship depends on, added as the API references describe it.

Applied to every integration test (conftest), in-process and in the moto server alike, so tests meet AWS's
answers rather than moto's silence:

- **Log classes** (CloudWatch Logs, "Log classes"): CreateLogGroup's ``logGroupClass`` is kept, DescribeLogGroups
  returns it; an Infrequent Access group ("Subscription filters: No") refuses subscription filters, and a group
  of a class other than Standard refuses FilterLogEvents, with ``ValidationException: This operation is only
  supported on the Standard log class.``. A Delivery group takes a subscription filter: AWS's own setup of Lambda
  logs to S3 or Firehose puts one on it (Lambda, "Sending Lambda function logs to Amazon S3"); whether it takes
  one to a Lambda function is undocumented, so the tests refuse it too (tests/integration/aws_faults.py). Its
  retention is fixed: PutRetentionPolicy answers ``This operation is not supported for Delivery log class``.
- **Lambda's logging configuration** (Lambda API, ``LoggingConfig``): CreateFunction and UpdateFunctionConfiguration
  keep it, and every function description (GetFunction, GetFunctionConfiguration, ListFunctions) returns it,
  ``LogFormat`` ``Text`` and ``LogGroup`` ``/aws/lambda/<name>`` unless given; ListFunctions pages by
  ``MaxItems`` (at most 50) and ``Marker``/``NextMarker`` (moto lists every function in one answer).
- **Account policies** (CloudWatch Logs, PutAccountPolicy / DescribeAccountPolicies / DeleteAccountPolicy, which
  moto does not implement): kept per account and region; one subscription filter policy per account and region
  (a second name is refused with ``LimitExceededException``); and a group such a policy delivers (not named in
  its ``LogGroupName NOT IN [...]``) has room for one subscription filter of its own, not two: the policy
  counts toward the limit.
- **A subscription filter's options** (CloudWatch Logs API reference, PutSubscriptionFilter and
  SubscriptionFilter: ``applyOnTransformedLogs``, "the subscription filter will be applied on the transformed
  version of the log events", and ``emitSystemFields``, "Returns the emitSystemFields value if it was specified
  when the subscription filter was created"; moto accepts both and drops them): kept as given, returned by
  DescribeSubscriptionFilters when set, and replaced with the rest of the filter by the next put of its name.
- **Cross-account destinations** (CloudWatch Logs, "Cross-account cross-Region subscriptions"; moto keeps
  PutDestination but takes a destination's ARN for a log group's): a filter may send to another account's
  destination of the group's own region when its access policy admits the sender (an account as principal, or
  ``*`` with ``aws:PrincipalOrgID`` of the sender's organization), else ``AccessDeniedException``; what the
  filter matches is written to the destination's stream as CloudWatch Logs writes it (gzip of the payload JSON,
  ``owner`` the sender's account).
"""

from __future__ import annotations

import base64
import gzip
import json
import time
from typing import Any

import pytest
from moto.awslambda import models as lambda_models
from moto.awslambda import responses as lambda_responses
from moto.logs import models as logs_models
from moto.logs import responses as logs_responses
from moto.logs.exceptions import (
    InvalidParameterException,
    LimitExceededException,
    LogsClientError,
    ResourceNotFoundException,
    ValidationException,
)
from moto.logs.models import logs_backends

STANDARD_ONLY = "This operation is only supported on the Standard log class."
NO_SUBSCRIPTIONS = ("INFREQUENT_ACCESS",)  # "Log classes": "Subscription filters: No"


def _log_group_class(group: Any) -> str:
    return getattr(group, "log_group_class", "STANDARD")


def teach_log_classes(monkeypatch: pytest.MonkeyPatch) -> None:
    group_init = logs_models.LogGroup.__init__
    describe = logs_models.LogGroup.to_describe_dict
    put_filter = logs_models.LogGroup.put_subscription_filter
    filter_events = logs_models.LogGroup.filter_log_events
    create = logs_responses.LogsResponse.create_log_group
    put_retention = logs_models.LogsBackend.put_retention_policy

    def init(self: Any, account_id: str, region: str, name: str, **kwargs: Any) -> None:
        group_init(self, account_id, region, name, **kwargs)
        self.log_group_class = kwargs.get("logGroupClass") or "STANDARD"

    def to_describe_dict(self: Any) -> dict[str, Any]:
        return describe(self) | {"logGroupClass": _log_group_class(self)}

    def refused_for(classes: Any, method: Any) -> Any:
        def checked(self: Any, *args: Any, **kwargs: Any) -> Any:
            if classes(_log_group_class(self)):
                raise ValidationException(STANDARD_ONLY)
            return method(self, *args, **kwargs)
        return checked

    def put_retention_policy(self: Any, log_group_name: str, retention_in_days: int) -> None:
        group = self.groups.get(log_group_name)
        if group is not None and _log_group_class(group) == "DELIVERY":
            raise InvalidParameterException("This operation is not supported for Delivery log class")
        put_retention(self, log_group_name, retention_in_days)

    def create_log_group(self: Any) -> str:
        log_class = self._get_param("logGroupClass")
        if not log_class:
            return create(self)
        self.logs_backend.create_log_group(self._get_param("logGroupName"), self._get_param("tags"),
                                           kmsKeyId=self._get_param("kmsKeyId"), logGroupClass=log_class)
        return ""

    monkeypatch.setattr(logs_models.LogGroup, "__init__", init)
    monkeypatch.setattr(logs_models.LogGroup, "to_describe_dict", to_describe_dict)
    monkeypatch.setattr(logs_models.LogGroup, "put_subscription_filter",
                        refused_for(NO_SUBSCRIPTIONS.__contains__, put_filter))
    monkeypatch.setattr(logs_models.LogGroup, "filter_log_events",
                        refused_for(lambda log_class: log_class != "STANDARD", filter_events))
    monkeypatch.setattr(logs_models.LogsBackend, "put_retention_policy", put_retention_policy)
    monkeypatch.setattr(logs_responses.LogsResponse, "create_log_group", create_log_group)


def _logging_config(function: Any, given: dict[str, Any] | None) -> dict[str, Any]:
    return {"LogFormat": "Text", "LogGroup": f"/aws/lambda/{function.function_name}", **(given or {})}


def teach_logging_config(monkeypatch: pytest.MonkeyPatch) -> None:
    function_init = lambda_models.LambdaFunction.__init__
    configuration = lambda_models.LambdaFunction.get_configuration
    update = lambda_models.LambdaFunction.update_configuration

    def init(self: Any, account_id: str, spec: dict[str, Any], *args: Any, **kwargs: Any) -> None:
        function_init(self, account_id, spec, *args, **kwargs)
        self.logging_config = _logging_config(self, spec.get("LoggingConfig"))

    def get_configuration(self: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
        return configuration(self, *args, **kwargs) | {"LoggingConfig": self.logging_config}

    def update_configuration(self: Any, config_updates: dict[str, Any]) -> dict[str, Any]:
        if "LoggingConfig" in config_updates:
            self.logging_config = _logging_config(self, config_updates["LoggingConfig"])
        return update(self, config_updates)

    monkeypatch.setattr(lambda_models.LambdaFunction, "__init__", init)
    monkeypatch.setattr(lambda_models.LambdaFunction, "get_configuration", get_configuration)
    monkeypatch.setattr(lambda_models.LambdaFunction, "update_configuration", update_configuration)
    monkeypatch.setattr(lambda_responses.LambdaResponse, "list_functions", _list_functions)


def _list_functions(self: Any) -> str:
    """One page of functions, in name order, as Lambda's ListFunctions pages them."""
    query = self.querystring
    size = min(int(query.get("MaxItems", ["50"])[0]), 50)
    start = int(base64.b64decode(query["Marker"][0])) if "Marker" in query else 0
    functions = sorted(self.backend.list_functions(query.get("FunctionVersion", [None])[0]),
                       key=lambda fn: fn.function_name)
    page: dict[str, Any] = {"Functions": [fn.get_configuration() for fn in functions[start:start + size]]}
    if start + size < len(functions):
        page["NextMarker"] = base64.b64encode(str(start + size).encode()).decode()
    return json.dumps(page)


def _policies(backend: Any) -> dict[tuple[str, str], dict[str, Any]]:
    if not hasattr(backend, "account_policies_standin"):
        backend.account_policies_standin = {}
    return backend.account_policies_standin


def _delivered_by_policy(group: Any, backend: Any) -> bool:
    """Whether an account subscription filter policy delivers ``group`` (its criteria do not name it)."""
    for (kind, _), policy in _policies(backend).items():
        if kind != "SUBSCRIPTION_FILTER_POLICY":
            continue
        _, _, names = (policy.get("selectionCriteria") or "").partition("NOT IN")
        if group.name not in json.loads(names.strip() or "[]"):
            return True
    return False


def teach_account_policies(monkeypatch: pytest.MonkeyPatch) -> None:
    put_filter = logs_models.LogsBackend.put_subscription_filter

    def put_account_policy(self: Any) -> str:
        kind, name = self._get_param("policyType"), self._get_param("policyName")
        policies = _policies(self.logs_backend)
        if kind == "SUBSCRIPTION_FILTER_POLICY" and any(k == kind and n != name for k, n in policies):
            raise LimitExceededException()
        policy = {"policyName": name, "policyDocument": self._get_param("policyDocument"), "policyType": kind,
                  "scope": self._get_param("scope") or "ALL", "lastUpdatedTime": int(time.time() * 1000),
                  "accountId": self.current_account}
        if self._get_param("selectionCriteria"):
            policy["selectionCriteria"] = self._get_param("selectionCriteria")
        policies[(kind, name)] = policy
        return json.dumps({"accountPolicy": policy})

    def describe_account_policies(self: Any) -> str:
        kind, name = self._get_param("policyType"), self._get_param("policyName")
        found = [p for (k, n), p in _policies(self.logs_backend).items() if k == kind and name in (None, n)]
        return json.dumps({"accountPolicies": found})

    def delete_account_policy(self: Any) -> str:
        key = (self._get_param("policyType"), self._get_param("policyName"))
        if _policies(self.logs_backend).pop(key, None) is None:
            raise ResourceNotFoundException("Policy with the given name does not exist.")
        return ""

    def put_subscription_filter(self: Any, log_group_name: str, filter_name: str, *args: Any, **kwargs: Any) -> None:
        group = self.groups.get(log_group_name)
        if (group is not None and filter_name not in group.subscription_filters
                and len(group.subscription_filters) >= 1 and _delivered_by_policy(group, self)):
            raise LimitExceededException()
        return put_filter(self, log_group_name, filter_name, *args, **kwargs)

    for method in (put_account_policy, describe_account_policies, delete_account_policy):
        monkeypatch.setattr(logs_responses.LogsResponse, method.__name__, method, raising=False)
    monkeypatch.setattr(logs_models.LogsBackend, "put_subscription_filter", put_subscription_filter)


def _destination(arn: str) -> Any:
    """The destination ``arn:aws:logs:REGION:ACCOUNT:destination:NAME`` names, from its own account's backend."""
    _, _, _, region, account, _, name = arn.split(":", 6)
    found = [d for d in logs_backends[account][region].destinations.values() if d.destination_name == name]
    if not found:
        raise ResourceNotFoundException("The specified destination does not exist.")
    return found[0]


def _admits(policy: str | None, account: str) -> bool:
    """Whether a destination's access policy lets ``account`` call PutSubscriptionFilter against it."""
    for statement in json.loads(policy or "{}").get("Statement", []):
        principal = statement.get("Principal", {})
        named = principal.get("AWS", []) if isinstance(principal, dict) else principal
        named = [named] if isinstance(named, str) else named
        if statement.get("Effect") != "Allow":
            continue
        if account in named or f"arn:aws:iam::{account}:root" in named:
            return True
        org_ids = statement.get("Condition", {}).get("StringEquals", {}).get("aws:PrincipalOrgID")
        org_ids = [org_ids] if isinstance(org_ids, str) else org_ids or []
        if "*" in named and account in _organization_members(org_ids):
            return True
    return False


def _organization_members(org_ids: list[str]) -> set[str]:
    """The accounts of moto's organizations with these ids (organizations created with CreateOrganization)."""
    from moto.organizations.models import organizations_backends

    members: set[str] = set()
    for account in list(organizations_backends.keys()):
        backend = organizations_backends[account].get("aws")
        if backend is not None and backend.org is not None and backend.org.id in org_ids:
            members.update(a.id for a in backend.accounts)
    return members


def teach_destinations(monkeypatch: pytest.MonkeyPatch) -> None:
    put_filter = logs_models.LogsBackend.put_subscription_filter
    send = logs_models.LogStream._send_log_events

    def put_subscription_filter(self: Any, log_group_name: str, filter_name: str, filter_pattern: str,
                                destination_arn: str, role_arn: str) -> None:
        if ":destination:" not in destination_arn:
            put_filter(self, log_group_name, filter_name, filter_pattern, destination_arn, role_arn)
            return
        group = self.groups.get(log_group_name)
        if group is None:
            raise ResourceNotFoundException()
        if destination_arn.split(":")[3] != self.region_name:
            raise InvalidParameterException("The destination must be in the same region as the log group.")
        destination = _destination(destination_arn)
        if destination_arn.split(":")[4] != self.account_id and not _admits(destination.access_policy,
                                                                             self.account_id):
            raise LogsClientError("AccessDeniedException", f"User with accountId: {self.account_id} is not "
                                  "authorized to perform PutSubscriptionFilter on the destination")
        group.put_subscription_filter(filter_name, filter_pattern, destination_arn, role_arn)

    def send_log_events(self: Any, service: str, destination_arn: str, filter_name: str,
                        log_events: list[dict[str, Any]]) -> None:
        if ":destination:" not in destination_arn:
            send(self, service, destination_arn, filter_name, log_events)
            return
        from moto.kinesis import kinesis_backends

        target = _destination(destination_arn).target_arn  # a stream of the destination's account, any region
        payload = {"messageType": "DATA_MESSAGE", "owner": self.account_id, "logGroup": self.log_group.name,
                   "logStream": self.log_stream_name, "subscriptionFilters": [filter_name], "logEvents": log_events}
        data = base64.b64encode(gzip.compress(json.dumps(payload).encode())).decode()
        stream = kinesis_backends[target.split(":")[4]][target.split(":")[3]].describe_stream(
            stream_arn=target, stream_name=None)
        stream.put_record(partition_key=self.log_stream_name, data=data, explicit_hash_key="")

    monkeypatch.setattr(logs_models.LogsBackend, "put_subscription_filter", put_subscription_filter)
    monkeypatch.setattr(logs_models.LogStream, "_send_log_events", send_log_events)


# PutSubscriptionFilter's optional members moto drops, as the request and DescribeSubscriptionFilters name them.
FILTER_OPTIONS = ("applyOnTransformedLogs", "emitSystemFields")


def teach_filter_options(monkeypatch: pytest.MonkeyPatch) -> None:
    put = logs_responses.LogsResponse.put_subscription_filter
    to_json = logs_models.SubscriptionFilter.to_json

    def put_subscription_filter(self: Any) -> str:
        answer = put(self)  # refused as moto refuses it; else the filter exists now
        group = self.logs_backend.groups[self._get_param("logGroupName")]
        given = {key: self._get_param(key) for key in FILTER_OPTIONS}
        group.subscription_filters[self._get_param("filterName")].options = {
            key: value for key, value in given.items() if value is not None}
        return answer

    def filter_json(self: Any) -> dict[str, Any]:
        return to_json(self) | getattr(self, "options", {})

    monkeypatch.setattr(logs_responses.LogsResponse, "put_subscription_filter", put_subscription_filter)
    monkeypatch.setattr(logs_models.SubscriptionFilter, "to_json", filter_json)
