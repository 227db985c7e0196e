"""Put, update and remove logship's subscription filter on one log group, paced and retried, with one outcome each.

"Our" filter on a group is any filter whose destination is our shipper, whatever its name. A filter with our
name that sends elsewhere is taken over only when its destination no longer exists; a live one is someone
else's (perhaps another logship stack): reported as a clash, never rewritten or removed.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from logship.core.aws_calls import Calls, error_code, maybe_done, retryable
from logship.core.config import SubscriberConfig
from logship.subscribe.account_policy import subscription_policies
from logship.subscribe.destinations import Destinations

# PutSubscriptionFilter answers LimitExceededException when the group has no room for another filter, but a
# storm of faults can answer it too. "No room" is concluded only when it keeps coming while other filters
# are present; AWS's number of filters per group (2 in its API reference, 5 in cfn-lint) is never assumed.
LIMIT_ATTEMPTS = 4
# The classes CloudWatch Logs documents as taking no subscription filter ("Log classes": "Subscription filters:
# No" for Infrequent Access): a group of one is skipped without a call. Any other class is tried and AWS's answer
# decides, a refusal naming the log class being classified (no guessed limits): AWS's own delivery of Lambda logs
# to S3 or Firehose is a subscription filter on a DELIVERY group, and whether such a group takes one to Lambda is
# not documented; a class added later (ESSENTIALS) is tried too.
NO_SUBSCRIPTION_CLASSES = frozenset({"INFREQUENT_ACCESS"})


class Outcome(StrEnum):
    SUBSCRIBED = "subscribed"
    ALREADY_SUBSCRIBED = "already_subscribed"
    UPDATED = "updated"  # our filter had another pattern, or a filter with our name pointed at a deleted function
    EXCLUDED = "excluded"
    LIMIT_BLOCKED = "limit_blocked"  # AWS refuses another filter while the group's other filters are there
    CLASH = "clash"  # a filter with our name sends to a live destination that is not ours: left alone
    GONE = "gone"  # deleted meanwhile
    FAILED = "failed"
    REMOVED = "removed"
    NOT_SUBSCRIBED = "not_subscribed"
    RETENTION_SET = "retention_set"
    LOG_CLASS = "log_class"  # the group's class takes no subscription filter: skipped, counted, never alarmed


@dataclass(frozen=True, slots=True)
class Result:
    outcome: Outcome
    detail: str = ""
    # AWS's answer to a call rather than a decision made without one: a refusal for the log class is logged
    # (a skip by class is not), so ``logship status`` can tell it from a group the sweep has not reached.
    answered: bool = False


_CANNOT_CHANGE = "a group's class cannot be changed, so log to a Standard group to ship these lines"


def skipped_for_class(log_class: str | None) -> Result | None:
    """The outcome for a group of a class documented to take no subscription filter, without a call; None for
    any other class (or none known): try it."""
    if log_class not in NO_SUBSCRIPTION_CLASSES:
        return None
    return Result(Outcome.LOG_CLASS, f"log class {log_class}: CloudWatch Logs documents no subscription filters for "
                                     f"it (Standard groups take them); {_CANNOT_CHANGE}")


def refused_for_class(exc: BaseException, log_class: str | None) -> Result:
    """CloudWatch Logs refused logship's filter for the group's class: its words, and what the user can do."""
    return Result(Outcome.LOG_CLASS, f"log class {log_class or 'other than Standard'}: CloudWatch Logs refused "
                                     f"logship's filter for it ({error_code(exc)[1]}); {_CANNOT_CHANGE}",
                  answered=True)


def refused_for_log_class(exc: BaseException) -> bool:
    """An answer refusing a call for the group's class (``ValidationException: This operation is only supported
    on the Standard log class.``, as moto is taught it; the code and words for a DELIVERY group are undocumented)."""
    code, message = error_code(exc)
    return code in ("ValidationException", "InvalidParameterException") and "log class" in message.lower()


def by_policy_detail(policy: str, log_class: str | None) -> str:
    """A selected group the account policy delivers; for a class other than Standard, what is not known."""
    detail = f"by account policy {policy}"
    if log_class and log_class != "STANDARD":
        detail += (f" (log class {log_class}: whether an account policy delivers such a group is not documented; "
                   "ship-logs' summary line names each group it receives)")
    return detail


def _names(filters: list[dict[str, Any]]) -> str:
    return ", ".join(f"{f.get('filterName')} -> {f.get('destinationArn')}" for f in filters)


class SubscriptionFilters:
    """logship's filter on one group at a time: ``SubscriptionFilters(logs, config, destinations).ensure(name)``.

    Every CloudWatch Logs call of the subscription functions goes through ``logs`` (paced, retried).
    """

    def __init__(self, logs: Calls, config: SubscriberConfig, destinations: Destinations) -> None:
        self._logs = logs
        self._config = config
        self._destinations = destinations

    def call(self, operation: str, **params: Any) -> dict[str, Any]:
        """Any CloudWatch Logs API, paced with the others and retried: ``call("FilterLogEvents", logGroupName=g)``.

        Raises the final ``ClientError``/``BotoCoreError``, or :class:`OutOfTimeError` when retrying would outlast
        the invocation's time (``exc.last`` is the error AWS gave).
        """
        return self._logs.call(operation, params)

    def list_groups(self, prefix: str, token: str | None = None) -> tuple[list[dict[str, Any]], str | None]:
        """One page (up to 50) of groups named ``prefix...`` and the next page's token.

        Retried for as long as the invocation has time, not a number of attempts: without the listing the
        sweep cannot go on, and running short of time continues it in a fresh invocation.
        """
        params: dict[str, Any] = {"logGroupNamePrefix": prefix, "limit": 50}
        if token:
            params["nextToken"] = token
        page = self._logs.call("DescribeLogGroups", params, attempts=0)
        return page.get("logGroups", []), page.get("nextToken")

    def tags(self, group: str) -> dict[str, str]:
        """The group's tags (ListTagsForResource on its ARN)."""
        return self._logs.call("ListTagsForResource",
                               {"resourceArn": self._config.log_group_arn(group)}).get("tags", {})

    def _filters(self, group: str) -> list[dict[str, Any]]:
        return self._logs.call("DescribeSubscriptionFilters", {"logGroupName": group}).get("subscriptionFilters", [])

    def _ours(self, filters: list[dict[str, Any]]) -> dict[str, Any] | None:
        """The filter sending to our shipper (or our stream); the one with our name first if, from older
        versions, there are two."""
        ours = [f for f in filters if f.get("destinationArn") in self._config.filter_destinations]
        return next((f for f in ours if f.get("filterName") == self._config.filter_name), ours[0] if ours else None)

    def _current(self, ours: dict[str, Any]) -> bool:
        return not self._differs(ours)

    def _differs(self, ours: dict[str, Any]) -> str:
        """How our filter differs from the settings (its destination when Transport changed, its pattern, whether it
        reads transformed events, the system fields it emits), or ``""``. DescribeSubscriptionFilters leaves out an
        option never set: false, none."""
        config = self._config
        if ours.get("destinationArn") != config.filter_destination:
            return f"sent to {ours.get('destinationArn')}, not {config.filter_destination}"
        if ours.get("filterPattern", "") != config.filter_pattern:
            return f"has pattern {ours.get('filterPattern')!r}, not {config.filter_pattern!r}"
        transformed = bool(ours.get("applyOnTransformedLogs"))
        if transformed is not config.apply_on_transformed_logs:
            return (f"has applyOnTransformedLogs {str(transformed).lower()}, not "
                    f"{str(config.apply_on_transformed_logs).lower()} (ApplyOnTransformedLogs)")
        emitted = sorted(ours.get("emitSystemFields") or [])
        if emitted != sorted(config.emit_system_fields):
            return (f"emits system fields {', '.join(emitted) or 'none'}, not "
                    f"{', '.join(sorted(config.emit_system_fields)) or 'none'} (EmitSystemFields)")
        return ""

    def _put(self, group: str, name: str) -> None:
        """The whole filter, as the settings say: PutSubscriptionFilter replaces what a filter of that name had."""
        config = self._config
        params: dict[str, Any] = {"logGroupName": group, "filterName": name, "filterPattern": config.filter_pattern,
                                  "destinationArn": config.filter_destination}
        if config.filter_role_arn:
            params["roleArn"] = config.filter_role_arn
        if config.apply_on_transformed_logs:
            params["applyOnTransformedLogs"] = True
        if config.emit_system_fields:
            params["emitSystemFields"] = list(config.emit_system_fields)
        self._logs.call("PutSubscriptionFilter", params)

    def _not_subscribed(self, exc: ClientError | BotoCoreError) -> Result:
        """The group could not be subscribed; a refusal while the filter carries an option AWS may take only on some
        groups names the option and its setting."""
        result = _failure(exc, "subscribed")
        config = self._config
        options = [option for option, asked in (
            ("applyOnTransformedLogs (ApplyOnTransformedLogs=true)", config.apply_on_transformed_logs),
            ("emitSystemFields (EmitSystemFields=true)", config.emit_system_fields)) if asked]
        if options and error_code(exc)[0] in ("InvalidParameterException", "ValidationException"):
            return Result(result.outcome, f"{result.detail}; logship puts its filter with {' and '.join(options)}: "
                                          "if this group cannot take that, add it to ExcludeLogGroups or turn the "
                                          "setting off")
        return result

    def inspect(self, group: str) -> Result:
        """What :meth:`ensure` would find on ``group``, changing nothing: ``already_subscribed``, ``updated`` (our
        filter has another pattern), ``clash`` (our name sends to a live destination), ``not_subscribed``.

        A filter with our name whose destination is gone counts as ``updated``: ensure takes it over.
        Raises the AWS error (the caller says it could not look).
        """
        filters = self._filters(group)
        ours = self._ours(filters)
        if ours is not None:
            if self._current(ours):
                return Result(Outcome.ALREADY_SUBSCRIBED)
            return Result(Outcome.UPDATED, f"filter {ours['filterName']} {self._differs(ours)}")
        named = next((f for f in filters if f.get("filterName") == self._config.filter_name), None)
        if named is not None:
            destination = self._destinations.look(str(named.get("destinationArn")))
            if destination.exists is False:
                return Result(Outcome.UPDATED, f"filter {self._config.filter_name} sends to {destination.arn}, "
                                               "which no longer exists")
            return Result(Outcome.CLASH, f"a filter named {self._config.filter_name!r} already sends this group to "
                                         f"{destination.describe()}")
        others = f" (other filters: {_names(filters)})" if filters else ""
        return Result(Outcome.NOT_SUBSCRIBED, f"no filter of this stack's{others}")

    def ensure(self, group: str, log_class: str | None = None) -> Result:
        """Our filter on ``group`` with the configured destination and pattern; nothing done if already so.

        ``log_class`` is the group's class when known (a listing, a CreateLogGroup record): one documented to take
        no subscription filter is skipped without a call; any other is tried, and a refusal for it classified.
        """
        skipped = skipped_for_class(log_class)
        if skipped is not None:
            return skipped
        try:
            return self._ensure(group)
        except (ClientError, BotoCoreError) as exc:
            if refused_for_log_class(exc):
                return refused_for_class(exc, log_class)
            return self._not_subscribed(exc)

    def _ensure(self, group: str) -> Result:
        filters = self._filters(group)
        ours = self._ours(filters)
        if ours is not None:
            if self._current(ours):
                return Result(Outcome.ALREADY_SUBSCRIBED)
            self._put(group, ours["filterName"])  # keeps the name it has: an older FilterName stays ours
            return Result(Outcome.UPDATED, f"filter {ours['filterName']}: {self._differs(ours)}")
        named = next((f for f in filters if f.get("filterName") == self._config.filter_name), None)
        if named is not None:
            return self._take_over_or_leave(group, named)
        return self._subscribe(group)

    def _take_over_or_leave(self, group: str, named: dict[str, Any]) -> Result:
        destination = self._destinations.look(str(named.get("destinationArn")))
        if destination.exists is False:
            self._put(group, self._config.filter_name)
            return Result(Outcome.UPDATED, f"filter {self._config.filter_name} sent to {destination.arn}, which no "
                                           "longer exists; it now sends to this stack's shipper")
        return Result(Outcome.CLASH, (
            f"a filter named {self._config.filter_name!r} already sends this group to {destination.describe()}; "
            "logship leaves it alone. If this stack should ship the group too, give it its own FilterName "
            "(empty means logship-<stack name>); if not, add the group to ExcludeLogGroups"))

    def _subscribe(self, group: str) -> Result:
        """Put a new filter; on LimitExceededException look again at what is on the group before concluding."""
        refusals = 0
        while True:
            try:
                self._put(group, self._config.filter_name)
                return Result(Outcome.SUBSCRIBED)
            except ClientError as exc:
                if error_code(exc)[0] != "LimitExceededException":
                    raise
                refusals += 1
                filters = self._filters(group)
                if self._ours(filters) is not None:  # put meanwhile (the other path): nothing left to do
                    return Result(Outcome.ALREADY_SUBSCRIBED)
                if refusals >= LIMIT_ATTEMPTS:
                    return _refused(exc, filters, refusals, self._policies_on(group))
                self._logs.pause(refusals, "PutSubscriptionFilter", exc)

    def _policies_on(self, group: str) -> list[str]:
        """The account-level subscription filter policies that deliver ``group`` (they count toward its limit)."""
        try:
            return [p.name for p in subscription_policies(self.call) if not p.excludes(group)]
        except (ClientError, BotoCoreError):
            return []

    def remove(self, group: str, why: str = "") -> Result:
        """Delete every filter on ``group`` that sends to our shipper (and only those)."""
        removed: list[str] = []
        try:
            ours = [f["filterName"] for f in self._filters(group)
                    if f.get("destinationArn") in self._config.filter_destinations]
            removed.extend(name for name in ours if self._delete(group, name))
        except (ClientError, BotoCoreError) as exc:
            return _failure(exc, "unsubscribed")
        if not ours:
            return Result(Outcome.NOT_SUBSCRIBED)
        if not removed:
            return Result(Outcome.GONE, f"filter {', '.join(ours)} (or the group) was deleted meanwhile, "
                                        "not by logship")
        return Result(Outcome.REMOVED, f"filter {', '.join(removed)}{'; ' + why if why else ''}")

    def _delete(self, group: str, name: str) -> bool:
        """True when this call deleted the filter, including when an attempt did it but its answer was lost."""
        failed: list[BaseException] = []
        try:
            self._logs.call("DeleteSubscriptionFilter", {"logGroupName": group, "filterName": name}, failed=failed)
        except ClientError as exc:
            if error_code(exc)[0] != "ResourceNotFoundException":
                raise
            return any(maybe_done(earlier) for earlier in failed)
        return True

    def describe_group(self, group: str) -> dict[str, Any] | None:
        """The group as DescribeLogGroups lists it (creationTime, retentionInDays, ...); None if it is gone."""
        page = self._logs.call("DescribeLogGroups", {"logGroupNamePrefix": group, "limit": 1})
        return next((g for g in page.get("logGroups", []) if g.get("logGroupName") == group), None)

    def set_retention(self, group: str, days: int) -> None:
        self._logs.call("PutRetentionPolicy", {"logGroupName": group, "retentionInDays": days})


def _refused(exc: ClientError, filters: list[dict[str, Any]], attempts: int, policies: list[str]) -> Result:
    """After repeated LimitExceededException: no room if other filters (or an account policy, which counts
    toward the same limit) are there, else a real failure."""
    code, message = error_code(exc)
    if filters or policies:
        policy = (f"; account policy {', '.join(policies)} delivers it too and counts toward the same limit"
                  if policies else "")
        return Result(Outcome.LIMIT_BLOCKED, (
            f"no room for logship's filter: AWS answered {code} {attempts} times while the group has "
            f"{len(filters)} other subscription filter(s) ({_names(filters)}){policy}; remove one and the next "
            "sweep subscribes the group"))
    return Result(Outcome.FAILED, f"{code}: {message} ({attempts} times, although the group has no other "
                                  "subscription filter)")


def _failure(exc: ClientError | BotoCoreError, verb: str) -> Result:
    code, message = error_code(exc)
    if code == "ResourceNotFoundException":
        return Result(Outcome.GONE, f"deleted before it could be {verb}")
    if retryable(exc):
        return Result(Outcome.FAILED, f"{code}: {message} (on every attempt; the next sweep tries again)")
    return Result(Outcome.FAILED, f"{code}: {message}")

