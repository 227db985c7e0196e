"""A line no family reads that names an exception, whatever printed it: ``KeyError: 'id'``, ``java.lang.Throwable``,
and, in one event, maybe its stack. Tried last: most lines are plain text and leave at the first check."""

from __future__ import annotations

from logship.ship.lines.common import EXCEPTION, Fields, error_from_text
from logship.ship.lines.family import ANY, Family, Lines


def _exception_line(text: str, _lines: Lines) -> tuple[str, Fields]:
    if ":" not in text and "." not in text:  # neither "Type: message" nor a qualified class name
        return text, {}
    first, multiline = text, "\n" in text
    if multiline:
        first = text.partition("\n")[0]
        if ":" not in first and "." not in first:
            return text, {}
    if first.islower() or first.split(" ", 1)[0].islower():  # no capital in the first word: it names no Error...
        return text, {}
    match = EXCEPTION.match(first)
    if not (match and (match[2] is not None or "." in match[1])):
        return text, {}
    fields: Fields = {"error": {"type": match[1], "message": match[2] or ""}}
    if multiline:  # the exception with its stack in one event: an error, whatever printed it
        error_from_text(text, fields)
        if "stack_trace" in fields["error"]:
            fields["log"] = {"level": "ERROR"}
    return text, fields


EXCEPTION_LINE = Family("an exception line, whatever printed it", _exception_line, first=ANY)
