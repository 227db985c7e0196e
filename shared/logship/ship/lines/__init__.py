"""One Lambda log line -> its searchable message and the structured fields it carries.

Pure functions: no I/O, never raises on any input. One module per family (see docs/fields.md), each family
registered once in ``table.FAMILIES``; :class:`LineParser` offers a line only to the families that may read a
line starting with its first character (family.py), so each line pays for a few families' checks only.
``stacks`` joins a stack trace spread over several events of one batch. Fields use ECS names, nested as objects.
"""

from __future__ import annotations

from collections.abc import Iterable

from logship.ship.lines.common import LEVELS, Fields, normalize_level
from logship.ship.lines.family import ANY, Family, Reader
from logship.ship.lines.json_lines import MAX_CORRELATION_KEYS, JsonLines
from logship.ship.lines.stacks import StackJoiner
from logship.ship.lines.table import FAMILIES

__all__ = ["LEVELS", "MAX_CORRELATION_KEYS", "Fields", "LineParser", "StackJoiner", "normalize_level"]

_Offer = tuple[tuple[tuple[str, ...], Reader], ...]


def _offers(families: tuple[Family, ...]) -> dict[str, _Offer]:
    """Per first character (ASCII), the families a line starting with it is offered, in table order, each with
    the starts to check first (none when the character alone admits the line)."""
    offers: dict[str, _Offer] = {}
    for code in range(128):
        character = chr(code)
        offered = ((family.offered(character), family.read) for family in families)
        offers[character] = tuple((starts, read) for starts, read in offered if starts is not None)
    return offers


_BY_FIRST = _offers(FAMILIES)
_PAST_ASCII: _Offer = tuple(((), family.read) for family in FAMILIES if family.first == ANY)


class LineParser:
    """Parses lines with a fixed configuration (correlation keys); build once per cold start."""

    def __init__(self, correlation_keys: Iterable[str] = ("correlation_id", "correlationId")) -> None:
        self.json = JsonLines(correlation_keys).parse

    def parse(self, line: str) -> tuple[str, Fields]:
        """Return ``(message, fields)``; ``message`` is the text a user reads, without the trailing newline.

        >>> LineParser().parse("[INFO]\\t2025-11-22T10:00:00.151Z\\tabc-1\\tReceived order\\n")[1]["log"]
        {'level': 'INFO'}
        """
        text = line.rstrip("\r\n")
        for starts, read in _BY_FIRST.get(text[:1], _PAST_ASCII):
            if starts and not text.startswith(starts):
                continue
            parsed = read(text, self)
            if parsed is not None:
                return parsed
        return text, {}
