"""A full pass over existing log groups, resumable: page by page, group by group, from a cursor.

The cursor says where to pick up (which prefix, which page, the groups done on it), so a sweep that runs
short of time, throttled or not, continues in a fresh invocation instead of stopping half way.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import IO, Any

from botocore.exceptions import BotoCoreError, ClientError

from logship.core.aws_calls import OutOfTimeError, error_code
from logship.core.selection import Verdict
from logship.subscribe.report import Tally
from logship.subscribe.subscriber import Subscriber, unreadable_tags
from logship.subscribe.subscriptions import Outcome, Result


class Mode(StrEnum):
    SUBSCRIBE = "subscribe"  # every selected group gets our filter; stale ones are fixed
    REMOVE = "remove"  # uninstall: every filter sending to our shipper goes


@dataclass(frozen=True, slots=True)
class Cursor:
    """Position in a sweep: prefix index, the token of the page in hand, the groups already done on that page.

    Names rather than a count or the last name: right whatever order AWS lists a page in (at most 50 names).
    Past the last prefix come the functions' custom groups, in name order: ``done`` is then the last one done.
    """

    prefix: int = 0
    token: str | None = None
    done: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"prefix": self.prefix, "token": self.token, "done": list(self.done)}

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Cursor:
        return cls(int(raw.get("prefix", 0)), raw.get("token") or None, tuple(raw.get("done") or ()))


def _take_ours_off(subscriber: Subscriber, name: str, why: str, tally: Tally, stream: IO[str] | None) -> None:
    removed = subscriber.filters.remove(name, why)
    if removed.outcome in (Outcome.REMOVED, Outcome.FAILED):
        tally.record(name, removed, stream)


def visit(subscriber: Subscriber, mode: Mode, group: Mapping[str, Any], tally: Tally,
          stream: IO[str] | None = None, writers: Collection[str] = ()) -> None:
    """Bring one listed group in line with the selection (subscribe mode) or take our filter off it (remove mode).

    ``writers`` are the functions logging to it, for a custom group. Raises :class:`OutOfTimeError` when the
    group could not be finished in this invocation.
    """
    name = group["logGroupName"]
    if mode is Mode.REMOVE:
        tally.record(name, subscriber.filters.remove(name), stream)
        return
    try:
        verdict = subscriber.verdict(name, writers=writers)
    except (ClientError, BotoCoreError) as exc:
        tally.record(name, unreadable_tags(name, exc), stream)
        return
    if verdict is Verdict.INCLUDED:
        subscriber.subscribe(name, tally, stream, listed=group)
        return
    tally.record(name, Result(Outcome.EXCLUDED), stream)
    if verdict is Verdict.EXCLUDED:  # excluded since it was subscribed: the settings say stop shipping it
        _take_ours_off(subscriber, name, "ExcludeLogGroups excludes the group", tally, stream)
    elif verdict is Verdict.LOGSHIP:  # self-heal: a shipper must never receive a logship stack's logs
        _take_ours_off(subscriber, name, "the group belongs to a logship stack (tag logship:stack)", tally, stream)


@dataclass(slots=True)
class _Part:
    """One invocation's share of a sweep: whether it has done anything yet, and whether its time is up."""

    remaining_ms: Callable[[], int]
    margin_ms: int
    progressed: bool = False

    def time_up(self) -> bool:
        return self.progressed and self.remaining_ms() < self.margin_ms

    def stop(self, exc: OutOfTimeError) -> None:
        """Out of time mid-call: stop here after some progress, else raise (a chain of parts always ends)."""
        if not self.progressed:
            raise exc


def sweep(subscriber: Subscriber, mode: Mode, tally: Tally, *, remaining_ms: Callable[[], int], margin_ms: int,
          cursor: Cursor | None = None, stream: IO[str] | None = None) -> Cursor | None:
    """Visit every group under the selection's prefixes from ``cursor``, then the functions' custom groups;
    return where to continue, None when done.

    Stops once ``remaining_ms()`` falls under ``margin_ms``, or a call is still throttled when time runs
    short, but only after some progress: a part that made none raises :class:`OutOfTimeError`, so a chain of
    continuations always ends.
    """
    prefixes = subscriber.selection.listing_prefixes()
    cursor = cursor or Cursor()
    part = _Part(remaining_ms, margin_ms)
    while cursor.prefix < len(prefixes):
        if part.time_up():
            return cursor
        try:
            groups, next_token = subscriber.filters.list_groups(prefixes[cursor.prefix], cursor.token)
        except OutOfTimeError as exc:
            part.stop(exc)
            return cursor
        for group in groups:
            name = group["logGroupName"]
            if name in cursor.done:  # done before this page was cut short
                continue
            if part.time_up():
                return cursor
            try:
                visit(subscriber, mode, group, tally, stream)
            except OutOfTimeError as exc:
                part.stop(exc)
                return cursor  # this group is not done: the next part does it again
            tally.add("seen")
            cursor = replace(cursor, done=(*cursor.done, name))
            part.progressed = True
        cursor = Cursor(cursor.prefix, next_token) if next_token else Cursor(cursor.prefix + 1)
        part.progressed = True
    if not subscriber.selection.function_groups:
        return None
    return _custom_groups(subscriber, mode, tally, cursor, part, stream)


def _custom_groups(subscriber: Subscriber, mode: Mode, tally: Tally, cursor: Cursor, part: _Part,
                   stream: IO[str] | None) -> Cursor | None:
    """The custom groups functions log to, outside the prefixes just listed, in name order: each described, then
    visited. A group no function has logged to yet does not exist: Lambda creates it with the first line."""
    try:
        listing = subscriber.functions.listing(fresh=True)
    except OutOfTimeError as exc:
        part.stop(exc)
        return cursor
    except (ClientError, BotoCoreError) as exc:
        tally.record("(Lambda functions)", Result(Outcome.FAILED, (
            "could not list the functions to find their custom log groups ({}: {}); the groups under "
            "IncludePrefixes are done, the next sweep tries again").format(*error_code(exc))), stream)
        return None
    listed = subscriber.selection.listing_prefixes()
    last = cursor.done[-1] if cursor.done else ""
    for name in listing.custom():
        if name <= last or name.startswith(listed):
            continue
        if part.time_up():
            return cursor
        try:
            group = subscriber.filters.describe_group(name)
            if group is not None:
                visit(subscriber, mode, group, tally, stream, writers=listing.of(name))
                tally.add("seen")
        except OutOfTimeError as exc:
            part.stop(exc)
            return cursor
        except (ClientError, BotoCoreError) as exc:
            tally.record(name, Result(Outcome.FAILED, "could not describe the group: {}: {}".format(*error_code(exc))),
                         stream)
        cursor = replace(cursor, done=(name,))
        part.progressed = True
    return None
