"""logship backfill: the reconcile sweep from a laptop, and with --since each group's history, shipped once."""

from __future__ import annotations

import time

import pytest

from tests.cli import logship
from tests.conftest import search_all
from tests.integration.deployed import DeployedStack

STACK = ["--stack", "logship", "--region", "eu-west-1"]
NOW_MS = int(time.time() * 1000)
HOUR_MS = 3_600_000


def history(stack: DeployedStack, group: str, hours_ago: list[int]) -> None:
    """Lines a function logged that many hours ago, before anything subscribed its group."""
    logs = stack.aws("logs")
    logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName="2025/11/20/[$LATEST]0123456789abcdef0123456789abcdef")
    logs.put_log_events(logGroupName=group, logStreamName="2025/11/20/[$LATEST]0123456789abcdef0123456789abcdef",
                        logEvents=[{"timestamp": NOW_MS - hours * HOUR_MS, "message": f"[INFO]\t{hours} hours ago\n"}
                                   for hours in sorted(hours_ago, reverse=True)])


@pytest.fixture
def stack(cloud, opensearch, osmem_clone):
    """A stack whose own backfill is off (BackfillHours=0): what reaches the index here is the command's doing."""
    deployed = DeployedStack(cloud["moto"], "logship", osmem_clone.url, BackfillHours="0",
                             ExcludeLogGroups="/aws/lambda/legacy-*")
    history(deployed, "/aws/lambda/orders-api", [240, 72, 30, 2])
    history(deployed, "/aws/lambda/legacy-report", [5])
    return deployed


def filters(stack: DeployedStack, group: str) -> dict[str, str]:
    found = stack.aws("logs").describe_subscription_filters(logGroupName=group)["subscriptionFilters"]
    return {f["filterName"]: f["destinationArn"] for f in found}


def messages(opensearch) -> list[str]:
    return sorted(doc["message"] for doc in search_all(opensearch))


def test_dry_run_says_what_would_be_done_and_does_nothing(stack, opensearch):
    result = logship("backfill", "--dry-run", "--since", "7d", *STACK)

    assert result.exit_code == 0, result.output
    assert "/aws/lambda/orders-api: would subscribe" in result.stdout
    assert "would ship its lines stamped from" in result.stdout
    assert "/aws/lambda/legacy-report: excluded: excluded by ExcludeLogGroups: /aws/lambda/legacy-*" in result.stdout
    assert "/aws/lambda/logship-ship-logs: excluded: one of this stack's own log groups" in result.stdout
    assert filters(stack, "/aws/lambda/orders-api") == {}
    assert messages(opensearch) == []


def test_the_sweep_subscribes_and_since_ships_the_history_through_the_shipper(stack, cloud, opensearch):
    result = logship("backfill", "--since", "7d", *STACK)

    assert result.exit_code == 0, result.output
    assert filters(stack, "/aws/lambda/orders-api") == {"logship-logship": stack.shipper_arn}
    assert filters(stack, "/aws/lambda/legacy-report") == {}
    assert "/aws/lambda/orders-api: subscribed" in result.stdout
    assert "/aws/lambda/orders-api: history done: shipped 3 lines" in result.stdout
    assert "history shipped: 3" in result.stdout
    assert messages(opensearch) == ["2 hours ago", "30 hours ago", "72 hours ago"]  # 240 h is before --since
    assert {call["type"] for call in cloud["lambda"].invocations} == {"Event"}  # as CloudWatch Logs delivers


def test_running_it_again_ships_nothing_twice(stack, opensearch):
    logship("backfill", "--since", "7d", *STACK)
    again = logship("backfill", "--since", "7d", "--resend", "--group", "/aws/lambda/orders-api", *STACK)

    assert again.exit_code == 0, again.output
    assert "/aws/lambda/orders-api: already_subscribed" not in again.stdout  # nothing to say about it
    assert "history shipped: 3" in again.stdout
    assert messages(opensearch) == ["2 hours ago", "30 hours ago", "72 hours ago"]


def test_to_local_ships_through_the_shipper_here_and_max_events_caps(stack, cloud, opensearch):
    result = logship("backfill", "--since", "7d", "--to", "local", "--max-events", "2", "--group",
                     "/aws/lambda/orders-api", *STACK)

    assert result.exit_code == 0, result.output
    assert "history capped: shipped 2 lines" in result.stdout
    assert messages(opensearch) == ["30 hours ago", "72 hours ago"]  # the oldest
    assert cloud["lambda"].invocations == []


def test_a_named_group_that_is_excluded_or_missing_is_reported(stack, opensearch):
    result = logship("backfill", "--since", "1d", "--group", "/aws/lambda/legacy-report", "--group",
                     "/aws/lambda/nope", *STACK)

    assert result.exit_code == 1
    assert "no log group /aws/lambda/nope" in result.stderr
    assert "legacy-report: history" not in result.stdout  # excluded: never shipped
    assert messages(opensearch) == []


def test_resend_needs_since(stack):
    result = logship("backfill", "--resend", *STACK)

    assert result.exit_code == 2
    assert "--resend needs --since" in result.stderr
