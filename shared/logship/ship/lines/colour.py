"""Lines in terminal colours (NestJS, chalk): read and searched without their escape codes."""

from __future__ import annotations

import re

from logship.ship.lines.common import Fields
from logship.ship.lines.family import Family, Lines

# A terminal colour: ESC [ parameters m.
_COLOUR = re.compile(r"\x1b\[[0-9;]*m")


def _coloured_line(text: str, lines: Lines) -> tuple[str, Fields]:
    plain = _COLOUR.sub("", text)
    if plain == text or plain[:1] == "\x1b":
        return text, {}
    message, fields = lines.parse(plain)
    fields.setdefault("event", {})["original"] = text
    return message, fields


COLOURED = Family("terminal colours", _coloured_line, first="\x1b")
