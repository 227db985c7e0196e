"""Rust: ``lambda_runtime`` with ``tracing`` (its default subscriber, the Lambda Web Adapter's too) writes
``<LEVEL> Lambda runtime invoke{requestId="..." xrayTraceId="Root=1-..."}: <message>``, the level padded to
five characters, with or without a time first; a panic is ``thread 'main' panicked at src/main.rs:4:5:`` and
its message on the next line (before Rust 1.73: ``panicked at 'message', src/main.rs:4:5``), then a note."""

from __future__ import annotations

import re

from logship.ship.lines.common import Fields
from logship.ship.lines.family import DIGITS, Family, Lines
from logship.ship.lines.runtime import runtime_body

# The time (when not left out), the level, then the spans the line was written in: "name{field=value ...}:".
_TRACING = re.compile(r"(?:\d{4}-\d\d-\d\dT[\d:.]+Z +)? *(TRACE|DEBUG|INFO|WARN|ERROR) "
                      r"((?:[\w :-]+\{[^{}\n]*\}:)+) ?(.*)", re.S)
_REQUEST_ID = re.compile(r'\brequestId="?([^"\s}]+)')
_TRACE_ID = re.compile(r'\bxrayTraceId="?(?:Root=)?([^";\s}]+)')
PANIC = "thread '"
_PANIC = re.compile(r"thread '[^']*' panicked at (?:'(.*)', )?([^\n]*?):?(?:\n(.*))?$", re.S)
# env_logger's default format, as the Lambda Insights agent (cloudwatch_lambda_agent) writes it:
# "[2023-02-06T13:15:45.700Z INFO  cloudwatch_lambda_agent::rapid::rapid_client] Registering the ... Extension."
_ENV_LOGGER = re.compile(r"\[(\d{4}-\d\d-\d\dT[\d:.]+Z) +(TRACE|DEBUG|INFO|WARN|ERROR) +([^\]\s]+)\] ?(.*)", re.S)
# What follows a panic's message when each line is an event of its own.
CONTINUATION = ("note: run with `RUST_BACKTRACE", "stack backtrace:")


def _tracing_line(text: str, lines: Lines) -> tuple[str, Fields] | None:
    match = _TRACING.match(text) if text[:1] not in DIGITS or text[10:11] == "T" else None
    if not match:
        return None
    level, spans, body = match.groups()
    message, fields = runtime_body(text, body, level, None, lines)
    request_id = _REQUEST_ID.search(spans)
    if request_id:
        fields.setdefault("faas", {}).setdefault("execution", request_id[1])
    trace = _TRACE_ID.search(spans)
    if trace:
        fields.setdefault("trace", {"id": trace[1]})
    return message, fields


def _env_logger_line(text: str, lines: Lines) -> tuple[str, Fields] | None:
    match = _ENV_LOGGER.match(text)
    if not match:
        return None
    _time, level, target, body = match.groups()
    message, fields = runtime_body(text, body, level, None, lines)
    fields.setdefault("log", {})["logger"] = target
    return message, fields


def _panic_line(text: str, _lines: Lines) -> tuple[str, Fields]:
    """A panic: an error whose message is on the line after (an event of its own, which the stack joiner adds),
    or in the line itself in one event (or quoted, before Rust 1.73)."""
    match = _PANIC.match(text)
    if not match:
        return text, {}
    quoted, _location, rest = match.groups()
    error: Fields = {"type": "panic"}
    message = quoted if quoted is not None else (rest.partition("\n")[0] if rest else None)
    if message is not None:
        error["message"] = message
    if "\n" in text:
        error["stack_trace"] = text
    return text, {"log": {"level": "ERROR"}, "error": error}


# Rust's tracing pads its level to five characters: " INFO", " WARN" start with a space, the others not.
TRACING = Family("Rust: tracing", _tracing_line, starts=("ERROR ", "DEBUG ", "TRACE ", " INFO ", " WARN "),
                 first=DIGITS)
ENV_LOGGER = Family("Rust: env_logger (the Lambda Insights agent)", _env_logger_line, first="[")
PANIC_LINE = Family("Rust: panic", _panic_line, starts=(PANIC,), continues=CONTINUATION)
