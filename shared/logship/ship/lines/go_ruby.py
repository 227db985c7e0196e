"""Go (the ``log`` package's ``2006/01/02 15:04:05 message``, panics) and Ruby (``Logger``'s default format,
which the Lambda runtime gives the request id, and the runtime's own error lines)."""

from __future__ import annotations

import re

from logship.ship.lines.common import Fields
from logship.ship.lines.family import DIGITS, Family, Lines
from logship.ship.lines.runtime import runtime_body

_GO_LOG = re.compile(r"\d{4}/\d\d/\d\d \d\d:\d\d:\d\d(?:\.\d{1,9})? (.*)", re.S)
# "I, [2019-10-26T10:04:01.689856 #8]  INFO 6573a3a0-... -- : message" (no request id outside Lambda).
_RUBY_LOGGER = re.compile(r"[DIWEFA], \[[^\]]*\] +([A-Z]+) +(?:([\w-]+) +)?-- [^:]*: ?(.*)", re.S)
GO_PANIC = "panic: "
# aws-lambda-go's line when a handler panics (provided.al2023 prints no trace).
GO_HANDLER_PANIC = "calling the handler function resulted in a panic"
# A Go panic's trace, one event per line: "goroutine 1 [running]:", "main.handler(...)", "\t/var/task/x.go:12".
_GO_FRAME = re.compile(r"goroutine \d+ \[|\[signal |created by |[\w./*()\[\]-]+\(.*\)$")
# Ruby's backtrace lines when printed one per event: "/var/task/function.rb:3:in `first'".
_RUBY_FRAME = re.compile(r"\S+\.rb:\d+:in ")


def _go_log_line(text: str, lines: Lines) -> tuple[str, Fields] | None:
    match = _GO_LOG.match(text) if text[4:5] == "/" else None
    if not match:
        return None
    return runtime_body(text, match[1], None, None, lines)


def _ruby_logger_line(text: str, lines: Lines) -> tuple[str, Fields] | None:
    match = _RUBY_LOGGER.match(text)
    if not match:
        return None
    level, request_id, body = match.groups()
    return runtime_body(text, body, level, request_id, lines)


def _go_panic_line(text: str, _lines: Lines) -> tuple[str, Fields]:
    """``panic: runtime error: invalid memory address or nil pointer dereference``: the process dies."""
    first = text.partition("\n")[0]
    fields: Fields = {"log": {"level": "ERROR"}, "error": {"type": "panic", "message": first[len(GO_PANIC):]}}
    if "\n" in text:
        fields["error"]["stack_trace"] = text
    return text, fields


def _handler_panic_line(text: str, _lines: Lines) -> tuple[str, Fields]:
    return text, {"log": {"level": "ERROR"}, "error": {"type": "panic", "message": text}}



GO_LOG = Family("Go: the log package", _go_log_line, first=DIGITS)
RUBY_LOGGER = Family("Ruby: Logger", _ruby_logger_line, starts=tuple(f"{letter}, [" for letter in "DIWEFA"),
                     frames=_RUBY_FRAME)
GO_HANDLER_PANIC_LINE = Family("Go: aws-lambda-go's handler panic", _handler_panic_line, starts=(GO_HANDLER_PANIC,))
GO_PANIC_LINE = Family("Go: panic", _go_panic_line, starts=(GO_PANIC,), frames=_GO_FRAME)
