"""``--since`` values: a duration back from now (``90s``, ``15m``, ``1h``, ``2d``, ``1w``) or a UTC date/time."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from typing import Any

import click

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800}
_DURATION = re.compile(r"^(\d+)([smhdw])$")


def parse_since(text: str, now: float | None = None) -> int:
    """Epoch milliseconds for ``text``: ``parse_since("1h")`` is an hour ago; ``"2025-11-22"`` is that UTC midnight.

    Raises ValueError with what is accepted.
    """
    text = text.strip()
    match = _DURATION.match(text)
    if match:
        seconds = int(match[1]) * _UNITS[match[2]]
        return int(((time.time() if now is None else now) - seconds) * 1000)
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{text!r} is neither a duration (30s, 15m, 1h, 2d, 1w) nor a date (2025-11-22, "
                         "2025-11-22T10:00:00Z)") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)  # documents are stamped in UTC
    return int(moment.timestamp() * 1000)


class Since(click.ParamType):
    """A click type: the option's value as epoch milliseconds."""

    name = "SINCE"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int):
            return value
        try:
            return parse_since(str(value))
        except ValueError as exc:
            self.fail(str(exc), param, ctx)

