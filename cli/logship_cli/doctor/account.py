"""The account's checks: the stack itself (or the parameters it would be deployed with), CloudTrail, the account's
subscription filter policies, the region's other logship stacks, and the quotas AWS answers for (Lambda's
concurrency, Kinesis's shards). Each is read with init's facts or the API's own answer; no limit is assumed here.
"""

from __future__ import annotations

from typing import Any

from logship_cli.doctor.run import Run
from logship_cli.init import facts
from logship_cli.init.plan import other_policy_note

# CloudFormation's stack states (DescribeStacks' StackStatus) a deploy leaves the stack in when it did not go through.
_FAILED = ("CREATE_FAILED", "ROLLBACK_COMPLETE", "ROLLBACK_FAILED", "DELETE_FAILED", "UPDATE_FAILED",
           "UPDATE_ROLLBACK_FAILED", "IMPORT_ROLLBACK_FAILED")
_NEXT_SWEEP = "new groups wait for the next sweep (ReconcileSchedule) to be subscribed"


def stack(run: Run) -> None:
    """The deployed stack's state, or the parameters the deploy would give CloudFormation (the template's checks)."""
    setup, report = run.setup, run.report
    if setup.deployed is not None:
        status = setup.deployed.status
        if status == "ROLLBACK_COMPLETE":
            report.fail("stack", f"{setup.stack}: ROLLBACK_COMPLETE, its first deploy failed and nothing of it is left",
                        f"read why (aws cloudformation describe-stack-events --stack-name {setup.stack}), delete it "
                        "(sam delete), then deploy again")
        elif status in _FAILED:
            report.fail("stack", f"{setup.stack}: {status}", f"read why (aws cloudformation describe-stack-events "
                        f"--stack-name {setup.stack}) and fix it; then deploy again")
        elif status.endswith("_IN_PROGRESS"):
            report.warn("stack", f"{setup.stack}: {status}", "wait for it to finish, then run logship doctor again")
        elif status == "UPDATE_ROLLBACK_COMPLETE":
            report.warn("stack", f"{setup.stack}: UPDATE_ROLLBACK_COMPLETE, the last update was rolled back (the stack "
                        "runs as before it)", f"read why (aws cloudformation describe-stack-events --stack-name "
                        f"{setup.stack}), fix it, deploy again")
        else:
            report.ok("stack", f"{setup.stack}: {status}")
        return
    from logship_cli.init.template import refusals

    refused = refusals(setup.given, setup.known)
    for problem in refused:
        report.fail("parameters", problem, "logship init writes values the template takes; or fix it in "
                    f"samconfig.toml [{setup.config_env}]")
    if not refused:
        report.ok("parameters", f"{len(setup.given)} in samconfig.toml [{setup.config_env}], each one the template "
                  "takes")


def cloudtrail(run: Run) -> None:
    """Whether CreateLogGroup reaches EventBridge: a trail covering the region logs write management events."""
    setup, report = run.setup, run.report
    if not setup.per_group:
        report.ok("CloudTrail", "not needed: the account policy delivers new groups (SubscriptionMode=account-policy)")
        return
    found = facts.trails(run.aws)
    if isinstance(found, str):
        report.warn("CloudTrail", f"could not read the trails ({found})", "your credentials need "
                    "cloudtrail:DescribeTrails, GetTrailStatus, GetEventSelectors")
        return
    own = setup.outputs.get("CloudTrailName", "")
    delivering = [t.name for t in found if t.delivers and t.name != own]
    unknown = [t for t in found if t.logging is None]
    if setup["CreateCloudTrail"] == "true":
        _own_trail(run, found, own, delivering)
    elif delivering:
        report.ok("CloudTrail", f"trail {delivering[0]} logs write management events in {setup.region}: new log "
                  "groups reach EventBridge at once")
    elif unknown:
        report.warn("CloudTrail", f"trail {unknown[0].name} covers {setup.region}, but its status could not be read "
                    f"({unknown[0].why})", "check that it logs write management events; else deploy with "
                    "CreateCloudTrail=true")
    else:
        report.warn("CloudTrail", f"no trail logs write management events in {setup.region}: {_NEXT_SWEEP}",
                    "deploy with CreateCloudTrail=true, or SubscriptionMode=account-policy (docs/log-groups.md, "
                    "CloudTrail)")


