"""Lines of Lambda extensions and frameworks that say their level in a shape of their own: Datadog's extension
(``DD_EXTENSION | ERROR | ...``), NestJS's logger (``[Nest] 17  - <date>     LOG [NestFactory] ...``) and the
extensions that name themselves in brackets before a Go ``log`` time (``[AWS Parameters and Secrets Lambda
Extension] 2024/01/15 10:00:00 INFO ...``, some of its lines without a level word). The level goes to
``log.level``, the writer to ``log.logger``."""

from __future__ import annotations

import re

from logship.ship.lines.common import Fields
from logship.ship.lines.family import DIGITS, Family, Lines
from logship.ship.lines.runtime import runtime_body

DATADOG = "DD_EXTENSION | "
# The Go extension (before v60) put its time first: "2022-06-22 09:57:55 UTC | DD_EXTENSION | DEBUG | ...".
DATADOG_TIME = " UTC | "
_DATADOG = re.compile(r"(?:\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC \| )?DD_EXTENSION \| ([A-Za-z]+) \| (.*)", re.S)
_NEST = re.compile(r"\[Nest\] \d+ +- [^\n]*? +(LOG|ERROR|WARN|DEBUG|VERBOSE|FATAL) \[([^\]\n]*)\] (.*)", re.S)
_NAMED = re.compile(r"\[([^\]\n]{3,80})\] (\d{4}[/-]\d\d[/-]\d\d[ T]\d\d:\d\d:\d\d(?:[.,]\d{1,9})?Z? )?"
                    r"(?:(TRACE|DEBUG|INFO|WARN|WARNING|ERROR|FATAL) )?(.*)", re.S)


def _datadog_line(text: str, lines: Lines) -> tuple[str, Fields] | None:
    match = _DATADOG.match(text) if text[:1] == "D" or text[19:26] == DATADOG_TIME else None
    return _written_by("DD_EXTENSION", text, match[2], match[1], lines) if match else None


def _bracketed_line(text: str, lines: Lines) -> tuple[str, Fields] | None:
    """NestJS, or an extension naming itself: ``[<name>] [<time>] <LEVEL> <message>``."""
    match = _NEST.match(text)
    if match:
        return _written_by(match[2], text, match[3], match[1], lines)
    match = _NAMED.match(text)
    if not match or not (match[2] or match[3]):  # a time or a level after the name: else any "[x] text"
        return None
    return _written_by(match[1], text, match[4], match[3], lines)  # some lines say no level ("... is not present")


def _written_by(logger: str, text: str, body: str, level: str | None, lines: Lines) -> tuple[str, Fields]:
    message, fields = runtime_body(text, body, level, None, lines)
    fields.setdefault("log", {})["logger"] = logger
    return message, fields


DATADOG_EXTENSION = Family("Datadog's extension", _datadog_line, starts=(DATADOG,), first=DIGITS)
BRACKETED = Family("NestJS, extensions naming themselves: [<name>] ...", _bracketed_line, first="[")
