"""reconcile-subscriptions: subscribe every selected group (install, schedule), remove our filters (uninstall)."""

from __future__ import annotations

from functools import cache
from typing import Any

from logship.subscribe.reconcile import handle
from logship.subscribe.subscriber import Subscriber

# Built on first use, not at import: a bad setting must still reach CloudFormation as a FAILED answer.
_subscriber = cache(Subscriber.from_env)


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return handle(event, context, _subscriber)