def _own_trail(run: Run, found: list[Any], own: str, delivering: list[str]) -> None:
    report = run.report
    if run.setup.deployed is None:
        report.ok("CloudTrail", "the deploy creates a trail of write management events (CreateCloudTrail=true)")
        if delivering:
            report.warn("CloudTrail", f"trail {delivering[0]} already logs them: the stack's would be a second copy, "
                        "which CloudTrail charges (only the first copy is free)", "deploy with CreateCloudTrail=false")
        return
    trail = next((t for t in found if t.name == own), None)
    if trail is None:
        report.fail("CloudTrail", f"the stack's trail {own or '(no CloudTrailName output)'} is not there: "
                    f"{_NEXT_SWEEP}", "deploy again: the stack creates it")
    elif trail.delivers:
        report.ok("CloudTrail", f"the stack's trail {own} logs write management events")
    else:
        report.fail("CloudTrail", f"the stack's trail {own} " + ("is not logging" if trail.logging is False else
                    "does not log write management events") + f": {_NEXT_SWEEP}",
                    f"aws cloudtrail start-logging --name {trail.arn}, or deploy again")


def account_policy(run: Run) -> None:
    """The account's one subscription filter policy: free for this stack's (account-policy), else said (per-group)."""
    setup, report = run.setup, run.report
    policies = facts.account_policies(run.aws)
    if isinstance(policies, str):
        report.warn("account policy", f"could not read the account's policies ({policies})", "your credentials need "
                    "logs:DescribeAccountPolicies")
        return
    if setup.per_group:
        if policies:
            report.warn("account policy", other_policy_note(policies[0].name), "if logship status shows "
                        "limit-blocked groups, remove one of their other filters")
        else:
            report.ok("account policy", f"none in {setup.region}: each group keeps its room for subscription filters")
        return
    if setup.deployed is not None:
        from logship.subscribe.subscriber import Subscriber

        problem = Subscriber.build(run.aws.subscriber_config()).policy_problem()
        if problem:
            report.fail("account policy", f"{problem}: nothing reaches ship-logs", "deploy the stack again: it puts "
                        "the policy back")
        else:
            report.ok("account policy", "this stack's policy delivers every group of the account and region")
        return
    from logship.subscribe.account_policy import PolicyError, check_vacancy

    try:
        check_vacancy(policies, f"logship-{setup.stack}", setup.region)
    except PolicyError as exc:
        found, _, fix = str(exc).partition(". Deploy")
        report.fail("account policy", found, "deploy" + fix)
        return
    report.ok("account policy", "no other subscription filter policy holds the account's place: the deploy creates "
              "this stack's")


def other_stacks(run: Run) -> None:
    """The region's other logship stacks: one cluster's stacks need their own indices (IndexPrefix, or data stream
    names), and their own filter names."""
    setup, report = run.setup, run.report
    if isinstance(setup.others, str):
        report.warn("other stacks", f"could not list the region's stacks ({setup.others})", "your credentials need "
                    "cloudformation:DescribeStacks")
        return
    if not setup.others:
        report.ok("other stacks", f"no other logship stack in {setup.region}")
        return
    ours, before = _target(setup.parameters), report.count("fail")
    for other in setup.others:
        theirs = _target(other.parameters)
        if setup.ships and ours[0] and theirs == ours:
            report.fail("other stacks", f"stack {other.name} ships to this cluster into the same indices "
                        f"({ours[1]})", "give this stack another IndexPrefix (logship init --prefix ...): each "
                        "stack's template and retention policy claim their own indices")
        named = setup["FilterName"]
        if named and named == other.parameters.get("FilterName"):
            report.fail("other stacks", f"stack {other.name} uses the filter name {named} too: each would find the "
                        "other's filter in its place (clash)", "give this stack its own FilterName (or leave it "
                        "empty: logship-<stack name>)")
    if report.count("fail") > before:
        return
    names = ", ".join(f"{s.name} ({s.status})" for s in setup.others)
    report.ok("other stacks", f"{names}: each keeps its own filter on a group both select")


def _target(parameters: dict[str, str]) -> tuple[str, str]:
    """Where a stack's documents go: (its cluster, its indices)."""
    cluster = parameters.get("OpenSearchEndpoint") or parameters.get("ElasticCloudId", "")
    if parameters.get("IndexMode") == "datastream":
        return cluster, (f"logs-{parameters.get('DataStreamDataset', 'aws.lambda')}-"
                         f"{parameters.get('DataStreamNamespace', 'default')}")
    return cluster, f"{parameters.get('IndexPrefix') or 'cwl'}-*"


