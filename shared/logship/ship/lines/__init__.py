"""One Lambda log line -> its searchable message and the structured fields it carries.

Pure functions: no I/O, never raises on any input. One module per family (see README, "Fields"):
``platform`` (START, END, REPORT, INIT_REPORT, timeouts, runtime exits, JSON ``platform.*`` records),
``python``, ``node`` (Node.js, and .NET's and pino-lambda's same tab-separated shape), ``dotnet``, ``java``,
``go_ruby``, ``json_lines`` (JSON log format, Powertools, pino, bunyan, winston, structlog, ...) and
``metrics`` (``MONITORING|...``). :class:`LineParser` picks the family from the line's first character,
so each line pays for one family's patterns only. ``stacks`` joins a stack trace spread over several
events of one batch. Fields use ECS names, nested as objects.
"""

from __future__ import annotations

from collections.abc import Iterable

from logship.ship.lines import go_ruby, java, node, platform, python
from logship.ship.lines.common import EXCEPTION, LEVELS, Fields, error_from_text, error_object, normalize_level
from logship.ship.lines.go_ruby import GO_HANDLER_PANIC, GO_PANIC
from logship.ship.lines.json_lines import MAX_CORRELATION_KEYS, JsonLines
from logship.ship.lines.metrics import PREFIX as MONITORING
from logship.ship.lines.metrics import monitoring
from logship.ship.lines.runtime import ERROR_PREFIXES
from logship.ship.lines.stacks import StackJoiner

__all__ = ["LEVELS", "MAX_CORRELATION_KEYS", "Fields", "LineParser", "StackJoiner", "normalize_level"]

_LAMBDA_WARNING = "LAMBDA_WARNING: "
# How every line _upper_line recognises starts (Ruby's "I, [" aside): most text lines start with none of them.
_UPPER_PREFIXES = (MONITORING, *platform.PREFIXES, _LAMBDA_WARNING, *ERROR_PREFIXES, python.IMPORT_ERROR)


class LineParser:
    """Parses lines with a fixed configuration (correlation keys); build once per cold start."""

    def __init__(self, correlation_keys: Iterable[str] = ("correlation_id", "correlationId")) -> None:
        self._json = JsonLines(correlation_keys)

    def parse(self, line: str) -> tuple[str, Fields]:
        """Return ``(message, fields)``; ``message`` is the text a user reads, without the trailing newline.

        >>> LineParser().parse("[INFO]\\t2025-11-22T10:00:00.151Z\\tabc-1\\tReceived order\\n")[1]["log"]
        {'level': 'INFO'}
        """
        text = line.rstrip("\r\n")
        first = text[:1]
        if first.islower():  # plain text mostly: none of the families below starts so
            parsed = java.slf4j_line(text, self._json) if text[8:9] == "-" else None  # a request id starting a-f
            return parsed or (text, _bare_line(text))
        if first == "{":
            return self._json.parse(text, text)
        if first == "[":
            return python.bracket_line(text, self._json)
        if first.isdigit():
            return self._digit_line(text)
        if first.isupper():
            return self._upper_line(text)
        return text, _bare_line(text)

    def _digit_line(self, text: str) -> tuple[str, Fields]:
        """Node/.NET/pino ``<ISO time>\\t``, timeouts, log4j ``<date> <time>``, Go ``<date>/``, python3.6."""
        if text[4:5] == "-":
            parsed = node.tab_line(text, self._json)
            if parsed:
                return parsed
            timeout = platform.timeout_line(text) if " Task timed out after " in text else None
            if timeout:
                return text, timeout
            parsed = java.log4j_line(text, self._json)
            if parsed:
                return parsed
        elif text[4:5] == "/":
            parsed = go_ruby.go_log_line(text, self._json)
            if parsed:
                return parsed
        else:
            bootstrap = text[2:3] == " " or text[1:2] == " "  # "26 Jan 2022 ...", "6 Jan 2022 ..."
            parsed = (python.bootstrap_line(text, self._json) if bootstrap else None) or java.slf4j_line(
                text, self._json)
            if parsed:
                return parsed
        return text, _bare_line(text)

    def _upper_line(self, text: str) -> tuple[str, Fields]:
        """Lambda's own words, Ruby's ``Logger``, the runtimes' error lines, then anything else."""
        fields = platform.invocation_line(text)
        if fields is not None:
            return text, fields
        if not (text.startswith(_UPPER_PREFIXES) or text[1:4] == ", [" or platform.RUNTIME_EXITED in text):
            return text, _bare_line(text)  # none of them: the checks below would all fail
        if text.startswith(MONITORING):
            return text, monitoring(text)
        fields = platform.platform_line(text)
        if fields is not None:
            return text, fields
        if text[1:4] == ", [":
            parsed = go_ruby.ruby_logger_line(text, self._json)
            if parsed:
                return parsed
        if text.startswith(_LAMBDA_WARNING):  # the runtime's hint after an unhandled exception
            return text, {"log": {"level": "WARN"}}
        if text.startswith(ERROR_PREFIXES):  # Ruby's runtime: "Error raised from handler method\n{...}"
            fields = {"log": {"level": "ERROR"}}
            error_object(text, fields)
            return text, fields
        if text.startswith(python.IMPORT_ERROR):
            return text, python.import_error(text)
        return text, _bare_line(text)


def _bare_line(text: str) -> Fields:
    """A line without a runtime prefix: a Go panic, a python2.7/3.6 uncaught error, or an exception line."""
    if text.startswith(GO_HANDLER_PANIC):
        return {"log": {"level": "ERROR"}, "error": {"type": "panic", "message": text}}
    if ":" not in text and "." not in text:  # most text: none of the below can match (a "panic: " has a colon)
        return {}
    if text.startswith(GO_PANIC):
        return go_ruby.go_panic(text)
    first, multiline = text, "\n" in text
    if multiline:
        first = text.partition("\n")[0]
        if ":" not in first and "." not in first:  # neither "Type: message" nor a qualified class name
            return {}
        old = python.old_uncaught(text)
        if old:
            return old
    if first.islower() or first.split(" ", 1)[0].islower():  # no capital in the first word: it names no Error...
        return {}
    return _exception_line(text, first, multiline)


def _exception_line(text: str, first: str, multiline: bool) -> Fields:
    """``KeyError: 'id'`` or ``java.lang.Throwable`` first, and then, in one event, maybe its stack."""
    match = EXCEPTION.match(first)
    if not (match and (match[2] is not None or "." in match[1])):
        return {}
    fields: Fields = {"error": {"type": match[1], "message": match[2] or ""}}
    if multiline:  # the exception with its stack in one event: an error, whatever printed it
        error_from_text(text, fields)
        if "stack_trace" in fields["error"]:
            fields["log"] = {"level": "ERROR"}
    return fields
