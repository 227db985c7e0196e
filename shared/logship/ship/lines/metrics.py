"""``MONITORING|epoch|value|unit|name`` custom metric lines (README, "Custom metrics")."""

from __future__ import annotations

import math
import re

from logship.ship.lines.common import Fields
from logship.ship.lines.family import Family, Lines

PREFIX = "MONITORING|"
_MONITORING = re.compile(r"MONITORING\|(\d+(?:\.\d+)?)\|([-+]?[\d.]+(?:[eE][-+]?\d+)?)\|([^|]*)\|([^|\s]+)")


def monitoring(text: str) -> Fields:
    match = _MONITORING.match(text)
    if not match:
        return {}
    epoch, value, unit, name = match.groups()
    try:
        number, seconds = float(value), float(epoch)
    except ValueError:  # "1.2.3" passes the pattern
        return {}
    if not (math.isfinite(number) and math.isfinite(seconds)):  # 1e999, or 400 digits
        return {}
    return {"event": {"action": "metric"},
            "metric": {"name": name, "value": number, "unit": unit.strip() or "None",
                       "timestamp_ms": int(seconds * 1000)}}


def _monitoring_line(text: str, _lines: Lines) -> tuple[str, Fields]:
    return text, monitoring(text)


MONITORING = Family("MONITORING| custom metrics", _monitoring_line, starts=(PREFIX,))
