"""A full pass over existing log groups, resumable: page by page, group by group, from a cursor.

The cursor says where to pick up (which prefix, which page, the last group done on it), so a sweep
that runs short of time continues in a fresh invocation instead of stopping half way.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import IO, Any

from logship.selection import Verdict
from logship.subscriptions import Outcome, Result, Subscriber, Tally


class Mode(StrEnum):
    SUBSCRIBE = "subscribe"  # every selected group gets our filter; stale ones are fixed
    REMOVE = "remove"  # uninstall: every filter sending to our shipper goes


@dataclass(frozen=True, slots=True)
class Cursor:
    """Position in a sweep: prefix index, the token of the page in hand, the groups already done on that page.

    Names rather than a count or the last name: right whatever order AWS lists a page in (at most 50 names).
    """

    prefix: int = 0
    token: str | None = None
    done: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"prefix": self.prefix, "token": self.token, "done": list(self.done)}

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Cursor:
        return cls(int(raw.get("prefix", 0)), raw.get("token") or None, tuple(raw.get("done") or ()))


def visit(subscriber: Subscriber, mode: Mode, name: str, tally: Tally, stream: IO[str] | None = None) -> None:
    """Bring one group in line with the selection (subscribe mode) or take our filter off it (remove mode)."""
    tally.add("seen")
    verdict = subscriber.selection.verdict(name)
    if mode is Mode.REMOVE:
        tally.record(name, subscriber.filters.remove(name), stream)
    elif verdict is Verdict.INCLUDED:
        tally.record(name, subscriber.filters.ensure(name), stream)
    else:
        tally.record(name, Result(Outcome.EXCLUDED), stream)
        if verdict is Verdict.EXCLUDED:  # excluded since it was subscribed: the settings say stop shipping it
            removed = subscriber.filters.remove(name)
            if removed.outcome in (Outcome.REMOVED, Outcome.FAILED):
                tally.record(name, removed, stream)


def sweep(subscriber: Subscriber, mode: Mode, tally: Tally, *, remaining_ms: Callable[[], int], margin_ms: int,
          cursor: Cursor | None = None, stream: IO[str] | None = None) -> Cursor | None:
    """Visit every group under the selection's prefixes from ``cursor``; return where to continue, None when done.

    Stops once ``remaining_ms()`` falls under ``margin_ms``, but only after some progress, so a chain of
    continuations always ends.
    """
    prefixes = subscriber.selection.listing_prefixes()
    cursor = cursor or Cursor()
    progressed = False
    while cursor.prefix < len(prefixes):
        if progressed and remaining_ms() < margin_ms:
            return cursor
        groups, next_token = subscriber.filters.list_groups(prefixes[cursor.prefix], cursor.token)
        for group in groups:
            name = group["logGroupName"]
            if name in cursor.done:  # done before this page was cut short
                continue
            if progressed and remaining_ms() < margin_ms:
                return cursor
            visit(subscriber, mode, name, tally, stream)
            cursor = replace(cursor, done=(*cursor.done, name))
            progressed = True
        cursor = Cursor(cursor.prefix, next_token) if next_token else Cursor(cursor.prefix + 1)
        progressed = True
    return None
