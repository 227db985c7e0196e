"""Which log groups Lambda functions log to: each one's ``LoggingConfig.LogGroup`` (else ``/aws/lambda/<name>``).

Since Lambda's advanced logging controls a function may log to any group, and several functions to one; no
name prefix finds those. ListFunctions (50 functions a page, paced like every other call) does. A sweep lists
afresh; the event path keeps a listing for a few minutes and lists again sooner only for a group it does not
name (a function created since may log to it).
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from logship.core.aws_calls import Calls
from logship.core.selection import LAMBDA_PREFIX

# A listing older than this is not trusted for anything; one older than MISS_AGE_S is listed again when it
# does not name the group asked about. A function's logging moves rarely; a new function's group is new.
MAX_AGE_S = 300.0
MISS_AGE_S = 60.0


def log_group_of(function: Mapping[str, Any]) -> str:
    """Where a function (as ListFunctions or GetFunctionConfiguration describes it) sends its logs."""
    logging = function.get("LoggingConfig") or {}
    return str(logging.get("LogGroup") or f"{LAMBDA_PREFIX}{function['FunctionName']}")


@dataclass(frozen=True, slots=True)
class FunctionGroups:
    """The account's functions by the group they log to: ``listing.writers["/shared/orders"]``."""

    writers: Mapping[str, tuple[str, ...]]
    listed_at: float

    def of(self, group: str) -> tuple[str, ...]:
        return self.writers.get(group, ())

    def custom(self) -> list[str]:
        """The groups functions log to outside ``/aws/lambda/``, sorted (a sweep's resumable order)."""
        return sorted(group for group in self.writers if not group.startswith(LAMBDA_PREFIX))

    def functions(self) -> dict[str, str]:
        """``{function: group}`` for every function listed."""
        return {function: group for group, names in self.writers.items() for function in names}


class FunctionGroupFinder:
    """``FunctionGroupFinder(lambda_calls).writers("/shared/orders")`` -> the functions that log there."""

    def __init__(self, lambda_calls: Calls, clock: Callable[[], float] = time.monotonic) -> None:
        self._calls = lambda_calls
        self._clock = clock
        self._listing: FunctionGroups | None = None

    def listing(self, *, fresh: bool = False) -> FunctionGroups:
        """Every function of the account and region, by group; raises the AWS error if Lambda does not answer."""
        now = self._clock()
        if fresh or self._listing is None or now - self._listing.listed_at > MAX_AGE_S:
            self._listing = self._list(now)
        return self._listing

    def writers(self, group: str) -> tuple[str, ...]:
        """The functions logging to ``group``, listed again first when the listing does not name it and is over
        a minute old."""
        found = self.listing()
        if not found.of(group) and self._clock() - found.listed_at > MISS_AGE_S:
            found = self.listing(fresh=True)
        return found.of(group)

    def _list(self, now: float) -> FunctionGroups:
        writers: dict[str, list[str]] = defaultdict(list)
        params: dict[str, Any] = {"MaxItems": 50}
        while True:
            page = self._calls.call("ListFunctions", params)
            for function in page.get("Functions", []):
                writers[log_group_of(function)].append(str(function["FunctionName"]))
            if not page.get("NextMarker"):
                return FunctionGroups({group: tuple(sorted(names)) for group, names in writers.items()}, now)
            params = {**params, "Marker": page["NextMarker"]}
