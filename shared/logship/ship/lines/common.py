"""What every line family shares: levels, the request id, and ``error.*`` from text, JSON and stack traces."""

from __future__ import annotations

import json
import math
import re
from typing import Any

import orjson

from logship.ship.lines.dotnet import LEVELS as DOTNET_LEVELS

Fields = dict[str, Any]

LEVELS = {
    "TRACE": "TRACE", "DEBUG": "DEBUG", "INFO": "INFO", "NOTICE": "INFO", "LOG": "INFO",
    "WARN": "WARN", "WARNING": "WARN", "ERROR": "ERROR", "ERR": "ERROR", "SEVERE": "ERROR",
    "VERBOSE": "TRACE", "FATAL": "FATAL", "CRITICAL": "FATAL", "EMERGENCY": "FATAL", "ALERT": "FATAL",
    **DOTNET_LEVELS,
}
# Go's slog names a level between its four by its offset from one of them: "WARN-2", "ERROR+4".
_OFFSET_LEVEL = re.compile(r"(DEBUG|INFO|WARN|ERROR)[+-]\d+$", re.I)
# pino and bunyan log numeric levels.
_NUMERIC_LEVELS = {10: "TRACE", 20: "DEBUG", 30: "INFO", 40: "WARN", 50: "ERROR", 60: "FATAL"}

# "SomeError: message" (Python, Node, Ruby's class names, Java's and .NET's qualified names, Runtime.*Error).
# Node's plain "Error: boom" too.
EXCEPTION = re.compile(
    r"((?:[A-Za-z_$][\w$.]*)?(?:Error|Exception|Exit|Timeout|Interrupt|Throwable)\w*)(?:: ?(.*))?$")
TRACEBACK = "Traceback (most recent call last):"  # how Python starts a printed stack
# A line that starts a stack trace inside one multi-line event: the exception line, then a frame.
_STACK_START = re.compile(
    r"^([A-Za-z_$][\w$.]*(?:Error|Exception|Throwable)\w*)(?::[ \t]*([^\n]*))?\n(?=[ \t]*(?:at |---> |\.\.\. \d))",
    re.M)


# Every digit as "0", everything else as a space: a run of 19 digits may be an integer past 64 bits, which
# orjson would read as a float; the stdlib keeps it exact.
_DIGITS_ONLY = bytes(48 if 48 <= byte <= 57 else 32 for byte in range(256))
_LONG_NUMBER = b"0" * 19


class NonFinite(float):
    """NaN or an infinity read from a line. No JSON holds one, and orjson refuses to write this type (it would
    write a plain NaN as null), so a document holding one goes to the stdlib's encoder, which refuses it too:
    the sink keeps the line without its fields (``unencodable``). Every non-finite number the parsers make is
    one of these: orjson reads none, the stdlib's reading and the text parsers mark theirs."""


def finite_or_marked(value: float) -> float:
    return value if math.isfinite(value) else NonFinite(value)


def _stdlib_loads(text: str) -> Any:
    return json.loads(text, parse_float=lambda number: finite_or_marked(float(number)), parse_constant=NonFinite)


def loads_json(text: str) -> Any:
    """``json.loads`` of a line, at orjson's speed where orjson reads it exactly as the stdlib does (and any NaN
    or infinity as :class:`NonFinite`).

    Raises ValueError (or RecursionError) like ``json.loads``.
    """
    try:
        data = text.encode()
    except UnicodeEncodeError:  # a lone surrogate (a cut emoji): orjson refuses it
        return _stdlib_loads(text)
    if data.translate(_DIGITS_ONLY).find(_LONG_NUMBER) < 0:
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError:  # NaN, 1e999, escaped lone surrogates, deep nesting: the stdlib's reading
            pass
    return _stdlib_loads(text)


def normalize_level(raw: Any) -> str | None:
    """``warning`` -> ``WARN``, ``CRITICAL`` -> ``FATAL``, pino's ``50`` -> ``ERROR``, slog's ``ERROR+2`` -> ``ERROR``;
    unknown -> None."""
    if isinstance(raw, str):
        found = LEVELS.get(raw) or LEVELS.get(raw.strip().upper())  # most lines say "INFO": no copies
        if found is None and ("+" in raw or "-" in raw):
            match = _OFFSET_LEVEL.match(raw)
            return LEVELS.get(match[1].upper()) if match else None
        return found
    if isinstance(raw, int) and not isinstance(raw, bool):
        return _NUMERIC_LEVELS.get(raw)
    return None


def execution(fields: Fields, request_id: str) -> None:
    fields.setdefault("faas", {})["execution"] = request_id


def set_level(fields: Fields, level: str | None) -> None:
    """The line's own level wins over a prefix's: ``setdefault``."""
    normalized = normalize_level(level)
    if normalized:
        fields.setdefault("log", {}).setdefault("level", normalized)


