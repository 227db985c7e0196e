"""The text after a runtime's prefix (level, request id): plain text, a JSON object, an error, or a metric."""

from __future__ import annotations

from logship.ship.lines.common import Fields, error_from_text, error_object, set_level
from logship.ship.lines.family import Family, Lines
from logship.ship.lines.metrics import PREFIX as MONITORING
from logship.ship.lines.metrics import monitoring

# Bodies the runtimes write before an error object: Node (invoke errors, uncaught exceptions and rejections,
# also at init), Ruby (handler and init errors).
ERROR_PREFIXES = ("Invoke Error", "Uncaught Exception", "Unhandled Promise Rejection",
                  "Error raised from handler method", "Init error when loading handler")
_SPACE = " \t\r\n"


def runtime_body(text: str, body: str, level: str | None, request_id: str | None,
                 lines: Lines) -> tuple[str, Fields]:
    """``text`` is the whole line (kept in ``event.original``), ``body`` the part after the prefix."""
    start = body.lstrip(_SPACE) if body[:1] in _SPACE else body  # .NET Powertools: "info\n{...}"
    fields: Fields = {}
    message = body
    if start[:1] == "{":
        message, fields = lines.json(start, text)
        if "json" not in fields:
            message = body
    elif body.startswith(ERROR_PREFIXES):
        error_object(body, fields)
    elif body.startswith(MONITORING):
        fields = monitoring(body)
    elif "\t{" in body and body[-1:] == "}":  # pino-lambda: "message\t{...the record...}"
        cut = body.index("\t{")
        message, fields = lines.json(body[cut + 1:], text)
        message = body[:cut] if "json" in fields else body
    if not fields:
        error_from_text(body, fields)
    fields.setdefault("event", {}).setdefault("original", text)
    set_level(fields, level)
    if request_id and request_id != "undefined":
        fields.setdefault("faas", {}).setdefault("execution", request_id)
    return message, fields


def _error_line(text: str, _lines: Lines) -> tuple[str, Fields]:
    """A runtime's error line without a prefix before it (Node's during init, Ruby's): its error object."""
    fields: Fields = {"log": {"level": "ERROR"}}
    error_object(text, fields)
    return text, fields


ERROR_LINE = Family("Node.js, Ruby: the runtime's error lines", _error_line, starts=ERROR_PREFIXES)
