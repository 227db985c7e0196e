"""``logship backfill``: the reconcile sweep from a laptop, and with ``--since`` each group's history.

The history is read by the layer's own reader (``logship.subscribe.backfill.ship_window``) over a window built here, and
delivered as a subscription does: the same payload, so event ids keep every line indexed once.
"""

from __future__ import annotations

import dataclasses
import io
import time
from collections.abc import Callable
from typing import Any

import click

from logship_cli.commands.status import judge
from logship_cli.context import Aws, Cluster, aws_options, cluster_options
from logship_cli.errors import FAILED, CliError
from logship_cli.log_groups import every_listed_group
from logship_cli.render import JsonLines, advance, console, line, progress
from logship_cli.timespec import Since

HELP = """Subscribe every log group the stack selects that is not subscribed yet (the reconcile sweep, run from
here with your credentials, ending as the scheduled one does), and with --since ship each selected group's
history: the lines stamped from then on that its subscription filter never delivered (those ingested before
the filter existed), read with the subscription functions' own reader and delivered through the stack's
ship-logs as CloudWatch Logs does (--to local: the shipper runs here). Idempotent by event id: safe to repeat.

\b
Examples:
  logship backfill --dry-run                       # what the sweep would change
  logship backfill                                 # the sweep now
  logship backfill --since 7d --group /aws/lambda/orders-api --group /aws/lambda/checkout
  logship backfill --since 2025-11-01 --max-events 100000
  logship backfill --since 1d --resend             # everything again, e.g. after indices were deleted
"""


@dataclasses.dataclass
class Totals:
    history_shipped: int = 0
    history_failed: list[str] = dataclasses.field(default_factory=list)
    missing: list[str] = dataclasses.field(default_factory=list)


def _listed_groups(subscriber: Any, names: tuple[str, ...], totals: Totals) -> list[dict[str, Any]]:
    """The groups to visit as DescribeLogGroups lists them: those named, else every one under IncludePrefixes."""
    if names:
        found = []
        for name in names:
            group = subscriber.filters.describe_group(name)
            if group is None:
                totals.missing.append(name)
            else:
                found.append(group)
        return found
    return every_listed_group(subscriber)


def _describe_record(record: dict[str, Any]) -> str | None:
    """A line the sweep logged, for a person; None for the ones that say nothing new (its summary)."""
    if record.get("logship") == "subscription":
        detail = f": {record['detail']}" if record.get("detail") else ""
        return f"{record.get('log_group')}: {record.get('outcome')}{detail}"
    if record.get("logship") == "backfill":
        return f"{record.get('log_group')}: earlier lines {record.get('status')}: " \
               f"{record.get('detail') or str(record.get('shipped', 0)) + ' shipped'}"
    return None


class History:
    """Ships one group's lines from ``since_ms`` with the layer's reader; never raises for AWS."""

    def __init__(self, subscriber: Any, deliver: Callable[[dict[str, Any]], None], since_ms: int, *,
                 max_events: int, resend: bool) -> None:
        self._subscriber = subscriber
        self._deliver = deliver
        self._since_ms = since_ms
        self._config = dataclasses.replace(subscriber.backfill_config, max_events=max_events)
        self._resend = resend

    def window(self, name: str) -> tuple[Any, Any] | str:
        """(subscription, window), or why there is nothing to read."""
        from logship.subscribe.backfill import Window, find_subscription

        config = self._subscriber.config
        subscription = find_subscription(self._subscriber.filters.call, name, config.filter_destinations)
        if subscription is None:
            return "not subscribed, so not backfilled: the sweep's line above says why"
        until = int(time.time() * 1000) if self._resend else subscription.created_ms + self._config.overlap_ms
        return subscription, Window(self._since_ms, until, subscription.pattern)

    def ship(self, name: str) -> Any:
        from botocore.exceptions import BotoCoreError, ClientError

        from logship.core.aws_calls import OutOfTimeError, error_code
        from logship.subscribe.backfill import BackfillError, BackfillResult, ship_window

        result = BackfillResult(name)
        try:
            found = self.window(name)
            if isinstance(found, str):
                result.status = "no_filter"
                result.problem(found)
                return result
            subscription, window = found
            owner = self._subscriber.config.destination_arn.split(":")[4]
            ship_window(name, window, filter_name=subscription.name, owner=owner, call=self._subscriber.filters.call,
                        deliver=self._deliver, config=self._config, result=result)
        except (ClientError, BotoCoreError, OutOfTimeError, BackfillError) as exc:
            result.problem("reading the history failed: {}: {}".format(*error_code(exc)))
        result.settle()
        return result


def _deliverer(to: str, subscriber: Any, cluster: Cluster, aws: Aws) -> Callable[[dict[str, Any]], None]:
    """Where the history goes: the stack's ship-logs (an async invoke, as CloudWatch Logs does), or here."""
    if to == "shipper":
        from logship.subscribe.delivery import LambdaDeliverer
        from logship.subscribe.subscriber import PacedLambda

        return LambdaDeliverer(PacedLambda(subscriber.lambda_), subscriber.config.destination_arn)
    from logship.cluster.client import connect
    from logship.ship.shipper import Shipper
    from logship_cli.redrive import Budget

    config = cluster.config(aws)
    shipper = Shipper(config, *connect(config))
    return lambda event: shipper.ship(event, Budget(120.0), stream=io.StringIO())


