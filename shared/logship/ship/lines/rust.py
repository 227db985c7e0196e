"""Rust: ``lambda_runtime`` with ``tracing`` (its default subscriber, the Lambda Web Adapter's too) writes
``<LEVEL> Lambda runtime invoke{requestId="..." xrayTraceId="Root=1-..."}: <message>``, the level padded to
five characters, with or without a time first; a panic is ``thread 'main' panicked at src/main.rs:4:5:`` and
its message on the next line (before Rust 1.73: ``panicked at 'message', src/main.rs:4:5``), then a note."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from logship.ship.lines.common import Fields
from logship.ship.lines.runtime import runtime_body

if TYPE_CHECKING:
    from logship.ship.lines.json_lines import JsonLines

# The time (when not left out), the level, then the spans the line was written in: "name{field=value ...}:".
_TRACING = re.compile(r"(?:\d{4}-\d\d-\d\dT[\d:.]+Z +)? *(TRACE|DEBUG|INFO|WARN|ERROR) "
                      r"((?:[\w :-]+\{[^{}\n]*\}:)+) ?(.*)", re.S)
_REQUEST_ID = re.compile(r'\brequestId="?([^"\s}]+)')
_TRACE_ID = re.compile(r'\bxrayTraceId="?(?:Root=)?([^";\s}]+)')
PANIC = "thread '"
_PANIC = re.compile(r"thread '[^']*' panicked at (?:'(.*)', )?([^\n]*?):?(?:\n(.*))?$", re.S)
# What follows a panic's message when each line is an event of its own.
CONTINUATION = ("note: run with `RUST_BACKTRACE", "stack backtrace:")


def tracing_line(text: str, json_lines: JsonLines) -> tuple[str, Fields] | None:
    match = _TRACING.match(text)
    if not match:
        return None
    level, spans, body = match.groups()
    message, fields = runtime_body(text, body, level, None, json_lines)
    request_id = _REQUEST_ID.search(spans)
    if request_id:
        fields.setdefault("faas", {}).setdefault("execution", request_id[1])
    trace = _TRACE_ID.search(spans)
    if trace:
        fields.setdefault("trace", {"id": trace[1]})
    return message, fields


def panic(text: str) -> Fields | None:
    """A panic: an error whose message is on the line after (an event of its own, which the stack joiner adds),
    or in the line itself in one event (or quoted, before Rust 1.73)."""
    match = _PANIC.match(text)
    if not match:
        return None
    quoted, _location, rest = match.groups()
    error: Fields = {"type": "panic"}
    message = quoted if quoted is not None else (rest.partition("\n")[0] if rest else None)
    if message is not None:
        error["message"] = message
    if "\n" in text:
        error["stack_trace"] = text
    return {"log": {"level": "ERROR"}, "error": error}
