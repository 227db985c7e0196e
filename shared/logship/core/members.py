"""How a member account's deliveries say which region they come from, in a central account.

A subscription payload names its owner (the account) but not its region, and a central stream takes the
deliveries of every region's destination. A member stack's filters (and its account policy) are therefore named
``<name>@<region>``; the payload lists that name in ``subscriptionFilters``, so ship-logs can give each document
the region its log group is in. A name without the suffix is the shipper's own region's.
"""

from __future__ import annotations

import re
from typing import Any

_REGION = re.compile(r"@([a-z]{2}(?:-[a-z]+)+-\d{1,2})$")  # template.yaml names a member's filters so


def named_region(name: str) -> str:
    """The region a member filter's name gives, or "" for a name without one."""
    match = _REGION.search(name)
    return match.group(1) if match else ""


def delivery_region(filter_names: Any) -> str:
    """The region a payload's ``subscriptionFilters`` give, or "" (then the shipper's region is the group's)."""
    if isinstance(filter_names, list):
        for name in filter_names:
            if isinstance(name, str) and (region := named_region(name)):
                return region
    return ""
