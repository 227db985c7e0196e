"""What both subscription functions build once per cold start, and the one decision both paths make per group.

The decision is the selection's (names and settings), and for a selected group named like a logship function's
group, its tags: any logship stack's group, under any stack name, is never subscribed.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import IO, Any

from botocore.exceptions import BotoCoreError, ClientError

from logship.core.aws_calls import Calls, OutOfTimeError, assumed_role_client, aws_client, error_code
from logship.core.config import BackfillConfig, SubscriberConfig
from logship.core.report import emit
from logship.core.selection import Selection, Verdict, named_like_logship, tagged_as_logship
from logship.subscribe.account_policy import AccountPolicy, subscription_policies
from logship.subscribe.backfill import BackfillResult, Subscription, backfill_group
from logship.subscribe.delivery import Deliver, LambdaDeliverer, StreamDeliverer
from logship.subscribe.destinations import Destinations
from logship.subscribe.function_groups import FunctionGroupFinder
from logship.subscribe.report import Tally
from logship.subscribe.subscriptions import (
    Outcome,
    Result,
    SubscriptionFilters,
    by_policy_detail,
    skipped_for_class,
)

# Every AWS API the subscription functions call, by service, each paced on its own at the configured rate;
# template.yaml grants these and no others (tests/unit/test_template.py). FilterLogEvents is for the backfill.
PACED_APIS = {
    "logs": ("DescribeLogGroups", "DescribeSubscriptionFilters", "PutSubscriptionFilter", "DeleteSubscriptionFilter",
             "PutRetentionPolicy", "ListTagsForResource", "FilterLogEvents", "DescribeAccountPolicies"),
    "lambda": ("ListTags", "Invoke", "ListFunctions", "GetFunctionConfiguration"),
    "sqs": ("ReceiveMessage", "DeleteMessageBatch"),
}
# A member's backfill writes to the central stream as a role of the central account's, which grants this.
CENTRAL_APIS = {"kinesis": ("PutRecord",)}
# Classes whose retention CloudWatch Logs fixes (a Delivery group keeps its events a day or two: the API reference
# and the "Log classes" page differ; PutRetentionPolicy answers "This operation is not supported for Delivery log
# class"): never asked to change it.
FIXED_RETENTION_CLASSES = frozenset({"DELIVERY"})
# Lambda calls (a self-invocation, a destination check) retry until this close to the deadline: the
# continuation of a sweep is invoked after the other calls have stopped.
LAMBDA_RESERVE_MS = 3_000


@dataclass(slots=True)
class Subscriber:
    """Settings, selection, and the paced, retried clients: ``Subscriber.from_env().verdict(name)``."""

    config: SubscriberConfig
    selection: Selection
    filters: SubscriptionFilters
    logs: Calls
    lambda_: Calls
    sqs: Calls
    destinations: Destinations
    functions: FunctionGroupFinder
    backfill_config: BackfillConfig = field(default_factory=BackfillConfig)
    # With an account policy: whether this run ships each group's lines from before the policy (the install
    # and an invocation by hand do; the schedule does not: the policy has delivered everything since).
    policy_backfill: bool = True
    central: Calls | None = None  # a member's: the central stream, as the role the central account grants
    _policy: tuple[AccountPolicy | None] | None = field(default=None, init=False, repr=False)  # read this run

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Subscriber:
        return cls.build(SubscriberConfig.from_env(env), backfill=BackfillConfig.from_env(env))

    @classmethod
    def build(cls, config: SubscriberConfig, *, backfill: BackfillConfig | None = None,
              clients: Mapping[str, Callable[[], Any]] | None = None,
              clock: Callable[[], float] | None = None, sleep: Callable[[float], None] | None = None,
              rand: Callable[[], float] = random.random) -> Subscriber:
        """Clients are built on first use, by ``clients[service]`` if given (tests), else with no botocore retries."""
        def calls(service: str) -> Calls:
            factory = (clients or {}).get(service) or (lambda: aws_client(service, config.region))
            return Calls(factory, PACED_APIS[service], config.calls_per_second, clock=clock, sleep=sleep, rand=rand)

        logs, lambda_ = calls("logs"), calls("lambda")
        destinations = Destinations(lambda_, config.function_arn_prefix)
        selection = Selection(config.include_prefixes, config.exclude, config.own_log_groups,
                              config.function_log_groups)
        backfill = backfill or BackfillConfig()
        central = None
        if config.member and config.central_stream_arn:
            central = Calls((clients or {}).get("kinesis") or (lambda: assumed_role_client(
                "kinesis", config.central_stream_arn.split(":")[3], config.central_delivery_role_arn,
                f"logship-{config.account_id}")), CENTRAL_APIS["kinesis"], config.calls_per_second,
                clock=clock, sleep=sleep, rand=rand)
        elif config.member:  # no way to the central stream given: the filters alone deliver, from now on
            backfill = BackfillConfig(hours=0)
        return cls(config, selection, SubscriptionFilters(logs, config, destinations), logs, lambda_, calls("sqs"),
                   destinations, FunctionGroupFinder(lambda_, clock or time.monotonic), backfill, central=central)

    def begin(self, remaining_ms: Callable[[], int], reserve_ms: int) -> None:
        """A new run: retries last until ``reserve_ms`` before the deadline; destinations are asked afresh."""
        self.logs.until(lambda: (remaining_ms() - reserve_ms) / 1000)
        self.sqs.until(lambda: (remaining_ms() - reserve_ms) / 1000)
        self.lambda_.until(lambda: (remaining_ms() - LAMBDA_RESERVE_MS) / 1000)
        if self.central is not None:
            self.central.until(lambda: (remaining_ms() - reserve_ms) / 1000)
        self.destinations.forget()
        self._policy = None

    def verdict(self, name: str, tags: Mapping[str, str] | None = None, writers: Collection[str] = ()) -> Verdict:
        """The selection's verdict; a selected group named like a logship function's is judged by its tags too,
        and a custom group by its ``writers`` (the functions logging to it): one written by a logship function,
        whatever the group's name, is a logship group.

        ``tags`` are the ones the CloudTrail record gave, if any; else they are read (one paced call, for
        suspects only; a writer named like a logship function costs one ``ListTags``). Raises the AWS error when
        they cannot be read: such a group is never subscribed blind.
        """
        verdict = self.selection.verdict(name, writers)
        if verdict is not Verdict.INCLUDED:
            return verdict
        if named_like_logship(name) and tagged_as_logship(self.filters.tags(name) if tags is None else tags):
            return Verdict.LOGSHIP
        prefix = self.config.function_arn_prefix
        if any(named_like_logship(f) and self.destinations.look(prefix + f).owner for f in writers):
            return Verdict.LOGSHIP
        return verdict

    def subscribe(self, name: str, tally: Tally, stream: IO[str] | None = None, *,
                  listed: Mapping[str, Any] | None = None, created_ms: int | None = None,
                  log_class: str | None = None, again: bool = False) -> Subscribed:
        """Our filter on a selected group, then what it logged before the filter (backfill), then the retention
        it lacks: the one sequence both paths run.

        ``listed`` is the group as a sweep's listing gave it (its creationTime, retention and class: no extra
        call); ``log_class`` the class a CreateLogGroup record gave; ``again`` backfills a group already
        subscribed too (an event Lambda retries after a failed backfill).
        Raises :class:`OutOfTimeError` when not even the filter could be seen to in this invocation's time.
        """
        log_class = listed.get("logGroupClass") if listed is not None else log_class
        if self.config.account_policy:
            done = self._by_policy(name, log_class, tally, stream)
        else:
            result = self.filters.ensure(name, log_class)
            tally.record(name, result, stream)
            done = Subscribed(result)
        result = done.result
        created = listed.get("creationTime") if listed is not None else created_ms
        if result.outcome is Outcome.SUBSCRIBED or (again and result.outcome is Outcome.ALREADY_SUBSCRIBED):
            done.backfill = self.backfill(name, tally, stream, group_created_ms=created)
        elif done.policy is not None and self.policy_backfill:
            done.backfill = self.backfill(name, tally, stream, group_created_ms=created, subscription=Subscription(
                done.policy.name, done.policy.updated_ms, done.policy.filter_pattern))
        if self.config.retention_days and result.outcome not in (Outcome.GONE, Outcome.LOG_CLASS):
            done.retention = self._keep_retention(name, listed, tally, stream)
        return done

    def policy(self) -> AccountPolicy | None:
        """This stack's account policy, as CloudWatch Logs has it now (asked once per run)."""
        if self._policy is None:
            self._policy = (next((p for p in subscription_policies(self.filters.call)
                                  if p.name == self.config.account_policy), None),)
        return self._policy[0]

    def policy_problem(self) -> str:
        """Why this stack's account policy does not deliver to it, or ``""`` when it does."""
        policy, name, ours = self.policy(), self.config.account_policy, self.config.filter_destination
        if policy is None:
            return f"account policy {name} does not exist"
        return "" if policy.destination_arn == ours else f"account policy {name} sends to {policy.destination_arn}"

    def _by_policy(self, name: str, log_class: str | None, tally: Tally, stream: IO[str] | None) -> Subscribed:
        """A selected group the account policy delivers: nothing to put; a filter of ours left from per-group
        mode comes off (the policy sends the same lines)."""
        skipped = skipped_for_class(log_class)
        if skipped is not None:
            tally.record(name, skipped, stream)
            return Subscribed(skipped)
        try:
            problem = self.policy_problem()
        except (ClientError, BotoCoreError, OutOfTimeError) as exc:
            problem = "could not read the account policy: {}: {}".format(*error_code(exc))
        if problem:
            result = Result(Outcome.FAILED, f"{problem}: its logs do not reach ship-logs; deploy the stack again to "
                                            "restore it")
            tally.record(name, result, stream)
            return Subscribed(result)
        removed = self.filters.remove(name, "the account policy delivers the group")
        if removed.outcome in (Outcome.REMOVED, Outcome.FAILED):
            tally.record(name, removed, stream)
        result = Result(Outcome.ALREADY_SUBSCRIBED, by_policy_detail(self.config.account_policy, log_class))
        tally.record(name, result, stream)
        return Subscribed(result, policy=self.policy())  # read once this run: no call

    def _keep_retention(self, name: str, listed: Mapping[str, Any] | None, tally: Tally,
                        stream: IO[str] | None) -> str:
        """NewLogGroupRetentionDays on a group without retention (its creator's choice, or its class's, is kept)."""
        days = self.config.retention_days
        try:
            group = listed if listed is not None else self.filters.describe_group(name)
            if group is None:
                return "gone"
            if group.get("logGroupClass") in FIXED_RETENTION_CLASSES:
                return f"fixed by its class ({group['logGroupClass']})"
            if group.get("retentionInDays"):
                return f"kept {group['retentionInDays']} days"
            self.filters.set_retention(name, days)
        except (ClientError, BotoCoreError, OutOfTimeError) as exc:
            code, message = error_code(exc)
            tally.record(name, Result(Outcome.FAILED, f"could not set {days} days of retention: {code}: {message}"),
                         stream)
            return f"failed: {code}: {message}"
        tally.record(name, Result(Outcome.RETENTION_SET, f"{days} days (it had none)"), stream)
        return f"set {days} days"

    def deliverer(self) -> Deliver:
        """How a backfill hands lines on: an async invoke of the shipper, or in a member, a record of the central
        stream written as the role the central account grants (a member cannot invoke the central shipper)."""
        if self.central is None:
            return LambdaDeliverer(PacedLambda(self.lambda_), self.config.destination_arn)
        central = self.central
        return StreamDeliverer(lambda params: central.call("PutRecord", params), self.config.central_stream_arn)

    def backfill(self, name: str, tally: Tally, stream: IO[str] | None = None, *,
                 group_created_ms: int | None = None, subscription: Subscription | None = None) -> BackfillResult:
        """Right after subscribing ``name``: ship what it logged before our filter existed (a filter never does).

        Its figures join the run's; a line says what it shipped, and one that needs a person joins the problems.
        The subscription stands whatever happens here: a failed backfill is reported, never raised.
        """
        seconds = self.logs.time_left()
        result = backfill_group(
            name, destination_arn=self.config.filter_destination, call=self.filters.call, deliver=self.deliverer(),
            owner=self.config.account, config=self.backfill_config, group_created_ms=group_created_ms,
            subscription=subscription,
            filter_destinations=self.config.filter_destinations,
            time_left_ms=None if math.isinf(seconds) else lambda: int(self.logs.time_left() * 1000))
        for figure, count in result.figures().items():
            tally.add(figure, count)
        if result.status in ("off", "done") and not result.shipped:
            return result
        level = "error" if result.failed else "warning" if result.status == "capped" else "info"
        if level != "info":
            tally.problems.append(f"{name}: backfill {result.status}: {result.detail}")
        emit({"logship": "backfill", "level": level, "log_group": name, **result.to_dict()}, stream)
        return result


@dataclass(slots=True)
class Subscribed:
    """What subscribing one selected group did: the filter's outcome, its backfill, its retention."""

    result: Result
    backfill: BackfillResult | None = None
    retention: str = ""  # "set 30 days", "kept 7 days", "failed: ...", "gone"; empty when not asked for
    policy: AccountPolicy | None = None  # the account policy that delivers the group, in that mode


class PacedLambda:
    """A Lambda client whose ``invoke`` is paced and retried like every other call of these functions."""

    def __init__(self, calls: Calls) -> None:
        self._calls = calls

    def invoke(self, **params: Any) -> dict[str, Any]:
        return self._calls.call("Invoke", params)


def unreadable_tags(name: str, exc: BaseException) -> Result:
    """A suspect whose tags could not be read: not subscribed, reported, tried again by a retry or the next sweep."""
    code, message = error_code(exc)
    return Result(Outcome.FAILED, (
        f"could not read the tags of {name}, named like a logship function's log group ({code}: {message}); "
        "not subscribed until they can be read: a late subscription is made good, a shipper shipping a "
        "shipper's logs is a loop"))
