"""Two logship stacks in one account and region (moto), deployed as CloudFormation would from template.yaml.

Each stack's log groups, functions (names and tags) and environment come from evaluating the template under
its stack name (tests/template_stack.py). Neither stack may ever subscribe a logship group, on either path,
and where both select a group, each keeps its own filter: they never fight over one.
"""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from logship.subscribe.created_groups import SubscribeError
from tests.conftest import LambdaContext, load_handler
from tests.integration.aws_faults import Faults
from tests.integration.conftest import REGION, function_zip
from tests.integration.test_reconcile_subscriptions import PLENTY, SCHEDULED, Countdown
from tests.integration.test_subscribe_log_group import printed
from tests.payloads import load
from tests.template_stack import Stack

# Groups of the account's own functions, which both stacks select. The last only looks like a logship group.
USER_GROUPS = ("/aws/lambda/orders", "/aws/lambda/billing", "/aws/lambda/invoice-ship-logs")
HANDLERS = {"subscribe_log_group": "SubscribeLogGroupFunction", "reconcile_subscriptions": "ReconcileSubscriptionsFunction"}
SETTINGS = {"DESTINATION_ARN", "FILTER_NAME", "FILTER_PATTERN", "INCLUDE_PREFIXES", "EXCLUDE", "SHIPPER_LOG_GROUP",
            "STACK_LOG_GROUPS", "RETENTION_DAYS", "SUBSCRIPTION_CALLS_PER_SECOND", "SUBSCRIPTION_DLQ_URL",
            "METRICS_NAMESPACE", "AWS_LAMBDA_FUNCTION_NAME"}


