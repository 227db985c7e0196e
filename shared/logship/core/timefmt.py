"""Epoch milliseconds to the strings OpenSearch wants, fast: days are formatted once, not per event."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache

_MS_PER_DAY = 86_400_000


@lru_cache(maxsize=64)
def _day(day_number: int) -> tuple[str, str]:
    day = datetime.fromtimestamp(day_number * 86_400, UTC)
    return day.strftime("%Y-%m-%d"), day.strftime("%Y.%m.%d")


def iso_millis(epoch_ms: int) -> str:
    """``1700000000123`` -> ``'2023-11-14T22:13:20.123Z'`` (ISO 8601, UTC, milliseconds)."""
    day_number, rest = divmod(epoch_ms, _MS_PER_DAY)
    hours, rest = divmod(rest, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds, millis = divmod(rest, 1000)
    return f"{_day(day_number)[0]}T{hours:02d}:{minutes:02d}:{seconds:02d}.{millis:03d}Z"


def index_day(epoch_ms: int) -> str:
    """The ``YYYY.MM.DD`` suffix of the daily index an event belongs to, from its own UTC timestamp."""
    return _day(epoch_ms // _MS_PER_DAY)[1]


MILLIS_Z = tuple(b".%03dZ" % millis for millis in range(1000))  # the end of an ISO time, by millisecond


def iso_second(seconds: int) -> bytes:
    """``YYYY-MM-DDTHH:MM:SS`` of an epoch second, as bytes (:data:`MILLIS_Z` completes it)."""
    return iso_millis(seconds * 1000)[:19].encode()