def _dry_run(subscriber: Any, groups: list[dict[str, Any]], since: int | None, out: Any) -> None:
    from logship.core.timefmt import iso_millis

    for group in groups:
        state = judge(subscriber, group, {})
        verb = {"subscribed": "already subscribed", "missing": "would subscribe", "outdated": "would update"}
        line(out, f"{state.name}: {verb.get(state.state, state.state)}{': ' + state.why if state.why else ''}")
        if since is not None and state.state in ("subscribed", "outdated", "missing"):
            line(out, f"    would ship its lines stamped from {iso_millis(since)} on that its filter never delivered")


@click.command(help=HELP)
@click.option("--since", type=Since(), metavar="SINCE", help="Also ship each group's history from then: 7d, 24h, "
              "2025-11-01.")
@click.option("--group", "names", multiple=True, metavar="GROUP", help="Only this log group (repeat for more).")
@click.option("--dry-run", is_flag=True, help="List what would be done; change and ship nothing.")
@click.option("--to", type=click.Choice(["shipper", "local"]), default="shipper", show_default=True,
              help="Deliver the history through the stack's ship-logs, or through the shipper run here.")
@click.option("--max-events", type=click.IntRange(1), metavar="N", help="At most N lines of history per group, the "
              "oldest (default: the stack's BackfillMaxEvents).")
@click.option("--resend", is_flag=True, help="With --since: every line up to now, also those the filter already "
              "delivered (after indices were lost); their ids keep them once.")
@cluster_options
@aws_options
def backfill(since: int | None, names: tuple[str, ...], dry_run: bool, to: str, max_events: int | None,
             resend: bool, cluster: Cluster, aws: Aws) -> None:
    from logship.core.config import BackfillConfig, SubscriberConfig
    from logship.subscribe.report import Tally
    from logship.subscribe.subscriber import Subscriber
    from logship.subscribe.sweep import Mode, visit

    if resend and since is None:
        raise CliError("--resend needs --since: how far back to ship", 2)
    env = aws.function_environment("ReconcileSubscriptionsFunctionArn")
    subscriber = Subscriber.build(SubscriberConfig.from_env(env), backfill=BackfillConfig.from_env(env))
    out, totals, tally = console(), Totals(), Tally()
    groups = _listed_groups(subscriber, names, totals)
    if dry_run:
        _dry_run(subscriber, groups, since, out)
        _finish(out, totals, tally, dry_run=True)
        return
    history = None if since is None else History(
        subscriber, _deliverer(to, subscriber, cluster, aws), since,
        max_events=max_events or subscriber.backfill_config.max_events, resend=resend)
    stream = JsonLines(lambda record: _say(out, record))
    with progress(out, "log groups", len(groups)) as bar:
        for group in groups:
            visit(subscriber, Mode.SUBSCRIBE, group, tally, stream)
            tally.add("seen")
            if history is not None and tally_selected(subscriber, group["logGroupName"]):
                _ship_history(out, history, group["logGroupName"], totals)
            advance(bar)
    _finish(out, totals, tally, dry_run=False)


def tally_selected(subscriber: Any, name: str) -> bool:
    """Only groups the stack ships have history to ship: never an excluded one, never a logship stack's own."""
    from botocore.exceptions import BotoCoreError, ClientError

    from logship.core.selection import Verdict

    try:
        return subscriber.verdict(name) is Verdict.INCLUDED
    except (ClientError, BotoCoreError):
        return False  # its tags unread: the sweep's own line says so


def _say(out: Any, record: dict[str, Any]) -> None:
    text = _describe_record(record)
    if text:
        line(out, text)


def _ship_history(out: Any, history: History, name: str, totals: Totals) -> None:
    result = history.ship(name)
    totals.history_shipped += result.shipped
    if result.failed:
        totals.history_failed.append(name)
    line(out, f"{name}: history {result.status}: {result.detail}")


def _finish(out: Any, totals: Totals, tally: Any, *, dry_run: bool) -> None:
    counts = tally.counts
    if not dry_run:
        line(out, f"done: {counts['seen']} groups checked, {counts['subscribed']} subscribed, {counts['updated']} "
                  f"updated, {counts['already_subscribed']} already subscribed, {counts['excluded']} excluded, "
                  f"{counts['limit_blocked']} limit-blocked, {counts['clash']} clash, {counts['log_class']} "
                  f"log-class, {counts['failed']} failed; "
                  f"earlier lines shipped: {counts['backfill_shipped']}; history shipped: {totals.history_shipped}")
    problems = [*(f"no log group {name}" for name in totals.missing), *tally.problems,
                *(f"{name}: history not fully shipped" for name in totals.history_failed)]
    if problems:
        raise CliError("; ".join(problems[:10]), FAILED)
