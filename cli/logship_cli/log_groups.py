"""The log groups a stack's selection covers, as DescribeLogGroups pages them: for the commands that walk them all
in one go (the sweep in the layer pages resumably, across invocations)."""

from __future__ import annotations

from typing import Any


def every_listed_group(subscriber: Any) -> list[dict[str, Any]]:
    """Every group under the selection's listing prefixes (none listed twice), page after page."""
    groups: list[dict[str, Any]] = []
    for prefix in subscriber.selection.listing_prefixes():
        token = None
        while True:
            page, token = subscriber.filters.list_groups(prefix, token)
            groups += page
            if not token:
                break
    return groups
