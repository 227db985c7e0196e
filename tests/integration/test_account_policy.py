"""SubscriptionMode=account-policy against moto (taught account policies as CloudWatch Logs documents them):
the preflight CloudFormation runs before creating the policy, the sweep under a policy, a policy's deliveries
through ship-logs, and another team's policy meeting the per-group mode's filters."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from logship.subscribe.reconcile import PREFLIGHT_TYPE
from tests.conftest import search_all
from tests.integration.conftest import SHIPPER_ARN, STACK_GROUPS
from tests.integration.test_backfill import decoded, log, now_ms
from tests.integration.test_reconcile_subscriptions import RECONCILER, SCHEDULED, reconcile, summaries
from tests.integration.test_ship_logs import run_shipper
from tests.integration.test_subscribe_log_group import subscriber_env
from tests.payloads import load

POLICY = "logship-logship"


@pytest.fixture
def policy_account(aws: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The moto account, reconcile-subscriptions set up for SubscriptionMode=account-policy."""
    aws.function(RECONCILER)
    monkeypatch.setattr("time.sleep", lambda _s: None)
    for key, value in subscriber_env(AWS_LAMBDA_FUNCTION_NAME=RECONCILER, SUBSCRIPTION_MODE="account-policy",
                                     ACCOUNT_POLICY_NAME=POLICY).items():
        monkeypatch.setenv(key, value)
    return aws


@pytest.fixture
def calls() -> list[tuple[str, Any]]:
    found: list[tuple[str, Any]] = []
    boto3.DEFAULT_SESSION.events.register("provide-client-params", lambda params, model, **_: found.append(
        (model.name, params)))
    return found


def preflight(cloudformation: Any, capsys: Any, name: str = POLICY, exclude: str = "/aws/lambda/legacy-*") -> dict:
    """CloudFormation's Create of the preflight resource, answered by the real handler; the answer it got."""
    request = cloudformation.request("Create", resource_type=PREFLIGHT_TYPE, logical_id="AccountPolicyPreflight",
                                     properties={"ServiceToken": "...", "PolicyName": name, "DestinationArn": SHIPPER_ARN,
                                                 "FilterPattern": "", "ExcludeLogGroups": exclude,
                                                 "OwnLogGroups": ",".join(STACK_GROUPS)})
    reconcile(capsys, request)
    return cloudformation.answers[-1]


def create_policy(aws: Any, answer: dict, name: str = POLICY) -> None:
    """What CloudFormation's AWS::Logs::AccountPolicy does with the preflight's attributes."""
    aws.logs.put_account_policy(policyName=name, policyType="SUBSCRIPTION_FILTER_POLICY", scope="ALL",
                                policyDocument=answer["Data"]["PolicyDocument"],
                                selectionCriteria=answer["Data"]["SelectionCriteria"])


def test_the_preflight_writes_the_policy_and_a_second_stack_is_refused_with_the_reason(policy_account, capsys,
                                                                                      cloudformation):
    first = preflight(cloudformation, capsys, exclude="/aws/lambda/legacy-*,/aws/lambda/audit")
    create_policy(policy_account, first)
    again = preflight(cloudformation, capsys)  # an update of the same stack: its own policy is no obstacle
    second = preflight(cloudformation, capsys, name="logship-stage")

    assert first["Status"] == again["Status"] == "SUCCESS"
    assert json.loads(first["Data"]["PolicyDocument"]) == {"DestinationArn": SHIPPER_ARN, "FilterPattern": ""}
    # exact names only: the glob is ship-logs' to apply
    assert first["Data"]["SelectionCriteria"] == "LogGroupName NOT IN " + json.dumps(sorted(
        [*STACK_GROUPS, "/aws/lambda/audit"]))
    assert second["Status"] == "FAILED"
    assert second["Reason"].startswith(f"account policy {POLICY!r} (to {SHIPPER_ARN}) already delivers this "
                                       "account's log groups in eu-west-1")
    assert "SubscriptionMode=per-group" in second["Reason"]


def test_criteria_past_the_api_limit_fail_the_deployment_with_what_to_do(policy_account, capsys, cloudformation):
    names = ",".join(f"/aws/lambda/excluded-function-number-{i:05d}" for i in range(700))

    answer = preflight(cloudformation, capsys, exclude=names)

    assert answer["Status"] == "FAILED"
    assert "(CloudWatch Logs takes at most 25600): list fewer exact names in ExcludeLogGroups" in answer["Reason"]


def test_under_a_policy_the_install_sweep_backfills_and_removes_leftover_filters_and_puts_none(
        policy_account, capsys, cloudformation, calls):
    aws = policy_account
    aws.groups("/aws/lambda/orders", "/aws/lambda/legacy-report", "/ecs/web", *STACK_GROUPS)
    aws.subscribe("/aws/lambda/orders", SHIPPER_ARN, name="logship")  # left from SubscriptionMode=per-group
    log(aws, "2025/11/22/[$LATEST]abc", ["before the policy"], [now_ms() - 60_000], group="/aws/lambda/orders")
    create_policy(aws, preflight(cloudformation, capsys))

    install = summaries(reconcile(capsys, cloudformation.request("Create")))[-1]
    scheduled = summaries(reconcile(capsys, SCHEDULED))[-1]

    assert aws.filters("/aws/lambda/orders") == {}  # the policy delivers it: no filter of ours is needed
    assert "PutSubscriptionFilter" not in [operation for operation, _ in calls]
    assert (install["already_subscribed"], install["removed"], install["excluded"], install["failed"]) == (1, 1, 4, 0)
    shipped = [decoded(json.loads(p["Payload"])) for operation, p in calls
               if operation == "Invoke" and p["FunctionName"] == SHIPPER_ARN]
    assert [(s["logGroup"], s["subscriptionFilters"], [e["message"] for e in s["logEvents"]]) for s in shipped] == [
        ("/aws/lambda/orders", [POLICY], ["before the policy"])]
    assert (scheduled["already_subscribed"], scheduled["backfill_shipped"]) == (1, 0)  # the schedule does not


