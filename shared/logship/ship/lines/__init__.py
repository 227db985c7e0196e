"""One Lambda log line -> its searchable message and the structured fields it carries.

Pure functions: no I/O, never raises on any input. One module per family (see docs/fields.md):
``platform`` (START, END, REPORT, INIT_REPORT, timeouts, runtime exits, JSON ``platform.*`` records),
``python``, ``node`` (Node.js, and .NET's and pino-lambda's same tab-separated shape), ``dotnet``, ``java``,
``go_ruby``, ``rust`` (tracing spans, panics), ``extensions`` (Datadog's extension, NestJS, extensions naming
themselves), ``json_lines`` (JSON log format, Powertools, pino, bunyan, winston, structlog, slog, ...) and
``metrics`` (``MONITORING|...``). :class:`LineParser` picks the family from the line's first character,
so each line pays for one family's patterns only. ``stacks`` joins a stack trace spread over several
events of one batch. Fields use ECS names, nested as objects.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from logship.ship.lines import extensions, go_ruby, java, node, platform, python, rust
from logship.ship.lines.common import EXCEPTION, LEVELS, Fields, error_from_text, error_object, normalize_level
from logship.ship.lines.go_ruby import GO_HANDLER_PANIC, GO_PANIC
from logship.ship.lines.json_lines import MAX_CORRELATION_KEYS, JsonLines
from logship.ship.lines.metrics import PREFIX as MONITORING
from logship.ship.lines.metrics import monitoring
from logship.ship.lines.runtime import ERROR_PREFIXES
from logship.ship.lines.stacks import StackJoiner

__all__ = ["LEVELS", "MAX_CORRELATION_KEYS", "Fields", "LineParser", "StackJoiner", "normalize_level"]

_LAMBDA_WARNING = python.UNHANDLED
# Rust's tracing pads its level to five characters: " INFO", " WARN" start with a space, the others not.
_TRACING_LEVELS = ("ERROR ", "DEBUG ", "TRACE ")
_PADDED_LEVELS = (" INFO ", " WARN ")
# How every line _upper_line recognises starts (Ruby's "I, [" aside): most text lines start with none of them.
_UPPER_PREFIXES = (MONITORING, *platform.PREFIXES, _LAMBDA_WARNING, *ERROR_PREFIXES, python.IMPORT_ERROR,
                   *_TRACING_LEVELS, extensions.DATADOG)
# How a line a process writes as it dies starts: a Go panic, a Rust panic, Java's uncaught exception.
_DEATHS = (GO_PANIC, rust.PANIC, java.UNCAUGHT)
# A terminal colour: ESC [ parameters m.
_COLOUR = re.compile(r"\x1b\[[0-9;]*m")


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
            return python.bracket_line(text, self._json) or extensions.bracketed_line(text, self._json) or (text, {})
        if first.isdigit():
            return self._digit_line(text)
        if first.isupper():
            return self._upper_line(text)
        if first == "\x1b":
            return self._coloured_line(text)
        if first == " " and text.startswith(_PADDED_LEVELS):
            parsed = rust.tracing_line(text, self._json)
            if parsed:
                return parsed
        return text, _bare_line(text)

    def _coloured_line(self, text: str) -> tuple[str, Fields]:
        """A line in terminal colours (NestJS, chalk): read and searched without its escape codes."""
        plain = _COLOUR.sub("", text)
        if plain == text or plain[:1] == "\x1b":
            return text, {}
        message, fields = self.parse(plain)
        fields.setdefault("event", {})["original"] = text
        return message, fields

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
            parsed = extensions.datadog_line(text, self._json) if text[19:26] == extensions.DATADOG_TIME else None
            if parsed:
                return parsed
            parsed = rust.tracing_line(text, self._json) if text[10:11] == "T" else None
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
        """Lambda's own words, Ruby's ``Logger``, the runtimes' error lines, Rust's tracing, then anything else."""
        fields = platform.invocation_line(text)
        if fields is not None:
            return text, fields
        if text.startswith(_UPPER_PREFIXES) or text[1:4] == ", [" or platform.RUNTIME_EXITED in text:
            parsed = self._prefixed_line(text)
            if parsed:
                return parsed
        return text, _bare_line(text)  # none of them: the checks in _prefixed_line would all fail

    def _prefixed_line(self, text: str) -> tuple[str, Fields] | None:
        """A line starting with one of :data:`_UPPER_PREFIXES` (or Ruby's, or a runtime's exit): its reading."""
        if text.startswith(MONITORING):
            return text, monitoring(text)
        parsed = rust.tracing_line(text, self._json) if text.startswith(_TRACING_LEVELS) else None
        if parsed:
            return parsed
        fields = platform.platform_line(text)
        if fields is not None:
            return text, fields
        if text[1:4] == ", [":
            return go_ruby.ruby_logger_line(text, self._json)
        if text.startswith(_LAMBDA_WARNING):  # the runtime's hint after an unhandled exception, and the error
            return text, python.unhandled(text)
        if text.startswith(ERROR_PREFIXES):  # Ruby's runtime: "Error raised from handler method\n{...}"
            fields = {"log": {"level": "ERROR"}}
            error_object(text, fields)
            return text, fields
        if text.startswith(python.IMPORT_ERROR):
            return text, python.import_error(text)
        return extensions.datadog_line(text, self._json) if text.startswith(extensions.DATADOG) else None


def _bare_line(text: str) -> Fields:
    """A line without a runtime prefix: a Go panic, a python2.7/3.6 uncaught error, or an exception line."""
    if text.startswith(GO_HANDLER_PANIC):
        return {"log": {"level": "ERROR"}, "error": {"type": "panic", "message": text}}
    if ":" not in text and "." not in text:  # most text: none of the below can match (a "panic: " has a colon)
        return {}
    if text.startswith(_DEATHS):
        return _death(text)
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


def _death(text: str) -> Fields:
    if text.startswith(GO_PANIC):
        return go_ruby.go_panic(text)
    return (rust.panic(text) if text.startswith(rust.PANIC) else java.uncaught(text)) or {}


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