def concurrency(run: Run) -> None:
    """Lambda's concurrent executions as the account has them (GetAccountSettings), and ShipperReservedConcurrency."""
    from botocore.exceptions import BotoCoreError, ClientError

    setup, report = run.setup, run.report
    if not setup.ships:
        return
    client = run.aws.client("lambda")
    try:
        limits = client.get_account_settings()["AccountLimit"]
        arn = setup.outputs.get("ShipLogsFunctionArn")
        current = int(client.get_function_concurrency(FunctionName=arn).get("ReservedConcurrentExecutions") or 0) \
            if arn else 0
    except (ClientError, BotoCoreError) as exc:
        from logship.core.aws_calls import error_code

        report.warn("concurrency", "could not read Lambda's account settings ({}: {})".format(*error_code(exc)),
                    "your credentials need lambda:GetAccountSettings and GetFunctionConcurrency")
        return
    total, free = int(limits["ConcurrentExecutions"]), int(limits["UnreservedConcurrentExecutions"])
    wanted = _number(setup["ShipperReservedConcurrency"], -1)
    if wanted is None:
        return  # not a number: the parameters' check said so
    if wanted < 0:
        report.ok("concurrency", f"ship-logs shares the account's {free} unreserved concurrent executions (of "
                  f"{total}) with its other functions", "if ship-logs-throttled fires, raise the account's "
                  "concurrency (Service Quotas, Lambda) or reserve some for ship-logs")
    elif wanted == 0:
        report.fail("concurrency", "ShipperReservedConcurrency=0: ship-logs would never run", "give it a positive "
                    "number, or -1 for no reservation")
    elif wanted > free + current:
        report.fail("concurrency", f"ShipperReservedConcurrency={wanted}, and the account has {free + current} "
                    f"unreserved concurrent executions (of {total}) to reserve from", "lower it, or raise the "
                    "account's concurrency (Service Quotas, Lambda)")
    else:
        report.ok("concurrency", f"ship-logs reserves {wanted} of the account's {free + current} unreserved "
                  f"concurrent executions (of {total}); Lambda keeps some unreserved, and says so at deploy if "
                  "this takes too many")


def _number(text: str, default: int) -> int | None:
    try:
        return int(text) if text else default
    except ValueError:
        return None


def shards(run: Run) -> None:
    """With Transport=kinesis, room for the stream: Kinesis's own answer (DescribeLimits)."""
    from botocore.exceptions import BotoCoreError, ClientError

    setup, report = run.setup, run.report
    if setup["Transport"] != "kinesis" or setup["Role"] in ("member", "relay"):
        return
    if setup.outputs.get("LogStreamArn"):
        report.ok("Kinesis", f"the stack's stream exists ({setup.outputs['LogStreamArn']})")
        return
    try:
        limits = run.aws.client("kinesis").describe_limits()
    except (ClientError, BotoCoreError) as exc:
        from logship.core.aws_calls import error_code

        report.warn("Kinesis", "could not read the account's limits ({}: {})".format(*error_code(exc)),
                    "your credentials need kinesis:DescribeLimits")
        return
    wanted = _number(setup["KinesisShardCount"], 0)
    if wanted is None:
        return
    if wanted:
        free = int(limits["ShardLimit"]) - int(limits["OpenShardCount"])
        if wanted > free:
            report.fail("Kinesis", f"KinesisShardCount={wanted}, and the account has room for {free} more shards "
                        f"in {setup.region} (of {limits['ShardLimit']})", "lower it, use on-demand "
                        "(KinesisShardCount=0), or raise the shard quota (Service Quotas, Kinesis)")
        else:
            report.ok("Kinesis", f"room for {wanted} shards: {free} of {limits['ShardLimit']} free")
        return
    used, most = int(limits.get("OnDemandStreamCount", 0)), int(limits.get("OnDemandStreamCountLimit", 0))
    if most and used >= most:
        report.fail("Kinesis", f"the account has {used} on-demand streams in {setup.region}, its limit",
                    "give KinesisShardCount a number of shards, or raise the on-demand stream quota")
    else:
        report.ok("Kinesis", f"room for an on-demand stream: {used} of {most} in use")


def unreadable(run: Run) -> None:
    """What no API answers before acting: said, not guessed."""
    if run.setup.per_group:
        run.report.skip("subscription filters per log group: no API reads this CloudWatch Logs quota; logship learns "
                        "it by trying (a group without room is limit-blocked: logship status lists them)")
