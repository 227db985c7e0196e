"""Java: aws-lambda-java-log4j2's pattern ``<date> <time> <request id> <LEVEL> <class>[:<line>] - <message>``
(the JSON log format's ``AWSRequestId`` is read with the other JSON keys), and stack traces printed one
event per line (``e.printStackTrace()``, stdout loggers): ``java.lang.X: message``, ``\\tat ...``,
``Caused by: ...``, ``\\t... 12 more``."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from logship.ship.lines.common import Fields
from logship.ship.lines.runtime import runtime_body

if TYPE_CHECKING:
    from logship.ship.lines.json_lines import JsonLines

# The request id is empty outside a request (two spaces), and some patterns wrap it: "<%X{AWSRequestId}>".
_LOG4J = re.compile(r"(\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(?:[.,]\d{1,9})?)\s+(?:<?([\w-]+)>?\s+)??"
                    r"(TRACE|DEBUG|INFO|WARN|WARNING|ERROR|FATAL|SEVERE)\s+(.*)", re.S)
# slf4j-aws-lambda's default: "<request id> <LEVEL> <logger> - <message>" (the request id leads the line).
_SLF4J = re.compile(r"([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}) "
                    r"(TRACE|DEBUG|INFO|WARN|ERROR) (.*)", re.S)
# An exception no code caught, as the JVM prints it: 'Exception in thread "main" java.lang.Error: message'.
UNCAUGHT = 'Exception in thread "'
_UNCAUGHT = re.compile(r'Exception in thread "[^"\n]*" ([A-Za-z_$][\w$.]*)(?:: ?([^\n]*))?(?:\n(.*))?$', re.S)
# The logger the patterns print before the message: log4j2's "%c{1}:%L - " (Handler:56), slf4j's "<logger> - ".
_LOGGER = re.compile(r"([A-Za-z_$][\w$.]*)(?::(\d+))? - ")
CONTINUATION = ("\tat ", "\t... ", "Caused by: ", "\tCaused by: ", "Suppressed: ", "\tSuppressed: ")


def log4j_line(text: str, json_lines: JsonLines) -> tuple[str, Fields] | None:
    match = _LOG4J.match(text)
    if not match:
        return None
    _ts, request_id, level, body = match.groups()
    return _with_logger(text, body, level, request_id, json_lines)


def slf4j_line(text: str, json_lines: JsonLines) -> tuple[str, Fields] | None:
    if text[8:9] != "-" or text[36:37] != " ":
        return None
    match = _SLF4J.match(text)
    if not match:
        return None
    request_id, level, body = match.groups()
    return _with_logger(text, body, level, request_id, json_lines)


def _with_logger(text: str, body: str, level: str, request_id: str | None,
                 json_lines: JsonLines) -> tuple[str, Fields]:
    """The message is what the code logged; the logger (and its line) go to ``log.logger`` (``log.origin``)."""
    logger = _LOGGER.match(body)
    if not logger:
        return runtime_body(text, body, level, request_id, json_lines)
    message, fields = runtime_body(text, body[logger.end():], level, request_id, json_lines)
    log = fields.setdefault("log", {})
    log["logger"] = logger[1]
    if logger[2]:
        log["origin"] = {"file": {"line": int(logger[2])}}
    return message, fields


def uncaught(text: str) -> Fields | None:
    """An error whatever printed it: the thread died of it (its stack may follow in this event, or in the next)."""
    match = _UNCAUGHT.match(text)
    if not match:
        return None
    error: Fields = {"type": match[1], "message": match[2] or ""}
    if match[3]:
        error["stack_trace"] = text
    return {"log": {"level": "ERROR"}, "error": error}
