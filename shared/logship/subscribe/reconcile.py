"""reconcile-subscriptions: which sweep an event asks for, running it within the time left, continuing it.

Triggers: the stack's custom resource (Create/Update: subscribe sweep after answering at once;
Delete: remove every filter of ours, then answer), the schedule, any other event (subscribe sweep),
and our own continuations. A sweep that runs short of time invokes the function again, asynchronously,
with the cursor; the last part of an uninstall answers CloudFormation, the last part of a complete
subscribe sweep clears subscribe-log-group's dead-letter queue of what the sweep has covered.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import IO, Any

from botocore.exceptions import BotoCoreError, ClientError

from logship.core import custom_resource
from logship.core.aws_calls import OutOfTimeError
from logship.core.report import emit
from logship.core.selection import Verdict
from logship.subscribe.account_policy import (
    PolicyError,
    check_vacancy,
    policy_document,
    selection_criteria,
    subscription_policies,
)
from logship.subscribe.dead_letters import clear_sent_before
from logship.subscribe.report import Tally, summary
from logship.subscribe.subscriber import Subscriber
from logship.subscribe.sweep import Cursor, Mode, sweep

CONTINUATION = "reconcile-continuation"
UNFINISHED = "Unfinished"  # the metric a run that ends without covering every group sets to 1 (alarmed)
PHYSICAL_ID = "logship-subscriptions"
PREFLIGHT_TYPE = "Custom::AccountPolicyPreflight"
PREFLIGHT_ID = "logship-account-policy-preflight"
# No group is started with less than this left: time for its calls and their retries.
CONTINUE_MARGIN_MS = 60_000
# Retries stop this long before the deadline (a group not finished by then is done by the next part):
# time for a call's own timeouts, the self-invocation and the summary line.
CALLS_RESERVE_MS = 15_000
# CloudFormation waits an hour for an answer; an uninstall chain answers well before, done or not.
REMOVAL_BUDGET_S = 45 * 60


@dataclass(frozen=True, slots=True)
class Job:
    """One sweep, possibly spread over several invocations (``part``); serialised into each continuation."""

    mode: Mode
    trigger: str
    run_id: str
    started_at: float
    part: int = 1
    cursor: Cursor = field(default_factory=Cursor)
    totals: Mapping[str, int] = field(default_factory=dict)
    request: dict[str, Any] | None = None  # the CloudFormation Delete request, answered by the last part

    @classmethod
    def start(cls, mode: Mode, trigger: str, context: Any, request: dict[str, Any] | None = None) -> Job:
        run_id = str(getattr(context, "aws_request_id", "") or uuid.uuid4())
        return cls(mode, trigger, run_id, time.time(), request=request)

    def then(self, cursor: Cursor, tally: Tally) -> Job:
        return replace(self, part=self.part + 1, cursor=cursor, totals=tally.merged(self.totals))

    def to_event(self) -> dict[str, Any]:
        return {"logship": CONTINUATION, "mode": self.mode.value, "trigger": self.trigger, "run_id": self.run_id,
                "started_at": self.started_at, "part": self.part, "cursor": self.cursor.to_dict(),
                "totals": dict(self.totals), "request": self.request}

    @classmethod
    def from_event(cls, event: Mapping[str, Any]) -> Job:
        return cls(Mode(event["mode"]), str(event["trigger"]), str(event["run_id"]), float(event["started_at"]),
                   int(event["part"]), Cursor.from_dict(event.get("cursor") or {}), dict(event.get("totals") or {}),
                   event.get("request"))


def continue_in_new_invocation(job: Job, subscriber: Subscriber, function_name: str) -> None:
    """Invoke ourselves asynchronously with the job's cursor (Lambda queues it; this invocation ends)."""
    subscriber.lambda_.call("Invoke", {"FunctionName": function_name, "InvocationType": "Event",
                                       "Payload": json.dumps(job.to_event()).encode()})


def _time_left(job: Job, context: Any) -> Callable[[], int]:
    """Milliseconds this part may still use: Lambda's clock, and for an uninstall CloudFormation's too."""
    if job.request is None:
        return context.get_remaining_time_in_millis
    return lambda: min(context.get_remaining_time_in_millis(), _budget_left_ms(job))


def _budget_left_ms(job: Job) -> int:
    """What is left of the time an uninstall may take before CloudFormation must have its answer."""
    return int((job.started_at + REMOVAL_BUDGET_S - time.time()) * 1000)


def _hand_over(job: Job, subscriber: Subscriber, context: Any) -> tuple[Job | None, str | None]:
    """Start the next part, or say why the run stops here."""
    if job.request is not None and _budget_left_ms(job) < CONTINUE_MARGIN_MS:  # a new part has Lambda time, not this
        return None, (f"stopped after {REMOVAL_BUDGET_S // 60} minutes so CloudFormation gets its answer; groups "
                      f"from {job.cursor.to_dict()} on were not checked")
    continue_in_new_invocation(job, subscriber, context.function_name)
    return job, None


