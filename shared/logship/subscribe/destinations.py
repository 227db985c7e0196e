"""Is another filter's destination still there? Decides whether a filter with our name is stale or someone's.

A filter named like ours that sends elsewhere is either left by a deleted deployment (take it over) or owned by
something alive, perhaps another logship stack (never touch it). Asked once per destination per run: a sweep
meets few distinct destinations.
"""

from __future__ import annotations

from dataclasses import dataclass

from botocore.exceptions import ClientError

from logship.core.aws_calls import Calls, error_code
from logship.core.selection import STACK_TAG


@dataclass(frozen=True, slots=True)
class Destination:
    """What logship knows of a destination: ``exists`` is None when it cannot tell (never then rewritten)."""

    arn: str
    exists: bool | None
    owner: str = ""  # "logship stack 'prod'" when the function carries logship's tag

    def describe(self) -> str:
        if self.exists is None:
            return f"{self.arn} (not a Lambda function of this account and region: logship cannot tell if it is used)"
        return f"{self.arn} (a live function{', the shipper of ' + self.owner if self.owner else ''})"


class Destinations:
    """``Destinations(lambda_calls, "arn:aws:lambda:eu-west-1:123456789012:function:").look(arn)``."""

    def __init__(self, lambda_calls: Calls, function_arn_prefix: str) -> None:
        self._calls = lambda_calls
        self._prefix = function_arn_prefix
        self._known: dict[str, Destination] = {}

    def forget(self) -> None:
        """Start a new run: a function deleted since the last one must be seen as gone."""
        self._known.clear()

    def look(self, arn: str) -> Destination:
        """Whether ``arn`` exists; raises the AWS error when Lambda does not say (a retry or the next run asks)."""
        if arn not in self._known:
            self._known[arn] = self._ask(arn)
        return self._known[arn]

    def _ask(self, arn: str) -> Destination:
        if not arn.startswith(self._prefix):  # Kinesis, Firehose, another account's function: not ours to judge
            return Destination(arn, None)
        try:
            # ListTags answers both questions (gone: ResourceNotFoundException; whose: the tags) and nothing more:
            # GetFunction would also hand out the code. It takes the function's own ARN, without an alias.
            found = self._calls.call("ListTags", {"Resource": ":".join(arn.split(":")[:7])})
        except ClientError as exc:
            if error_code(exc)[0] == "ResourceNotFoundException":
                return Destination(arn, False)
            raise
        stack = (found.get("Tags") or {}).get(STACK_TAG)
        return Destination(arn, True, f"logship stack {stack!r}" if stack else "")