def test_under_a_policy_infrequent_access_is_skipped_and_a_delivery_group_is_reported_for_what_is_known(
        policy_account, capsys, cloudformation, calls, monkeypatch):
    """Whether an account policy delivers a Delivery group is undocumented: the sweep counts it as delivered (nothing
    to put), never fails it, tries its backfill and leaves its fixed retention alone."""
    aws = policy_account
    monkeypatch.setenv("RETENTION_DAYS", "30")
    aws.groups(*STACK_GROUPS)
    aws.groups("/aws/lambda/archive", log_class="INFREQUENT_ACCESS")
    aws.groups("/aws/lambda/to-s3", log_class="DELIVERY")
    create_policy(aws, preflight(cloudformation, capsys))

    lines = reconcile(capsys, cloudformation.request("Create"))

    summary = summaries(lines)[-1]
    assert (summary["log_class"], summary["already_subscribed"], summary["failed"]) == (1, 1, 0)
    assert "problems" not in summary
    assert "PutRetentionPolicy" not in [operation for operation, _ in calls]
    backfill = next(line for line in lines if line.get("logship") == "backfill")
    assert (backfill["log_group"], backfill["status"]) == ("/aws/lambda/to-s3", "log_class")


def test_a_sweep_whose_policy_is_gone_says_so_for_every_group(policy_account, capsys):
    policy_account.groups("/aws/lambda/orders")

    summary = summaries(reconcile(capsys, SCHEDULED))[-1]

    assert summary["failed"] == 1
    assert summary["problems"] == [f"/aws/lambda/orders: account policy {POLICY} does not exist: its logs do not "
                                   "reach ship-logs; deploy the stack again to restore it"]


def test_another_teams_account_policy_counts_toward_the_groups_limit(aws, monkeypatch, capsys, calls):
    aws.logs.put_account_policy(policyName="security-archive", policyType="SUBSCRIPTION_FILTER_POLICY", scope="ALL",
                                policyDocument=json.dumps({"DestinationArn": aws.function("archiver")}))
    aws.groups("/aws/lambda/orders-api")
    aws.subscribe("/aws/lambda/orders-api", aws.function("audit-forwarder"), name="audit")
    from tests.integration.test_subscribe_log_group import run_subscriber

    summary = run_subscriber(monkeypatch, capsys, load("cloudtrail_create_lambda_group"))[-1]

    assert (summary["outcome"], summary["limit_blocked"], summary["failed"]) == ("limit_blocked", 1, 0)
    assert "account policy security-archive delivers it too and counts toward the same limit" in \
        summary["problems"][0]


def test_ship_logs_under_a_policy_indexes_the_selection_and_leaves_the_rest_out(opensearch, osmem_clone,
                                                                              monkeypatch, capsys):
    env = {"SUBSCRIPTION_MODE": "account-policy", "INCLUDE_PREFIXES": "/aws/lambda/", "EXCLUDE": "/aws/lambda/legacy-*",
           "STACK_LOG_GROUPS": ",".join(STACK_GROUPS), "FUNCTION_LOG_GROUPS": "true"}
    delivered = load("cwl_account_policy")
    assert delivered["policyLevel"] == "ACCOUNT_LEVEL_POLICY"
    ecs = dict(delivered, logGroup="/ecs/web", logStream="web/web/0123456789abcdef")
    stage = dict(delivered, logGroup="/aws/lambda/stage-ship-logs")  # another logship stack's shipper
    custom = load("cwl_custom_group_orders_api")  # /shared/orders: its stream names the function

    kept, ecs_out, stage_out, custom_kept = (run_shipper(monkeypatch, capsys, osmem_clone.url, payload, **env)
                                             for payload in (delivered, ecs, stage, custom))

    assert (kept["indexed"], custom_kept["indexed"]) == (4, 4)
    assert (ecs_out["left_out"], ecs_out["left_out_events"], ecs_out["indexed"]) == (
        "outside IncludePrefixes: /aws/lambda/", 4, 0)
    assert stage_out["left_out"] == "a logship stack's own group (named like one): never shipped"
    groups = {hit["aws"]["cloudwatch"]["log_group"] for hit in search_all(opensearch)}
    assert groups == {"/aws/lambda/inventory", "/shared/orders"}


def test_ship_logs_in_per_group_mode_ships_whatever_its_filters_send(opensearch, osmem_clone, monkeypatch, capsys):
    ecs = dict(load("cwl_account_policy"), logGroup="/ecs/web")  # a filter a user put by hand

    summary = run_shipper(monkeypatch, capsys, osmem_clone.url, ecs)

    assert (summary["indexed"], "left_out" in summary) == (4, False)

