"""``logship status``: a deployed stack's health, from its outputs and settings: groups, queues, alarms, errors.

Groups are judged by the layer's own selection and filter classification (what a sweep would decide), and
limits by what the subscription functions last reported: AWS's limit is learnt by trying, never guessed here.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import click

from logship_cli.context import Aws, aws_options
from logship_cli.errors import FAILED, CliError
from logship_cli.log_groups import every_listed_group
from logship_cli.render import advance, console, line, progress, table
from logship_cli.timespec import Since

HELP = """How a deployed stack is doing: which log groups are subscribed, missing, excluded (and why),
blocked by AWS's limit of filters per group, or of a log class that takes no subscription filter (Infrequent
Access, or a class CloudWatch Logs refused logship's filter for, as last reported); which
function logs to which group, and those whose group is not shipped; the index template and retention as
last installed (the cluster, the policy, the indices it reached); both dead-letter queues (depth, oldest
message); the stack's alarms; and the last errors each function logged. Read-only.

\b
Examples:
  logship status                                   # the stack in samconfig.toml
  logship status --stack prod --region eu-west-1
  logship status --no-groups --check               # quick; exit 1 if anything needs a person
"""
LAST_ERRORS = 3
SHOWN_GROUPS = 50
# Outcomes only acting tells (the functions log them): a refusal for the log class too (a DELIVERY group's).
_REPORTED = ("limit_blocked", "clash", "failed", "log_class")


@dataclass(frozen=True)
class GroupState:
    name: str
    # subscribed | outdated | missing | limit_blocked | clash | log_class | excluded | not_created | unknown
    state: str
    why: str = ""


def last_reported(aws: Aws, log_groups: list[str], since_ms: int) -> dict[str, dict[str, Any]]:
    """The latest subscription outcome the functions logged per log group (``{"logship": "subscription"}`` lines)."""
    latest: dict[str, dict[str, Any]] = {}
    for record, stamp in _json_lines(aws, log_groups, '{ $.logship = "subscription" }', since_ms):
        group = record.get("log_group")
        if record.get("logship") != "subscription" or not isinstance(group, str):
            continue
        if group not in latest or latest[group]["_at"] <= stamp:
            latest[group] = record | {"_at": stamp}
    return latest


@dataclass(frozen=True, slots=True)
class Source:
    """One account and region whose logs the shipper indexed in the window: when last, and how far behind."""

    account: str
    region: str
    payloads: int
    events: int
    last_ms: int  # when its latest payload was shipped
    lag_ms: int | None  # how old that payload's newest event was when shipped


def sources_seen(aws: Aws, shipper_group: str, since_ms: int) -> list[Source]:
    """The accounts and regions ship-logs indexed since ``since_ms``, from its summary line per payload."""
    seen: dict[tuple[str, str], Source] = {}
    for record, stamp in _json_lines(aws, [shipper_group], '{ $.logship = "ship-logs" }', since_ms):
        # one payload's line names it; Kinesis records shipped together list theirs under "payloads"
        together = record.get("payloads")
        for payload in together if isinstance(together, list) else [record]:
            if not isinstance(payload, dict):
                continue
            account, region = payload.get("account"), payload.get("region")
            if payload.get("message_type") != "DATA_MESSAGE" or not isinstance(account, str) \
                    or not isinstance(region, str):
                continue
            before = seen.get((account, region))
            latest = before is None or before.last_ms <= stamp
            lag = payload.get("lag_ms") if isinstance(payload.get("lag_ms"), int) else None
            events = payload.get("events", payload.get("events_in"))
            seen[(account, region)] = Source(
                account, region, (before.payloads if before else 0) + 1,
                (before.events if before else 0) + (events if isinstance(events, int) else 0),
                stamp if latest else before.last_ms,  # type: ignore[union-attr]
                lag if latest else before.lag_ms)  # type: ignore[union-attr]
    return sorted(seen.values(), key=lambda source: (source.account, source.region))


def _show_sources(out: Any, sources: list[Source], now_ms: int) -> None:
    table(out, "accounts and regions shipped (member accounts, with Role=central)",
          ("account", "region", "payloads", "events", "last shipped", "lag"),
          [(s.account, s.region, s.payloads, s.events, _age((now_ms - s.last_ms) / 1000) + " ago",
            "?" if s.lag_ms is None else _age(s.lag_ms / 1000)) for s in sources])
    if not sources:
        line(out, "  none in the window: no member has sent anything yet (or --since is too short)")


def _json_lines(aws: Aws, log_groups: list[str], pattern: str, since_ms: int) -> Iterator[tuple[dict[str, Any], int]]:
    """JSON lines of ``log_groups`` since ``since_ms`` matching ``pattern`` (checked here too: it is a JSON filter)."""
    from botocore.exceptions import ClientError

    logs = aws.client("logs")
    for group in log_groups:
        params: dict[str, Any] = {"logGroupName": group, "startTime": since_ms, "filterPattern": pattern}
        while True:
            try:
                page = logs.filter_log_events(**params)
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
                    break  # a function that never ran has no group yet
                raise
            for event in page.get("events", []):
                try:
                    record = json.loads(event["message"])
                except ValueError:
                    continue
                if isinstance(record, dict):
                    yield record | {"_group": group}, int(event["timestamp"])
            if not page.get("nextToken"):
                break
            params["nextToken"] = page["nextToken"]


def judge(subscriber: Any, group: dict[str, Any], reported: dict[str, dict[str, Any]],
          writers: tuple[str, ...] = ()) -> GroupState:
    """One group, as a listing gave it, as a sweep would see it (``writers``: the functions logging to a custom
    group), changing nothing."""
    from botocore.exceptions import BotoCoreError, ClientError

    from logship.core.selection import Verdict
    from logship.subscribe.subscriptions import Outcome, skipped_for_class

    name = group["logGroupName"]
    try:
        verdict = subscriber.verdict(name, writers=writers)
        if verdict is Verdict.LOGSHIP:
            return GroupState(name, "excluded", "a logship stack's own group (tag logship:stack, or written by a "
                                                "logship function)")
        if verdict is not Verdict.INCLUDED:
            return GroupState(name, "excluded", subscriber.selection.why(name, writers))
        log_class = group.get("logGroupClass")
        skipped = skipped_for_class(log_class)
        if skipped is not None:
            return GroupState(name, "log_class", skipped.detail)
        if subscriber.config.account_policy:
            return _by_policy(subscriber, name, log_class)
        found = subscriber.filters.inspect(name)
    except (ClientError, BotoCoreError) as exc:
        from logship.core.aws_calls import error_code

        return GroupState(name, "unknown", "could not look: {}: {}".format(*error_code(exc)))
    if found.outcome is Outcome.ALREADY_SUBSCRIBED:
        return GroupState(name, "subscribed")
    if found.outcome is Outcome.UPDATED:
        return GroupState(name, "outdated", f"{found.detail}; the next sweep updates it")
    if found.outcome is Outcome.CLASH:
        return GroupState(name, "clash", found.detail)
    last = reported.get(name, {})
    if last.get("outcome") in _REPORTED:
        return GroupState(name, str(last["outcome"]), str(last.get("detail", "")))
    return GroupState(name, "missing", f"{found.detail}; the next sweep (or `logship backfill`) subscribes it")


def _by_policy(subscriber: Any, name: str, log_class: str | None) -> GroupState:
    """SubscriptionMode=account-policy: the policy delivers every group it does not name; ship-logs keeps the
    selected ones."""
    from logship.subscribe.subscriptions import by_policy_detail

    problem = subscriber.policy_problem()
    if problem:
        return GroupState(name, "missing", f"{problem}: nothing reaches ship-logs; deploy the stack again")
    return GroupState(name, "subscribed", by_policy_detail(subscriber.config.account_policy, log_class))


def show_policy(out: Any, subscriber: Any) -> list[str]:
    """The account policy's state, in that mode; what needs a person about it."""
    name = subscriber.config.account_policy
    if not name:
        return []
    policy = subscriber.policy()
    if policy is None:
        line(out, f"account policy {name}: does not exist, nothing reaches ship-logs")
        return [f"account policy {name} does not exist"]
    from logship.core.timefmt import iso_millis

    line(out, f"account policy {policy.name}: every log group to {policy.destination_arn} but "
              f"{policy.selection_criteria or 'none'} (since {iso_millis(policy.updated_ms)}); ship-logs leaves out "
              "the rest the selection does not select")
    problem = subscriber.policy_problem()
    return [problem] if problem else []


