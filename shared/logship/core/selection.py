"""Which log groups logship ships: one decision used by the event path, the sweep, the uninstall and, with an
account policy (which delivers every group), by ship-logs itself.

Pure functions over names and tags: no I/O (callers read tags), so every path agrees and tests need no AWS.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from enum import StrEnum
from fnmatch import fnmatchcase

# Every logship stack names its functions <stack name>-<component> (template.yaml; a test keeps the two equal),
# so the log groups of any logship stack, whatever its name, end with one of these.
COMPONENTS = ("ship-logs", "subscribe-log-group", "reconcile-subscriptions", "install-index-template")
# The tag template.yaml puts on every function and log group of a stack; its value is the stack's name.
STACK_TAG = "logship:stack"
_SUSPECT_ENDINGS = tuple(f"-{component}" for component in COMPONENTS)
# Where Lambda puts a function's logs unless its LoggingConfig names another ("custom") group.
LAMBDA_PREFIX = "/aws/lambda/"
# Lambda Managed Instances: a capacity provider's own group (its instances launched, terminated, failing), under
# /aws/lambda/ but no function's (a function's name has no "/"): Lambda developer guide, "Managed Instances logs".
CAPACITY_PROVIDER_PREFIX = "/aws/lambda/capacity-provider/"
# A Lambda stream: YYYY/MM/DD/[<version>]<id> in a function's own group; YYYY/MM/DD/<function>[<version>]<id> in
# a custom group, where it names the function.
LAMBDA_STREAM = re.compile(r"^\d{4}/\d{2}/\d{2}/(?P<function>[^\[\]/]*)\[(?P<version>[^\]]+)\]")


class Verdict(StrEnum):
    INCLUDED = "included"
    NOT_INCLUDED = "not_included"  # outside INCLUDE_PREFIXES, and no function's custom group
    EXCLUDED = "excluded"  # matches an EXCLUDE glob
    OWN = "own"  # one of this stack's groups: never, whatever the settings
    LOGSHIP = "logship"  # tagged as a group of a logship stack (this one or another): never, whatever the settings


def named_like_logship(name: str) -> bool:
    """Could ``name`` be a logship function's group? Only these cost a look at their tags; others nothing."""
    return name.endswith(_SUSPECT_ENDINGS)


def tagged_as_logship(tags: Mapping[str, str]) -> bool:
    """A group tagged ``logship:stack`` belongs to a logship stack: subscribing it would make a shipper feed
    on a shipper's logs, for ever."""
    return STACK_TAG in tags


@dataclass(frozen=True, slots=True)
class Selection:
    """``Selection(("/aws/lambda/",), ("/aws/lambda/legacy-*",), own).verdict("/aws/lambda/orders")``.

    With ``function_groups``, a custom group Lambda functions log to (``writers``: their names) is selected
    too, wherever it is named; under ``/aws/lambda/`` the prefixes alone decide, so narrowing them still
    narrows what is shipped.
    """

    include_prefixes: tuple[str, ...] = ("/aws/lambda/",)
    exclude: tuple[str, ...] = ()
    own_groups: frozenset[str] = frozenset()
    function_groups: bool = False

    def verdict(self, name: str, writers: Collection[str] = ()) -> Verdict:
        if name in self.own_groups:
            return Verdict.OWN
        if not (name.startswith(self.include_prefixes) or self.custom_group_of_functions(name, writers)):
            return Verdict.NOT_INCLUDED
        if any(fnmatchcase(name, glob) for glob in self.exclude):
            return Verdict.EXCLUDED
        return Verdict.INCLUDED

    def delivered(self, group: str, stream: str) -> Verdict:
        """A batch an account policy delivered (it delivers every group): what a sweep would decide, from names
        alone. A custom group's writer is the function its stream names; no tags are read in the shipper, so a
        group or function named like a logship function's is taken for one (never shipped)."""
        match = LAMBDA_STREAM.match(stream)
        writers = (match["function"],) if match and match["function"] else ()
        verdict = self.verdict(group, writers)
        if verdict is Verdict.INCLUDED and (named_like_logship(group) or any(map(named_like_logship, writers))):
            return Verdict.LOGSHIP
        return verdict

    def custom_group_of_functions(self, name: str, writers: Collection[str]) -> bool:
        """Selected as a custom group functions log to, not by name."""
        return self.function_groups and bool(writers) and not name.startswith(LAMBDA_PREFIX)

    def why(self, name: str, writers: Collection[str] = ()) -> str:
        """Why ``name`` gets the verdict it gets, for a person: which setting, which glob.

        >>> Selection(exclude=("/aws/lambda/legacy-*",)).why("/aws/lambda/legacy-report")
        'excluded by ExcludeLogGroups: /aws/lambda/legacy-*'
        """
        verdict = self.verdict(name, writers)
        if verdict is Verdict.OWN:
            return "one of this stack's own log groups (never shipped: the shipper would ship its own logs)"
        if verdict is Verdict.NOT_INCLUDED:
            return f"outside IncludePrefixes: {', '.join(self.include_prefixes)}"
        if verdict is Verdict.EXCLUDED:
            return f"excluded by ExcludeLogGroups: {next(g for g in self.exclude if fnmatchcase(name, g))}"
        if not name.startswith(self.include_prefixes):
            return f"selected: the log group of {', '.join(sorted(writers))} (FunctionLogGroups)"
        return f"selected: starts with {next(p for p in self.include_prefixes if name.startswith(p))}"

    def listing_prefixes(self) -> tuple[str, ...]:
        """The prefixes to page DescribeLogGroups with: one covering another is dropped, so no group is seen twice."""
        ordered = sorted(set(self.include_prefixes))
        kept: list[str] = []
        for prefix in ordered:
            if not any(prefix.startswith(shorter) for shorter in kept):
                kept.append(prefix)
        return tuple(kept)
