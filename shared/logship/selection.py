"""Which log groups logship subscribes: one decision used by the event path, the sweep and the uninstall.

Pure functions over names and event dicts: no I/O, so every path agrees and tests need no AWS.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from fnmatch import fnmatchcase
from typing import Any


class Verdict(StrEnum):
    INCLUDED = "included"
    NOT_INCLUDED = "not_included"  # outside INCLUDE_PREFIXES
    EXCLUDED = "excluded"  # matches an EXCLUDE glob
    OWN = "own"  # one of this stack's groups: never, whatever the settings


@dataclass(frozen=True, slots=True)
class Selection:
    """``Selection(("/aws/lambda/",), ("/aws/lambda/legacy-*",), own).verdict("/aws/lambda/orders")``."""

    include_prefixes: tuple[str, ...] = ("/aws/lambda/",)
    exclude: tuple[str, ...] = ()
    own_groups: frozenset[str] = frozenset()

    def verdict(self, name: str) -> Verdict:
        if name in self.own_groups:
            return Verdict.OWN
        if not name.startswith(self.include_prefixes):
            return Verdict.NOT_INCLUDED
        if any(fnmatchcase(name, glob) for glob in self.exclude):
            return Verdict.EXCLUDED
        return Verdict.INCLUDED

    def listing_prefixes(self) -> tuple[str, ...]:
        """The prefixes to page DescribeLogGroups with: one covering another is dropped, so no group is seen twice."""
        ordered = sorted(set(self.include_prefixes))
        kept: list[str] = []
        for prefix in ordered:
            if not any(prefix.startswith(shorter) for shorter in kept):
                kept.append(prefix)
        return tuple(kept)


@dataclass(frozen=True, slots=True)
class CreatedLogGroup:
    """What a CloudTrail event delivered by EventBridge asks of us: a group name, or why there is nothing to do."""

    name: str | None
    skipped: str | None = None
    error_code: str | None = None


def created_log_group(event: Any) -> CreatedLogGroup:
    """Read the group a CloudTrail ``CreateLogGroup`` record created; anything else is skipped with the reason.

    >>> created_log_group({"detail": {"eventSource": "logs.amazonaws.com", "eventName": "CreateLogGroup",
    ...                                "requestParameters": {"logGroupName": "/aws/lambda/orders"}}}).name
    '/aws/lambda/orders'
    """
    detail = event.get("detail") if isinstance(event, dict) else None
    if not isinstance(detail, dict):
        return CreatedLogGroup(None, "not a CloudTrail event delivered by EventBridge: no 'detail' object")
    call = f"{detail.get('eventSource')} {detail.get('eventName')}"
    if call != "logs.amazonaws.com CreateLogGroup":
        return CreatedLogGroup(None, f"not a CreateLogGroup call: {call}")
    parameters = detail.get("requestParameters")
    name = parameters.get("logGroupName") if isinstance(parameters, dict) else None
    if detail.get("errorCode"):
        return CreatedLogGroup(name, f"CreateLogGroup failed with {detail['errorCode']}: "
                                     f"{detail.get('errorMessage', 'no message')}", str(detail["errorCode"]))
    if not isinstance(name, str) or not name:
        return CreatedLogGroup(None, "CreateLogGroup record without requestParameters.logGroupName")
    return CreatedLogGroup(name)