def group_states(aws: Aws, subscriber: Any, functions: Any, since_ms: int, out: Any) -> list[GroupState]:
    """Every group under the prefixes, then the custom groups ``functions`` (a listing) log to, judged."""
    where = [g for g in aws.outputs().get("SubscriptionLogGroups", "").split(",") if g]
    reported = last_reported(aws, where, since_ms)
    listed = every_listed_group(subscriber)
    prefixes = subscriber.selection.listing_prefixes()
    custom = [name for name in functions.custom() if not name.startswith(prefixes)]
    states = []
    with progress(out, "log groups", len(listed) + len(custom)) as bar:
        for group in listed:
            states.append(judge(subscriber, group, reported, functions.of(group["logGroupName"])))
            advance(bar)
        for name in custom:
            found = subscriber.filters.describe_group(name)
            states.append(judge(subscriber, found, reported, functions.of(name)) if found is not None else
                          GroupState(name, "not_created", "no function has logged yet: Lambda creates it then"))
            advance(bar)
    return states


def _show_functions(out: Any, functions: Any, states: list[GroupState], all_groups: bool) -> None:
    """Which function logs where, and each group's state: the functions whose group is not shipped first."""
    state_of = {state.name: state for state in states}
    where = functions.functions()
    rows = [(function, group, state_of[group].state if group in state_of else "not_created")
            for function, group in sorted(where.items())]
    counts = Counter(state for _, _, state in rows)
    line(out, f"functions: {len(where)} log to {len(set(where.values()))} group(s): " + ", ".join(
        f"{n} to a{'n' if state[0] in 'aeiou' else ''} {state.replace('_', '-')} group"
        for state, n in sorted(counts.items())))
    shown = rows if all_groups else [row for row in rows if row[2] not in ("subscribed", "excluded")]
    if shown:
        table(out, "", ("function", "logs to", "state"), [(f, g, s.replace("_", "-")) for f, g, s in
                                                          shown[:SHOWN_GROUPS]])
    if len(shown) > SHOWN_GROUPS:
        line(out, f"... and {len(shown) - SHOWN_GROUPS} more")