def _reason(tally: Tally, totals: Mapping[str, int], stopped: str | None) -> str:
    figures = tally.merged(totals)
    text = (f"removed logship's filter from {figures['removed']} of {figures['seen']} log groups checked; "
            f"{figures['failed']} failed")
    if tally.problems:
        text += f" ({'; '.join(tally.problems[:3])})"
    return f"{text}; {stopped}" if stopped else text


def _backfilled(subscriber: Subscriber, group: str | None, tally: Tally, stream: IO[str] | None) -> bool:
    """Its earlier lines shipped: the one thing a sweep does not redo for a group subscribed already.

    A group the settings no longer select (or logship's own, or deleted) has nothing left to ship.
    """
    if group is None:
        return True
    try:
        if subscriber.verdict(group) is not Verdict.INCLUDED:
            return True
    except (ClientError, BotoCoreError, OutOfTimeError):  # a suspect's tags unread: the next sweep asks again
        return False
    return not subscriber.backfill(group, tally, stream).failed


def _clear_dead_letters(job: Job, subscriber: Subscriber, tally: Tally, extra: dict[str, Any],
                        stream: IO[str] | None) -> None:
    """After a complete subscribe sweep: what subscribe-log-group failed on before it started is covered."""
    queue_url = subscriber.config.dead_letter_queue_url
    if job.mode is not Mode.SUBSCRIBE or not queue_url:
        return
    try:
        cleared = clear_sent_before(subscriber.sqs, queue_url, int(job.started_at * 1000),
                                    settle=lambda group: _backfilled(subscriber, group, tally, stream))
    except Exception as exc:  # the sweep is done; the messages wait for the next one, and the alarm stays
        extra.update(dead_letters_cleared=0, dead_letters=f"not cleared: {type(exc).__name__}: {exc}",
                     level="warning")
        return
    extra.update(dead_letters_cleared=cleared.deleted, dead_letters_kept=cleared.kept)
    if cleared.groups:
        extra["dead_letters_groups"] = cleared.groups
    if cleared.failed or cleared.stopped:
        extra.update(dead_letters="; ".join([*cleared.failed[:3], cleared.stopped]).strip("; "), level="warning")


def _sweep_part(job: Job, context: Any, subscriber: Subscriber, tally: Tally,
                stream: IO[str] | None) -> tuple[Job | None, str | None]:
    """This part's share of the sweep; the next part (if any), or why the run stops unfinished."""
    time_left = _time_left(job, context)
    subscriber.begin(time_left, CALLS_RESERVE_MS)
    subscriber.policy_backfill = job.trigger != "schedule"  # with an account policy: at install, and by hand
    try:
        cursor = sweep(subscriber, job.mode, tally, remaining_ms=time_left, margin_ms=CONTINUE_MARGIN_MS,
                       cursor=job.cursor, stream=stream)
    except OutOfTimeError as exc:  # not one group finished: a further part could do no better; the schedule retries
        return None, (f"no progress in this part: {exc}; groups from {job.cursor.to_dict()} on were not checked, "
                      "the next scheduled sweep starts again")
    if cursor is None:
        return None, None
    return _hand_over(job.then(cursor, tally), subscriber, context)


def run(job: Job, context: Any, make_subscriber: Callable[[], Subscriber],
        stream: IO[str] | None = None) -> dict[str, Any]:
    """Run one part of ``job``; continue it, or finish it (answering CloudFormation if it waits on this run)."""
    started = time.perf_counter()
    tally = Tally()
    subscriber: Subscriber | None = None
    next_job: Job | None = None
    stopped: str | None = None
    error: Exception | None = None
    try:
        subscriber = make_subscriber()
        next_job, stopped = _sweep_part(job, context, subscriber, tally, stream)
    except Exception as exc:  # reported below; raised after CloudFormation, if waiting, has its answer
        error, stopped = exc, f"{type(exc).__name__}: {exc}"
    complete = next_job is None and stopped is None
    extra: dict[str, Any] = {"mode": job.mode.value, "trigger": job.trigger, "run_id": job.run_id, "part": job.part,
                             "complete": complete, "level": "error" if stopped else "info"}
    if next_job is not None:
        extra["continues_at"] = next_job.cursor.to_dict()
    else:
        extra["run_totals"] = tally.merged(job.totals)
    if stopped:
        extra["stopped"] = stopped
    if complete and subscriber is not None:
        _clear_dead_letters(job, subscriber, tally, extra, stream)
    unfinished = int(next_job is None and not complete)  # the run ends here without having covered every group
    namespace = subscriber.config.metrics_namespace if subscriber else "logship"
    record = summary("reconcile-subscriptions", tally, namespace=namespace, function_name=context.function_name,
                     started=started, extra={**extra, "unfinished": unfinished},
                     metrics={UNFINISHED: (unfinished, "Count")})
    emit(record, stream)
    if job.request is not None and next_job is None:
        # A stuck stack delete is worse than a filter left behind: the answer is always SUCCESS, with the reason.
        custom_resource.answer(job.request, custom_resource.SUCCESS, _reason(tally, job.totals, stopped),
                               job.request.get("PhysicalResourceId") or PHYSICAL_ID, stream=stream)
    elif error is not None:
        raise error
    return record


