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
CONTINUATION = ("\tat ", "\t... ", "Caused by: ", "\tCaused by: ", "Suppressed: ", "\tSuppressed: ")


def log4j_line(text: str, json_lines: JsonLines) -> tuple[str, Fields] | None:
    match = _LOG4J.match(text)
    if not match:
        return None
    _ts, request_id, level, body = match.groups()
    return runtime_body(text, body, level, request_id, json_lines)


def slf4j_line(text: str, json_lines: JsonLines) -> tuple[str, Fields] | None:
    if text[8:9] != "-" or text[36:37] != " ":
        return None
    match = _SLF4J.match(text)
    if not match:
        return None
    request_id, level, body = match.groups()
    return runtime_body(text, body, level, request_id, json_lines)