@dataclass(frozen=True)
class QueueState:
    label: str
    url: str
    visible: int
    in_flight: int
    oldest: str


def queue_state(aws: Aws, label: str, url: str) -> QueueState:
    attributes = aws.client("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=[
        "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
    visible = int(attributes.get("ApproximateNumberOfMessages", 0))
    in_flight = int(attributes.get("ApproximateNumberOfMessagesNotVisible", 0))
    oldest = oldest_age(aws, url) if visible + in_flight else "-"
    return QueueState(label, url, visible, in_flight, oldest)


def oldest_age(aws: Aws, url: str) -> str:
    """CloudWatch's ApproximateAgeOfOldestMessage (what the aging alarm watches); else a sample's oldest."""
    now = time.time()
    answer = aws.client("cloudwatch").get_metric_statistics(
        Namespace="AWS/SQS", MetricName="ApproximateAgeOfOldestMessage",
        Dimensions=[{"Name": "QueueName", "Value": url.rsplit("/", 1)[-1]}],
        # EndTime a minute ahead: a figure stamped this very second is the newest, not out of range
        StartTime=now - 900, EndTime=now + 60, Period=300, Statistics=["Maximum"])
    points = sorted(answer.get("Datapoints", []), key=lambda p: p["Timestamp"])
    if points:
        return f"{_age(points[-1]['Maximum'])} (CloudWatch)"
    sampled = _sampled_oldest_ms(aws, url)
    if sampled is None:
        return "unknown (no CloudWatch figure yet, and no message visible to sample)"
    return f"at least {_age(now - sampled / 1000)} (sampled; CloudWatch has no figure yet)"


def _sampled_oldest_ms(aws: Aws, url: str) -> int | None:
    """The oldest SentTimestamp among a few messages looked at without hiding them (visibility 0)."""
    stamps: list[int] = []
    for _ in range(3):
        found = aws.client("sqs").receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0,
                                                  WaitTimeSeconds=0, AttributeNames=["SentTimestamp"])
        stamps += [int(m["Attributes"]["SentTimestamp"]) for m in found.get("Messages", [])
                   if "SentTimestamp" in m.get("Attributes", {})]
    return min(stamps) if stamps else None