def error_from_text(body: str, fields: Fields) -> None:
    """Python tracebacks, ``SomeError: message`` first lines and Java/.NET stacks in one event -> ``error.*``."""
    first, _, rest = body.partition("\n")
    if not rest and (":" not in first or ("Error" not in first and "Exception" not in first)):
        return  # one line that cannot be "SomeError: message" (nor "...Exception: ..."): nothing to find
    match = EXCEPTION.match(first)
    traceback_at = body.find(TRACEBACK) if rest else -1
    if traceback_at >= 0:
        stack = body[traceback_at:]
        last = stack.rstrip().rsplit("\n", 1)[-1]
        tail = EXCEPTION.match(last)
        error = {"stack_trace": stack}
        if tail:
            error.update(type=tail[1], message=tail[2] or "")
        elif match:
            error.update(type=match[1], message=match[2] or "")
        fields["error"] = error
        return
    if rest:
        start = _STACK_START.search(body)
        if start:
            fields["error"] = {"type": start[1], "message": start[2] or "", "stack_trace": body[start.start():]}
            return
    if match and match[2] is not None and (rest or match[1].endswith(("Error", "Exception"))):
        fields["error"] = {"type": match[1], "message": match[2]}


def _frame(entry: Any) -> str:
    """A stack entry as text: Python 2.7/3.6 ``[file, line, function, code]``, aws-lambda-go ``{path, line, label}``."""
    if isinstance(entry, str):
        return entry
    if isinstance(entry, list) and len(entry) == 4:
        return f'  File "{entry[0]}", line {entry[1]}, in {entry[2]}\n    {entry[3]}'
    if isinstance(entry, dict) and "path" in entry:
        return f"{entry.get('label', '')}\n\t{entry['path']}:{entry.get('line', '')}"
    return json.dumps(entry, default=str)


def stack_text(value: Any) -> str | None:
    if isinstance(value, list):
        return "\n".join(_frame(entry) for entry in value)
    return value if isinstance(value, str) else None


def _first(value: dict[str, Any], keys: tuple[str, ...]) -> Any:
    for key in keys:
        found = value.get(key)
        if found:
            return found
    return None


_TYPE_KEYS = ("errorType", "exception_name", "error_type", "name", "type")
_MESSAGE_KEYS = ("errorMessage", "error_message", "message")
_STACK_KEYS = ("stackTrace", "stack", "stack_trace", "trace")


def _is_error_object(value: Any) -> bool:
    return isinstance(value, dict) and any(key in value for key in ("message", "stack", "name", "type", "errorType"))


# Every key promote_error reads: a record with none of them (most records) has no error to promote.
_ERROR_KEYS = frozenset(("error", "err", "errorType", "exception_name", "error_type", "errorMessage", "error_message",
                         "stackTrace", "stack", "exception", "stack-trace"))


def promote_error(value: dict[str, Any], fields: Fields) -> None:
    """Error keys of a JSON record (Lambda's own, Powertools, pino/bunyan ``err``, winston ``stack``) -> ``error.*``;
    a record without any, whose ``meta`` object has them (winston's ``logger.error(message, {meta: ...})``,
    express-winston), gets those."""
    if _ERROR_KEYS.isdisjoint(value):
        if "meta" in value and isinstance(value["meta"], dict) and not _ERROR_KEYS.isdisjoint(value["meta"]):
            promote_error({key: v for key, v in value["meta"].items() if key != "meta"}, fields)
        return
    # Powertools for TypeScript, pino and bunyan serialize errors as an object under "error" or "err".
    nested = value.get("error") or value.get("err")
    if isinstance(nested, dict) and not _is_error_object(nested):
        nested = value.get("err")
    if isinstance(nested, dict) and _is_error_object(nested):
        error_type, error_message, stack = (_first(nested, _TYPE_KEYS), _first(nested, _MESSAGE_KEYS),
                                            stack_text(_first(nested, _STACK_KEYS)))
    else:
        error_type = value.get("errorType") or value.get("exception_name") or value.get("error_type")
        # Go's slog and zap log an error as its text: "err": "open x: no such file or directory".
        error_message = (value.get("errorMessage") or value.get("error_message")
                         or (nested if isinstance(nested, str) else None))
        stack = stack_text(value.get("stackTrace") or value.get("stack") or value.get("exception")
                           or value.get("stack-trace"))
    if isinstance(stack, str) and stack:
        last = stack.rstrip().rsplit("\n", 1)[-1]
        if not error_message and isinstance(error_type, str) and last.startswith(error_type):
            error_message = last.partition(": ")[2] or None  # Powertools: the traceback ends "Type: message"
        if not error_type:  # winston's errors({stack: true}): the stack's first line is "TypeError: message"
            head = EXCEPTION.match(stack.partition("\n")[0])
            if head:
                error_type, error_message = head[1], error_message or head[2]
    error = {k: v for k, v in (("type", error_type), ("message", error_message), ("stack_trace", stack))
             if isinstance(v, str) and v}
    if error:
        fields["error"] = {**fields.get("error", {}), **error}


def error_object(body: str, fields: Fields) -> None:
    """The JSON after a runtime's error prefix (``Invoke Error``, ``Uncaught Exception``, ``Error raised ...``)."""
    start = body.find("{")
    if start < 0:
        return
    try:
        value = loads_json(body[start:])
    except (ValueError, RecursionError):
        return
    if isinstance(value, dict):
        promote_error(value, fields)
