"""subscribe-log-group: a CloudTrail CreateLogGroup event -> logship's subscription filter on the new group."""

from __future__ import annotations

from functools import cache
from typing import Any

from logship.subscribe.created_groups import subscribe_created_group
from logship.subscribe.subscriber import Subscriber

_subscriber = cache(Subscriber.from_env)  # settings and clients once per cold start, on first use


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return subscribe_created_group(event, _subscriber(), remaining_ms=context.get_remaining_time_in_millis)