class Deployment:
    """What CloudFormation creates for one stack: its log groups and functions with their tags, its queue."""

    def __init__(self, aws: Any, name: str, **parameters: str) -> None:
        self.name = name
        self.stack = Stack(name, **parameters)
        self.groups = self.stack.log_groups()
        for group, tags in self.groups.items():
            aws.logs.create_log_group(logGroupName=group, tags=tags)
        for function, tags in self.stack.functions().items():
            aws.lambda_.create_function(FunctionName=function, Runtime="python3.13", Role=aws.role,
                                        Handler="app.handler", Code={"ZipFile": function_zip()}, Tags=tags)
        aws.sqs.create_queue(QueueName=f"{name}-SubscriptionDeadLetterQueue")
        self.shipper = self.stack.arn("ShipLogsFunction")
        self.filter_name = self.stack.environment("ReconcileSubscriptionsFunction")["FILTER_NAME"]

    def invoke(self, function: str, event: Any, monkeypatch: pytest.MonkeyPatch,
               capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
        """The real handler on a cold start with this stack's environment; every JSON line it printed."""
        name = f"{self.name}-{function.replace('_', '-')}"
        for key in SETTINGS:
            monkeypatch.delenv(key, raising=False)
        env = self.stack.environment(HANDLERS[function]) | {"AWS_REGION": REGION, "AWS_LAMBDA_FUNCTION_NAME": name}
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        context = Countdown(PLENTY, function_name=name) if function == "reconcile_subscriptions" else \
            LambdaContext(function_name=name)
        app = load_handler(function)
        try:
            app.handler(event, context)
        finally:
            lines = printed(capsys)
        return lines

    def sweep(self, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
        lines = self.invoke("reconcile_subscriptions", SCHEDULED, monkeypatch, capsys)
        [summary] = [line for line in lines if line.get("logship") == "reconcile-subscriptions"]
        return summary | {"lines": lines}


@pytest.fixture
def account(aws: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The moto account with the groups of the account's own functions; no real waits."""
    aws.sqs = boto3.client("sqs", region_name=REGION)
    monkeypatch.setattr("time.sleep", lambda _s: None)  # backoff and pacing waits: not what is tested here
    aws.groups(*USER_GROUPS)
    return aws


@pytest.fixture
def stacks(account: Any) -> dict[str, Deployment]:
    """``stage`` and ``prod``, deployed from template.yaml with default parameters."""
    return {name: Deployment(account, name) for name in ("stage", "prod")}


def logship_groups(stacks: dict[str, Deployment]) -> dict[str, dict[str, str]]:
    return {group: tags for deployment in stacks.values() for group, tags in deployment.groups.items()}


def created(group: str, tags: dict[str, str] | None) -> dict[str, Any]:
    """The CloudTrail record of CloudFormation creating ``group`` (with ``tags`` in the call, or none)."""
    event = load("cloudtrail_create_group_cloudformation")
    parameters = event["detail"]["requestParameters"]
    parameters["logGroupName"] = group
    if tags is None:
        del parameters["tags"]
    else:
        parameters["tags"] = tags
    return event


# ----------------------------------------------------------------------------------------- sweeps

@pytest.mark.parametrize("order", [("stage", "prod"), ("prod", "stage")])
def test_sweeps_in_either_order_leave_each_stack_its_own_filter_and_every_logship_group_alone(
        order, stacks, aws, monkeypatch, capsys):
    first = [stacks[name].sweep(monkeypatch, capsys) for name in order]
    again = [stacks[name].sweep(monkeypatch, capsys) for name in order]

    assert all(aws.filters(group) == {} for group in logship_groups(stacks))
    both = {deployment.filter_name: deployment.shipper for deployment in stacks.values()}
    assert both == {"logship-stage": stacks["stage"].shipper, "logship-prod": stacks["prod"].shipper}
    assert all(aws.filters(group) == both for group in USER_GROUPS)
    for summary in first:
        assert (summary["subscribed"], summary["clash"], summary["failed"], summary["complete"]) == (3, 0, 0, True)
        assert summary["excluded"] == 8  # its own 4 groups by name, the other stack's 4 by their tags
    for summary in again:  # nothing flips back and forth
        assert (summary["already_subscribed"], summary["subscribed"], summary["updated"]) == (3, 0, 0)


def test_tags_are_read_only_for_groups_named_like_a_logship_function(stacks, aws, monkeypatch, capsys):
    faults = Faults(monkeypatch)

    stacks["stage"].sweep(monkeypatch, capsys)

    # prod's four groups and the one user group ending in -ship-logs; stage's own are known by name
    assert faults.attempts["ListTagsForResource"] == 5


def test_a_shared_filter_name_is_a_clash_reported_plainly_and_never_rewritten(account, monkeypatch, capsys):
    aws = account
    stage, prod = (Deployment(aws, name, FilterName="logship") for name in ("stage", "prod"))

    stage.sweep(monkeypatch, capsys)
    summary = prod.sweep(monkeypatch, capsys)

    assert all(aws.filters(group) == {"logship": stage.shipper} for group in USER_GROUPS)
    assert (summary["clash"], summary["Clash"], summary["failed"], summary["subscribed"]) == (3, 3, 0, 0)
    [warning, *_] = [line for line in summary["lines"] if line.get("outcome") == "clash"]
    assert warning["level"] == "warning"
    assert stage.shipper in warning["detail"]
    assert "the shipper of logship stack 'stage'" in warning["detail"]
    assert "give it its own FilterName" in warning["detail"]


def test_a_filter_whose_destination_was_deleted_is_taken_over(account, monkeypatch, capsys):
    aws = account
    stage, prod = (Deployment(aws, name, FilterName="logship") for name in ("stage", "prod"))
    stage.sweep(monkeypatch, capsys)
    aws.lambda_.delete_function(FunctionName="stage-ship-logs")  # gone without its uninstall

    summary = prod.sweep(monkeypatch, capsys)

    assert all(aws.filters(group) == {"logship": prod.shipper} for group in USER_GROUPS)
    assert (summary["updated"], summary["clash"]) == (3, 0)
    details = [line["detail"] for line in summary["lines"] if line.get("outcome") == "updated"]
    assert all(f"sent to {stage.shipper}, which no longer exists" in detail for detail in details)


def test_a_sweep_takes_its_filter_off_logship_groups_it_finds_subscribed(stacks, aws, monkeypatch, capsys):
    """An older logship, or a hand, put a shipper's filter on another stack's groups: each sweep undoes its own."""
    for name, other in (("stage", "prod"), ("prod", "stage")):
        for group in stacks[other].groups:
            aws.subscribe(group, stacks[name].shipper, name=stacks[name].filter_name)

    summaries = [stacks[name].sweep(monkeypatch, capsys) for name in ("stage", "prod")]

    assert all(aws.filters(group) == {} for group in logship_groups(stacks))
    for summary in summaries:
        assert summary["removed"] == 4
        removed = [line for line in summary["lines"] if line.get("outcome") == "removed"]
        assert all("belongs to a logship stack (tag logship:stack)" in line["detail"] for line in removed)


# ------------------------------------------------------------------------------- CreateLogGroup events

@pytest.mark.parametrize("tags_in_event", [True, False])
def test_create_log_group_events_never_subscribe_a_logship_group(tags_in_event, stacks, aws, monkeypatch, capsys):
    faults = Faults(monkeypatch)
    verdicts: dict[tuple[str, str], str] = {}

    for subscriber in stacks.values():
        for group, tags in logship_groups(stacks).items():
            lines = subscriber.invoke("subscribe_log_group", created(group, tags if tags_in_event else None),
                                      monkeypatch, capsys)
            verdicts[subscriber.name, group] = lines[-1]["verdict"]
            assert lines[-1]["outcome"] == "excluded"

    assert all(aws.filters(group) == {} for group in logship_groups(stacks))
    assert verdicts == {(subscriber, group): "own" if group in stacks[subscriber].groups else "logship"
                        for subscriber in stacks for group in logship_groups(stacks)}
    # the record's tags are enough; without them, each of the other stack's four groups costs one look
    assert faults.attempts.get("ListTagsForResource", 0) == (0 if tags_in_event else 2 * 4)


def test_a_new_group_of_the_account_is_subscribed_by_both_and_costs_no_look_at_tags(stacks, aws, monkeypatch,
                                                                                     capsys):
    faults = Faults(monkeypatch)

    for subscriber in stacks.values():
        lines = subscriber.invoke("subscribe_log_group", created("/aws/lambda/orders", {"team": "billing"}),
                                  monkeypatch, capsys)
        assert lines[-1]["outcome"] == "subscribed"

    assert aws.filters("/aws/lambda/orders") == {d.filter_name: d.shipper for d in stacks.values()}
    assert "ListTagsForResource" not in faults.attempts


# ------------------------------------------------------------------------------------- tags unreadable

@pytest.mark.parametrize(("code", "message"), [
    ("AccessDeniedException", "User is not authorized to perform: logs:ListTagsForResource"),
    ("ThrottlingException", "Rate exceeded"),  # on every attempt
])
def test_groups_whose_tags_cannot_be_read_are_not_subscribed_but_reported(code, message, stacks, aws, monkeypatch,
                                                                         capsys):
    Faults(monkeypatch).refuse("ListTagsForResource", code, message)

    summary = stacks["stage"].sweep(monkeypatch, capsys)

    suspects = {*stacks["prod"].groups, "/aws/lambda/invoice-ship-logs"}
    assert all(aws.filters(group) == {} for group in suspects)
    assert all(aws.filters(group) == {"logship-stage": stacks["stage"].shipper}
               for group in ("/aws/lambda/orders", "/aws/lambda/billing"))
    assert (summary["failed"], summary["subscribed"]) == (5, 2)
    failed = {line["log_group"]: line["detail"] for line in summary["lines"] if line.get("outcome") == "failed"}
    assert set(failed) == suspects
    assert all(f"could not read the tags of {group}" in detail and code in detail for group, detail in failed.items())


def test_on_the_event_path_unreadable_tags_fail_the_invocation_so_lambda_retries(stacks, aws, monkeypatch, capsys):
    Faults(monkeypatch).refuse("ListTagsForResource", "AccessDeniedException", "not authorized")

    with pytest.raises(SubscribeError, match="could not read the tags of /aws/lambda/invoice-ship-logs"):
        stacks["stage"].invoke("subscribe_log_group", created("/aws/lambda/invoice-ship-logs", None), monkeypatch,
                               capsys)

    assert aws.filters("/aws/lambda/invoice-ship-logs") == {}

