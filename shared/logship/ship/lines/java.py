"""Java: aws-lambda-java-log4j2's pattern ``<date> <time> <request id> <LEVEL> <class>[:<line>] - <message>``
(the JSON log format's ``AWSRequestId`` is read with the other JSON keys), and stack traces printed one
event per line (``e.printStackTrace()``, stdout loggers): ``java.lang.X: message``, ``\\tat ...``,
``Caused by: ...``, ``\\t... 12 more``."""

from __future__ import annotations

import re

from logship.ship.lines.common import Fields
from logship.ship.lines.family import DIGITS, HEX, Family, Lines
from logship.ship.lines.runtime import runtime_body

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


def _log4j_line(text: str, lines: Lines) -> tuple[str, Fields] | None:
    match = _LOG4J.match(text)
    if not match:
        return None
    _ts, request_id, level, body = match.groups()
    return _with_logger(text, body, level, request_id, lines)


def _slf4j_line(text: str, lines: Lines) -> tuple[str, Fields] | None:
    if text[8:9] != "-" or text[36:37] != " ":
        return None
    match = _SLF4J.match(text)
    if not match:
        return None
    request_id, level, body = match.groups()
    return _with_logger(text, body, level, request_id, lines)


def _with_logger(text: str, body: str, level: str, request_id: str | None, lines: Lines) -> tuple[str, Fields]:
    """The message is what the code logged; the logger (and its line) go to ``log.logger`` (``log.origin``)."""
    logger = _LOGGER.match(body)
    if not logger:
        return runtime_body(text, body, level, request_id, lines)
    message, fields = runtime_body(text, body[logger.end():], level, request_id, lines)
    log = fields.setdefault("log", {})
    log["logger"] = logger[1]
    if logger[2]:
        log["origin"] = {"file": {"line": int(logger[2])}}
    return message, fields


def _uncaught_line(text: str, _lines: Lines) -> tuple[str, Fields]:
    """An error whatever printed it: the thread died of it (its stack may follow in this event, or in the next)."""
    match = _UNCAUGHT.match(text)
    if not match:
        return text, {}
    error: Fields = {"type": match[1], "message": match[2] or ""}
    if match[3]:
        error["stack_trace"] = text
    return text, {"log": {"level": "ERROR"}, "error": error}


LOG4J = Family("Java: aws-lambda-java-log4j2", _log4j_line, first=DIGITS, continues=CONTINUATION)
SLF4J = Family("Java: slf4j-aws-lambda", _slf4j_line, first=HEX)
UNCAUGHT_LINE = Family("Java: Exception in thread", _uncaught_line, starts=(UNCAUGHT,))
