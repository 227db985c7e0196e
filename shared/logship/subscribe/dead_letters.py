"""Clearing subscribe-log-group's dead-letter queue once a complete sweep has covered what it holds.

Each message is Lambda's record of a CreateLogGroup event that still failed after its retries. A complete
subscribe sweep that started after the message was sent has visited that group again (subscribed it, or
reported why not in its own summary); what the sweep does not redo (shipping the group's earlier lines) the
caller's ``settle`` does. A settled message says nothing new: it is deleted, and the queue's alarm clears.
Messages sent after the sweep started, or not settled, are left for the next one.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from logship.core.aws_calls import Calls

# A message we leave is hidden this long after we look at it, so the next receive shows the ones behind it.
_LOOK_S = 30
_NAMES = 10  # group names kept for the summary line
_MIN_LEFT_S = 3  # a receive waits a second, a delete answers in well under one


@dataclass(slots=True)
class Cleared:
    """How many messages were deleted, the groups they were about, and what was left and why."""

    deleted: int = 0
    groups: list[str] = field(default_factory=list)
    kept: int = 0  # sent after the sweep started, or not settled yet
    failed: list[str] = field(default_factory=list)
    stopped: str = ""  # why the queue may hold more messages from before the sweep


def _group(body: str) -> str | None:
    """The log group of Lambda's on-failure record: ``requestPayload.detail.requestParameters.logGroupName``."""
    try:
        record = json.loads(body)
        return str(record["requestPayload"]["detail"]["requestParameters"]["logGroupName"])
    except (ValueError, KeyError, TypeError):
        return None


def clear_sent_before(sqs: Calls, queue_url: str, before_ms: int,
                      settle: Callable[[str | None], bool] = lambda _group: True) -> Cleared:
    """Delete every message of ``queue_url`` sent before ``before_ms`` (epoch milliseconds) that ``settle``
    (given the message's log group, None if unreadable) says is dealt with.

    Long polling (one second) so an empty answer means an empty queue, not a sample of its servers; stops
    when a receive shows nothing new or the invocation's time runs short.
    """
    cleared = Cleared()
    seen: set[str] = set()
    while True:
        if sqs.time_left() < _MIN_LEFT_S:
            cleared.stopped = "the invocation ran short of time; the next complete sweep clears the rest"
            break
        page = sqs.call("ReceiveMessage", {"QueueUrl": queue_url, "MaxNumberOfMessages": 10, "WaitTimeSeconds": 1,
                                           "VisibilityTimeout": _LOOK_S, "AttributeNames": ["SentTimestamp"]})
        fresh = [m for m in page.get("Messages", []) if m["MessageId"] not in seen]
        if not fresh:
            break
        seen.update(m["MessageId"] for m in fresh)
        old = [m for m in fresh if int(m.get("Attributes", {}).get("SentTimestamp", before_ms)) < before_ms
               and settle(_group(m.get("Body", "")))]
        cleared.kept += len(fresh) - len(old)
        if old:
            _delete(sqs, queue_url, old, cleared)
    return cleared


def _delete(sqs: Calls, queue_url: str, messages: list[dict[str, Any]], cleared: Cleared) -> None:
    answer = sqs.call("DeleteMessageBatch", {"QueueUrl": queue_url, "Entries": [
        {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)]})
    done = {entry["Id"] for entry in answer.get("Successful", [])}
    for i, message in enumerate(messages):
        if str(i) not in done:
            continue
        cleared.deleted += 1
        group = _group(message.get("Body", ""))
        if group and group not in cleared.groups and len(cleared.groups) < _NAMES:
            cleared.groups.append(group)
    cleared.failed.extend(f"{entry.get('Code')}: {entry.get('Message')}" for entry in answer.get("Failed", []))