def _policy_preflight(request: dict[str, Any], make_subscriber: Callable[[], Subscriber],
                      stream: IO[str] | None) -> dict[str, Any]:
    """Before CloudFormation creates the account policy: is the account's one place free, and what the policy
    says (its document and criteria, as attributes). Nothing to undo on Delete: CloudFormation deletes it."""
    physical_id = request.get("PhysicalResourceId") or PREFLIGHT_ID
    if request["RequestType"] == "Delete":
        custom_resource.answer(request, custom_resource.SUCCESS, "nothing to undo", physical_id, stream=stream)
        return {"logship": "account-policy-preflight", "request": "Delete"}
    properties = request.get("ResourceProperties") or {}
    try:
        subscriber = make_subscriber()
        criteria = selection_criteria(_names(properties.get("OwnLogGroups")),
                                      _names(properties.get("ExcludeLogGroups")))
        check_vacancy(subscription_policies(subscriber.filters.call), str(properties["PolicyName"]),
                      subscriber.config.region)
        data = {"PolicyDocument": policy_document(str(properties["DestinationArn"]),
                                                  str(properties.get("FilterPattern", "")),
                                                  str(properties.get("RoleArn", ""))),
                "SelectionCriteria": criteria}
    except Exception as exc:  # the place is taken, the criteria too long, AWS refused: the deployment says why
        reason = str(exc) if isinstance(exc, PolicyError) else f"{type(exc).__name__}: {exc}"
        custom_resource.answer(request, custom_resource.FAILED, reason, physical_id, stream=stream)
        return {"logship": "account-policy-preflight", "failed": reason}
    custom_resource.answer(request, custom_resource.SUCCESS, "the account's subscription filter policy is free for "
                           f"{properties['PolicyName']}", physical_id, stream=stream, data=data)
    return {"logship": "account-policy-preflight", **data}


def _names(text: Any) -> list[str]:
    return [name.strip() for name in str(text or "").split(",") if name.strip()]


def _custom_resource(request: dict[str, Any], context: Any, make_subscriber: Callable[[], Subscriber],
                     stream: IO[str] | None) -> dict[str, Any]:
    if request.get("ResourceType") == PREFLIGHT_TYPE:
        return _policy_preflight(request, make_subscriber, stream)
    kind = request["RequestType"]
    if kind == "Delete":
        return run(Job.start(Mode.REMOVE, "custom-resource-delete", context, request), context, make_subscriber,
                   stream)
    # Keep the id CloudFormation knows: a new one on Update would make it delete the "old" resource: uninstall.
    physical_id = request.get("PhysicalResourceId") or PHYSICAL_ID
    try:
        make_subscriber()
    except Exception as exc:  # bad settings: fail the deployment with the reason, while it can be fixed
        custom_resource.answer(request, custom_resource.FAILED, f"{type(exc).__name__}: {exc}", physical_id,
                               stream=stream)
        return {"logship": "reconcile-subscriptions", "failed": str(exc)}
    custom_resource.answer(request, custom_resource.SUCCESS,
                           "subscription sweep started; its summary is in the reconcile-subscriptions log group",
                           physical_id, stream=stream)
    return run(Job.start(Mode.SUBSCRIBE, f"custom-resource-{kind.lower()}", context), context, make_subscriber,
               stream)


def backfill_on_demand(groups: list[Any], context: Any, make_subscriber: Callable[[], Subscriber],
                       stream: IO[str] | None = None) -> dict[str, Any]:
    """``{"backfill": ["/aws/lambda/orders"]}``: the backfill again for groups whose backfill failed or ran short.

    Safe to repeat (event ids); it ships what each group logged before its filter existed, within BACKFILL_HOURS.
    """
    started = time.perf_counter()
    subscriber = make_subscriber()
    subscriber.begin(context.get_remaining_time_in_millis, CALLS_RESERVE_MS)
    tally = Tally()
    statuses = {str(name): subscriber.backfill(str(name), tally, stream).status for name in groups}
    record = summary("reconcile-subscriptions", tally, namespace=subscriber.config.metrics_namespace,
                     function_name=context.function_name, started=started,
                     extra={"trigger": "backfill", "backfill": statuses,
                            "level": "error" if tally.problems else "info"})
    emit(record, stream)
    return record


def handle(event: Any, context: Any, make_subscriber: Callable[[], Subscriber],
           stream: IO[str] | None = None) -> dict[str, Any]:
    """Dispatch one invocation of reconcile-subscriptions; ``make_subscriber`` is called (once) when needed."""
    if custom_resource.is_request(event):
        return _custom_resource(event, context, make_subscriber, stream)
    if isinstance(event, dict) and isinstance(event.get("backfill"), list):
        return backfill_on_demand(event["backfill"], context, make_subscriber, stream)
    if isinstance(event, dict) and event.get("logship") == CONTINUATION:
        return run(Job.from_event(event), context, make_subscriber, stream)
    scheduled = isinstance(event, dict) and event.get("detail-type") == "Scheduled Event"
    return run(Job.start(Mode.SUBSCRIBE, "schedule" if scheduled else "invoke", context), context, make_subscriber,
               stream)