def _age(seconds: float) -> str:
    days, rest = divmod(max(0, int(seconds)), 86_400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes}m"
    return f"{minutes}m {secs}s" if minutes else f"{secs}s"


def stack_resource_names(aws: Aws) -> set[str]:
    """The stack's function and queue names, as its alarms' dimensions name them."""
    outputs = aws.outputs()
    names = {value.rsplit(":", 1)[-1] for key, value in outputs.items() if key.endswith("FunctionArn")}
    return names | {value.rsplit("/", 1)[-1] for key, value in outputs.items() if key.endswith("QueueUrl")}


def _dimension_values(alarm: dict[str, Any]) -> set[str]:
    dimensions = list(alarm.get("Dimensions", []))
    for query in alarm.get("Metrics", []):
        dimensions += query.get("MetricStat", {}).get("Metric", {}).get("Dimensions", [])
    return {str(d.get("Value")) for d in dimensions}


def stack_alarms(aws: Aws) -> list[dict[str, Any]]:
    """The stack's alarms: named ``<stack>-...`` and watching its own functions or queues (not another stack's
    whose name merely starts the same)."""
    ours = stack_resource_names(aws)
    alarms: list[dict[str, Any]] = []
    for page in aws.client("cloudwatch").get_paginator("describe_alarms").paginate(AlarmNamePrefix=f"{aws.stack}-"):
        alarms += [a for a in page.get("MetricAlarms", []) if _dimension_values(a) & ours]
    return sorted(alarms, key=lambda a: a["AlarmName"])


def last_errors(aws: Aws, log_groups: list[str], since_ms: int) -> dict[str, list[tuple[int, str]]]:
    """Per function's log group, its last ``level: error`` lines: (time, what they say)."""
    found: dict[str, list[tuple[int, str]]] = {group: [] for group in log_groups}
    for record, stamp in _json_lines(aws, log_groups, '{ $.level = "error" }', since_ms):
        if record.get("level") == "error":
            found[record["_group"]].append((stamp, _error_text(record)))
    return {group: sorted(lines)[-LAST_ERRORS:] for group, lines in found.items()}


def _error_text(record: dict[str, Any]) -> str:
    for key in ("error", "stopped", "detail", "problems", "message"):
        if record.get(key):
            value = record[key]
            text = "; ".join(map(str, value[:3])) if isinstance(value, list) else str(value)
            group = f"{record['log_group']}: " if record.get("log_group") and key != "problems" else ""
            return (group + text)[:300]
    return json.dumps({k: v for k, v in record.items() if k not in ("_aws", "_group")})[:300]


def _show_groups(out: Any, states: list[GroupState], all_groups: bool) -> None:
    counts = Counter(state.state for state in states)
    order = ("subscribed", "outdated", "missing", "limit_blocked", "clash", "log_class", "excluded", "not_created",
             "unknown")
    line(out, "log groups: " + ", ".join(f"{counts[s]} {s.replace('_', '-')}" for s in order
                                         if counts[s] or s in ("subscribed", "missing")))
    shown = [s for s in states if all_groups or s.state != "subscribed"]
    if shown:
        table(out, "", ("log group", "state", "why"), [(s.name, s.state.replace("_", "-"), s.why)
                                                        for s in shown[:SHOWN_GROUPS]])
    if len(shown) > SHOWN_GROUPS:
        line(out, f"... and {len(shown) - SHOWN_GROUPS} more")


def last_install(aws: Aws) -> dict[str, Any] | None:
    """The install function's latest line (deploy or by hand): what it installed, skipped or was refused."""
    group = f"/aws/lambda/{aws.stack}-install-index-template"
    found = list(_json_lines(aws, [group], '{ $.logship = "install-index-template" }', 0))
    if not found:
        return None
    record, at = max(found, key=lambda pair: pair[1])
    return record | {"_at": at}


def _show_install(out: Any, install: dict[str, Any] | None) -> list[str]:
    """The index template and retention as last installed; what needs a person (a failure, no retention)."""
    from logship.core.timefmt import iso_millis

    if install is None:
        line(out, "index template: no install logged (InstallIndexTemplate=false, or its logs expired)")
        return []
    parts = [part for part in str(install.get("reason", "")).split("; ") if part]
    line(out, f"index template: {install.get('status')} ({install.get('request_type')}, "
              f"{iso_millis(install['_at'])})", "bold")
    for part in parts:
        line(out, f"  {part}")
    if install.get("status") != "SUCCESS":
        return ["the last install of the index template failed"]
    return ["nothing deletes old indices (the cluster has no lifecycle API)"] if any(
        "has no lifecycle API" in part for part in parts) else []


def _needs_a_person(states: list[GroupState], queues: list[QueueState], alarms: list[dict[str, Any]]) -> list[str]:
    counts = Counter(g.state for g in states)
    reasons = [f"{counts[s]} group(s) {s.replace('_', '-')}" for s in ("missing", "limit_blocked", "clash", "unknown")
               if counts[s]]
    reasons += [f"{q.label} holds {q.visible + q.in_flight} message(s)" for q in queues if q.visible + q.in_flight]
    reasons += [f"alarm {a['AlarmName']} is in ALARM" for a in alarms if a.get("StateValue") == "ALARM"]
    return reasons


@click.command(help=HELP)
@click.option("--groups/--no-groups", default=True, show_default=True,
              help="Check every log group under IncludePrefixes and every custom group functions log to (paced like "
              "the sweep: about 5 groups a second), and list which function logs where.")
@click.option("--all-groups", is_flag=True, help="List subscribed groups too, not only those that are not.")
@click.option("--since", type=Since(), default="24h", show_default=True, metavar="SINCE",
              help="How far back to read the functions' logs (errors, reported limits).")
@click.option("--check", is_flag=True, help="Exit 1 when something needs a person (a group not shipped, a message "
              "in a dead-letter queue, an alarm in ALARM, a failed install, a cluster without retention).")
@aws_options
def status(groups: bool, all_groups: bool, since: int, check: bool, aws: Aws) -> None:
    from logship.subscribe.subscriber import Subscriber

    out = console()
    outputs = aws.outputs()
    subscriber = Subscriber.build(aws.subscriber_config())
    config = subscriber.config
    target = (f"sends to the central account's destination {config.central_destination_arn}" if config.member
              else f"ships to {outputs.get('ShipLogsFunctionArn', '?')}")
    line(out, f"stack {aws.stack} in {aws.region}: {target}", "bold")
    policy_problems = show_policy(out, subscriber)
    states: list[GroupState] = []
    if groups:
        functions = subscriber.functions.listing()
        states = group_states(aws, subscriber, functions, since, out)
        _show_groups(out, states, all_groups)
        _show_functions(out, functions, states, all_groups)
    install_problems = _show_install(out, last_install(aws)) if outputs.get("InstallIndexTemplateFunctionArn") else []
    if outputs.get("DestinationArn") and outputs.get("ShipLogsLogGroupName"):  # Role=central
        _show_sources(out, sources_seen(aws, outputs["ShipLogsLogGroupName"], since), int(time.time() * 1000))
    queues = [queue_state(aws, label, outputs[key]) for key, label in (
        ("DeadLetterQueueUrl", "dead-letter queue (ship-logs)"),
        ("SubscriptionDeadLetterQueueUrl", "subscription dead-letter queue")) if outputs.get(key)]
    table(out, "dead-letter queues", ("queue", "messages", "in flight", "oldest"),
          [(q.label, q.visible, q.in_flight, q.oldest) for q in queues])
    alarms = stack_alarms(aws)
    table(out, "alarms", ("alarm", "state", "since", "reason"),
          [(a["AlarmName"].removeprefix(f"{aws.stack}-"), a.get("StateValue", "?"),
            str(a.get("StateUpdatedTimestamp", ""))[:19], str(a.get("StateReason", ""))[:120]) for a in alarms])
    errors = last_errors(aws, list(subscriber.config.stack_log_groups), since)
    line(out, "last errors:", "bold")
    for group, found in errors.items():
        if not found:
            line(out, f"  {group}: none")
        for stamp, text in found:
            from logship.core.timefmt import iso_millis

            line(out, f"  {group}: {iso_millis(stamp)}  {text}")
    reasons = policy_problems + install_problems + _needs_a_person(states, queues, alarms)
    if check and reasons:
        raise CliError("needs a person: " + "; ".join(reasons), FAILED)
